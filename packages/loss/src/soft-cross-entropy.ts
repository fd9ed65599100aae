import { assertPositive } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { assertMatrix, assertSameShape } from './shape';

/**
 * DINO's cross-entropy `mean_b( −Σ_k p_t[b,k] · log_softmax(s[b] / τ_s)_k )`: targets are
 * probabilities [B, K] (rows summing to 1), student are logits [B, K]; returns a scalar.
 */
export function softCrossEntropy(
  targets: tf.Tensor,
  studentLogits: tf.Tensor,
  studentTemp: number,
): tf.Scalar {
  assertMatrix(targets, 'softCrossEntropy: targets');
  assertMatrix(studentLogits, 'softCrossEntropy: student logits');
  assertSameShape(studentLogits, 'student logits', targets, 'teacher targets', 'softCrossEntropy');
  assertPositive(studentTemp, 'softCrossEntropy: studentTemp');
  return tf.tidy(() => {
    const logProbs = tf.logSoftmax(tf.div(studentLogits, studentTemp), -1);
    const perSample = tf.neg(tf.sum(tf.mul(targets, logProbs), -1));
    return tf.mean(perSample) as tf.Scalar;
  });
}
