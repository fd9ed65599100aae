import * as tf from '@tensorflow/tfjs-core';
import { requireGradients } from './gradient-kernels';

/**
 * `a @ b` for rank ≥ 2 tensors whose gradient transposes explicitly instead of calling
 * matMul with transposeA/transposeB. On the wasm backend a transposed matMul is 7–10× slower
 * than a plain one (measured: 256³ 1.9 ms vs 13–22 ms), and the default backward pass uses it.
 */
const matMulExplicitTranspose = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved;
      return [product(dy, swapLast(sb)), product(swapLast(sa), dy)];
    },
  };
  // biome-ignore lint/suspicious/noExplicitAny: see above
}) as any) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** `a @ b` with the explicitly transposing gradient above. */
export function matMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  // Every trained symseq model multiplies here: say what to import before tf.grad fails obscurely.
  requireGradients('matMul');
  return matMulExplicitTranspose(a, b);
}

/**
 * `a @ b`; when the contracted axis has size 1 (an outer product, as in the gradient of one-query
 * attention) a broadcasting multiply instead: each output is the single product a·b either way, so
 * the result is bit-identical, and tfjs-wasm's batched matMul runs such shapes ~3× slower
 * (measured [256,4,64,1]·[256,4,1,32]: 9.4 vs 3.5 ms).
 */
function product(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return a.shape[a.rank - 1] === 1 && b.rank === a.rank ? tf.mul(a, b) : tf.matMul(a, b);
}

/**
 * Transposes the last two axes. A matrix [R, C] goes through the rank-3 permutation
 * [2, R/2, C] → [C, 2, R/2] (the same bytes as [C, R]): tfjs-wasm's rank-2 transpose is 10–14×
 * slower than its rank-3 one at the trainer's sizes (measured [16384, 384]: 78 vs 7.9 ms;
 * [1024, 768]: 5.3 vs 0.8 ms). A transpose only moves values, so the result is identical.
 */
export function swapLast(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  if (r === 2) {
    const [rows, cols] = x.shape as [number, number];
    if (rows % 2 === 0 && rows >= 64 && cols > 1) {
      return tf.reshape(tf.transpose(tf.reshape(x, [2, rows / 2, cols]), [2, 0, 1]), [cols, rows]);
    }
    if (cols % 2 === 0 && cols >= 64 && rows > 1) {
      return tf.reshape(tf.transpose(tf.reshape(x, [rows, 2, cols / 2]), [1, 2, 0]), [cols, rows]);
    }
  }
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(x, perm);
}

/**
 * Σ over every axis but the last of `x` [..., C] → [C]: the gradient of adding or scaling by a
 * per-channel vector. Summed as the rows of the transposed [C, N] matrix, because tfjs-wasm's Sum
 * over a leading axis transposes through its slow rank-2 path first (measured [16384, 128]: 22 ms
 * vs 2.5 ms); the additions run in the same order, row by row.
 */
export function sumLeading(x: tf.Tensor): tf.Tensor1D {
  const c = x.shape[x.rank - 1];
  return tf.tidy(() => tf.sum(swapLast(tf.reshape(x, [-1, c])), -1)) as tf.Tensor1D;
}

const addChannelsOp = tf.customGrad(((x: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([]);
  return { value: tf.add(x, b), gradFunc: (dy: tf.Tensor) => [dy, sumLeading(dy)] };
  // biome-ignore lint/suspicious/noExplicitAny: tfjs-core's customGrad typing takes one tensor list
}) as any) as (x: tf.Tensor, b: tf.Tensor) => tf.Tensor;

const mulChannelsOp = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.mul(x, w),
    gradFunc: (dy: tf.Tensor, [sx, sw]: tf.Tensor[]) => [tf.mul(dy, sw), sumLeading(tf.mul(dy, sx))],
  };
  // biome-ignore lint/suspicious/noExplicitAny: as above
}) as any) as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;

function assertChannels(x: tf.Tensor, v: tf.Tensor, what: string): void {
  if (v.rank !== 1 || v.shape[0] !== x.shape[x.rank - 1]) {
    throw new Error(
      `${what}: expected a vector of ${x.shape[x.rank - 1]} channels for input [${x.shape}], got [${v.shape}]`,
    );
  }
}

/** `x [..., C] + b [C]` whose gradient for `b` is sumLeading (see there). */
export function addChannels(x: tf.Tensor, b: tf.Tensor): tf.Tensor {
  assertChannels(x, b, 'addChannels');
  return addChannelsOp(x, b);
}

/** `x [..., C] · w [C]` whose gradient for `w` is sumLeading (see there). */
export function mulChannels(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  assertChannels(x, w, 'mulChannels');
  return mulChannelsOp(x, w);
}

/**
 * `x @ w` for data `x` that needs no gradient (teacher tokens): only `w` is differentiated, so the
 * backward pass skips the input gradient (a [rows, in] matMul: 34 ms a step for the cpu preset's
 * 16,384 token rows on wasm).
 */
function matMulConstantInput(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  requireGradients('matMul');
  const f = tf.customGrad(((wv: tf.Tensor, save: tf.GradSaveFunc) => {
    // x is saved (kept) rather than closed over: it may be an intermediate of the caller's tidy.
    save([x]);
    return {
      value: tf.matMul(x, wv),
      gradFunc: (dy: tf.Tensor, [sx]: tf.Tensor[]) => [tf.matMul(swapLast(sx), dy)],
    };
    // biome-ignore lint/suspicious/noExplicitAny: tfjs-core's customGrad typing
  }) as any) as (w: tf.Tensor) => tf.Tensor;
  return f(w);
}

export interface DenseOptions {
  /** false: `x` is data (no gradient flows back into it), so its gradient is not computed. Default true. */
  inputGrad?: boolean;
}

/** `x [..., in] @ w [in, out]` for any leading shape, through a rank-2 matMul. */
export function dense(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor, opts: DenseOptions = {}): tf.Tensor {
  const inDim = x.shape[x.rank - 1];
  if (inDim !== w.shape[0]) {
    throw new Error(`dense: input has ${inDim} features, weight expects ${w.shape[0]} (weight [${w.shape}])`);
  }
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1);
    const x2 = x.rank === 2 ? x : tf.reshape(x, [-1, inDim]);
    const y = opts.inputGrad === false ? matMulConstantInput(x2, w) : matMul(x2, w);
    const yb = b ? addChannels(y, b) : y;
    return x.rank === 2 ? yb : tf.reshape(yb, [...lead, w.shape[1] as number]);
  });
}
