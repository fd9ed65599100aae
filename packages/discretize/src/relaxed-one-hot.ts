import * as tf from '@tensorflow/tfjs-core';
import { noGrad, straightThrough } from './gradients';
import { oneHotFloat } from './ops';

/**
 * softmax(scores / τ) and, when `hard`, its straight-through one-hot: forward exactly
 * one-hot(argmax scores), backward exactly the gradient of softmax(scores / τ).
 * Shared by the temperature softmax (scores = logits) and Gumbel-softmax (scores = logits + g).
 */
export function relaxedOneHot(
  scores: tf.Tensor,
  temperature: number,
  hard: boolean,
): { indices: tf.Tensor; output: tf.Tensor } {
  return tf.tidy(() => {
    const numCodes = scores.shape[scores.rank - 1];
    const indices = noGrad(() => tf.argMax(scores, -1));
    const soft = tf.softmax(tf.div(scores, temperature));
    const output = hard ? straightThrough(soft, oneHotFloat(indices, numCodes)) : soft;
    return { indices, output };
  });
}
