import { parseConfig, stopGradient } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { assertMatrix, assertSameShape } from './shape';

/**
 * Mean over the batch of 1 − cos(student_b, teacher_b), with cos = s·t / sqrt(max(|s|²|t|², eps²))
 * (torch's `F.cosine_similarity`). Inputs [B, D]; the teacher gets no gradient.
 */
export function cosineFeatureLoss(student: tf.Tensor, teacher: tf.Tensor, eps = 1e-8): tf.Scalar {
  checkPair(student, teacher, 'cosineFeatureLoss');
  return tf.tidy(() => {
    const t = stopGradient(teacher);
    const dot = tf.sum(tf.mul(student, t), -1);
    const norms = tf.mul(tf.sum(tf.square(student), -1), tf.sum(tf.square(t), -1));
    const cos = tf.div(dot, tf.sqrt(tf.maximum(norms, eps * eps)));
    return tf.mean(tf.sub(1, cos)) as tf.Scalar;
  });
}

/** Mean over all elements of (student − teacher)² (torch's `F.mse_loss`). Inputs [B, D]; the teacher gets no gradient. */
export function mseFeatureLoss(student: tf.Tensor, teacher: tf.Tensor): tf.Scalar {
  checkPair(student, teacher, 'mseFeatureLoss');
  return tf.tidy(() => tf.mean(tf.square(tf.sub(student, stopGradient(teacher)))) as tf.Scalar);
}

export const featureRegressionConfigSchema = z
  .object({
    /** `cosine`: 1 − cosine similarity (scale-free); `mse`: mean squared error. */
    kind: z.enum(['cosine', 'mse']).default('cosine'),
    /** Lower bound on |s|·|t| for `cosine`. */
    eps: z.number().positive().default(1e-8),
  })
  .strict();

export type FeatureRegressionConfig = z.input<typeof featureRegressionConfigSchema>;

/**
 * Matches the teacher's pooled features directly, for teachers without a DINO head: the
 * student's projector outputs [B, D] regress the teacher's pooled features [B, D].
 */
export class FeatureRegressionLoss {
  readonly config: z.output<typeof featureRegressionConfigSchema>;

  constructor(config: FeatureRegressionConfig = {}) {
    this.config = parseConfig(featureRegressionConfigSchema, config, 'FeatureRegressionLoss config');
  }

  compute(student: tf.Tensor, teacher: tf.Tensor): tf.Scalar {
    return this.config.kind === 'cosine'
      ? cosineFeatureLoss(student, teacher, this.config.eps)
      : mseFeatureLoss(student, teacher);
  }
}

function checkPair(student: tf.Tensor, teacher: tf.Tensor, owner: string): void {
  assertMatrix(student, `${owner}: student features`);
  assertMatrix(teacher, `${owner}: teacher features`);
  assertSameShape(student, 'student features', teacher, 'teacher features', owner);
}
