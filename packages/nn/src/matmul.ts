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
      return [tf.matMul(dy, swapLast(sb)), tf.matMul(swapLast(sa), dy)];
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

/** Transposes the last two axes. */
export function swapLast(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(x, perm);
}

/** `x [..., in] @ w [in, out]` for any leading shape, through a rank-2 matMul. */
export function dense(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const inDim = x.shape[x.rank - 1];
  if (inDim !== w.shape[0]) {
    throw new Error(`dense: input has ${inDim} features, weight expects ${w.shape[0]} (weight [${w.shape}])`);
  }
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1);
    const y = matMul(x.rank === 2 ? x : tf.reshape(x, [-1, inDim]), w);
    const yb = b ? tf.add(y, b) : y;
    return x.rank === 2 ? yb : tf.reshape(yb, [...lead, w.shape[1] as number]);
  });
}
