import * as tf from '@tensorflow/tfjs-core';

/** The ε of `l2Normalize`: torch's `F.normalize` default. */
export const L2_NORMALIZE_EPS = 1e-12;

/**
 * x / max(‖x‖₂, 1e-12) along the last axis, as torch's `F.normalize(x, dim=-1)`. The norm is taken
 * as sqrt(max(Σx², ε²)): the same value for every non-negligible x, but the square root never sees
 * 0, so a zero vector gets a zero gradient instead of NaN.
 */
export function l2Normalize<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.maximum(tf.sum(tf.square(x), -1, true), L2_NORMALIZE_EPS * L2_NORMALIZE_EPS));
    return tf.div(x, norm) as T;
  });
}
