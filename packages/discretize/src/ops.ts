import * as tf from '@tensorflow/tfjs-core';

/**
 * Float32 one-hot of int32 indices. Built as an int32 one-hot then cast: the wasm OneHot kernel
 * writes int32 values whatever dtype is requested.
 */
export function oneHotFloat(indices: tf.Tensor, depth: number): tf.Tensor {
  return tf.tidy(() => tf.cast(tf.oneHot(indices, depth), 'float32'));
}

/** Squared L2 distances between rows of `a` [N, D] and rows of `b` [K, D] → [N, K]. Not differentiable-optimised. */
export function squaredDistances(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const aa = tf.sum(tf.square(a), -1, true);
    const bb = tf.reshape(tf.sum(tf.square(b), -1), [1, -1]);
    const ab = tf.matMul(a, tf.transpose(b));
    return tf.maximum(tf.sub(tf.add(aa, bb), tf.mul(ab, 2)), 0);
  });
}
