import * as tf from '@tensorflow/tfjs-core';

/** Exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)), as torch.nn.GELU() and DINO's ViT use. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
}
