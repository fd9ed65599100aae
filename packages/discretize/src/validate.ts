import { assertFinite, assertLastDim } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Checks a discretizer input at the API boundary: a float32 tensor of rank ≥ 2 (`[..., lastName]`),
 * non-empty, last axis `lastDim` when given, and (when `checkFinite`) free of NaN/Inf.
 */
export function checkInput(
  x: unknown,
  what: string,
  opts: { lastDim?: number; lastName: string; checkFinite: boolean },
): asserts x is tf.Tensor {
  if (!(x instanceof tf.Tensor)) throw new Error(`${what}: input must be a tf.Tensor, got ${describe(x)}`);
  if (x.rank < 2) {
    throw new Error(
      `${what}: expected a tensor of rank ≥ 2 ([..., ${opts.lastName}]), got shape [${x.shape.join(', ')}]`,
    );
  }
  if (x.dtype !== 'float32') throw new Error(`${what}: expected a float32 tensor, got ${x.dtype}`);
  if (x.size === 0) throw new Error(`${what}: input is empty (shape [${x.shape.join(', ')}])`);
  if (opts.lastDim !== undefined) assertLastDim(x, opts.lastDim, `${what}: input ([..., ${opts.lastName}])`);
  if (opts.checkFinite) assertFinite(x, `${what}: input`);
}

/** Checks a `mode` option given at run time (TypeScript users are checked by the compiler, JS users are not). */
export function checkMode(mode: unknown, what: string): 'train' | 'inference' {
  const m = mode ?? 'train';
  if (m !== 'train' && m !== 'inference') {
    throw new Error(`${what}: mode must be 'train' or 'inference', got ${JSON.stringify(mode)}`);
  }
  return m;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x;
}
