import * as tf from '@tensorflow/tfjs-core';

/**
 * The identity in the forward pass, a zero gradient in the backward pass (torch's `.detach()`).
 * DINO's teacher targets and regression targets are constants for the student update.
 */
export const stopGradient: <T extends tf.Tensor>(x: T) => T = tf.customGrad(
  // biome-ignore lint/suspicious/noExplicitAny: tf.customGrad passes tensors untyped
  ((x: tf.Tensor) => ({ value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as any,
) as <T extends tf.Tensor>(x: T) => T;
