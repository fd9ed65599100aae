import * as tf from '@tensorflow/tfjs-core';

/** Throws `${what}: expected rank ${rank}, got shape [...]`. */
export function assertRank(x: tf.Tensor, rank: number | number[], what: string): void {
  const ranks = Array.isArray(rank) ? rank : [rank];
  if (!ranks.includes(x.rank)) {
    throw new Error(
      `${what}: expected a tensor of rank ${ranks.join(' or ')}, got shape [${x.shape.join(', ')}]`,
    );
  }
}

/** Throws unless the last axis has size `n`. */
export function assertLastDim(x: tf.Tensor, n: number, what: string): void {
  if (x.shape[x.rank - 1] !== n) {
    throw new Error(`${what}: expected last dimension ${n}, got shape [${x.shape.join(', ')}]`);
  }
}

/**
 * Throws if `x` holds NaN or ±Inf. Reads the tensor back synchronously, so use it at API
 * boundaries (inputs from users), not inside training inner loops.
 */
export function assertFinite(x: tf.Tensor, what: string): void {
  const bad = tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(x))).dataSync()[0]);
  if (bad) throw new Error(`${what}: contains non-finite values (NaN or Inf)`);
}

/** Throws unless `v` is a finite number > 0. */
export function assertPositive(v: number, what: string): void {
  if (!(Number.isFinite(v) && v > 0)) throw new Error(`${what}: must be a finite number > 0, got ${v}`);
}
