import type * as tf from '@tensorflow/tfjs-core';
import { FeatureRegressionLoss, featureRegressionConfigSchema } from './feature-regression';
import type { ObjectiveContext, ObjectiveSpec } from './objective';
import { PooledFeatureObjective } from './pooled-feature-objective';

/**
 * Regression of the teacher's pooled features (cosine by default): the projector's output [B, D]
 * of every prefix matches the target view's pooled features. Stateless; K = the pooled size.
 */
export class FeaturesObjective extends PooledFeatureObjective {
  readonly kind = 'features';
  private readonly criterion: FeatureRegressionLoss;

  constructor(options: { kind?: 'cosine' | 'mse'; eps?: number }, ctx: ObjectiveContext) {
    super(ctx);
    this.criterion = new FeatureRegressionLoss(options);
  }

  protected prefixLoss(student: tf.Tensor, pooled: tf.Tensor2D): tf.Scalar {
    return this.criterion.compute(student, pooled);
  }
}

export const featuresObjective: ObjectiveSpec<typeof featureRegressionConfigSchema> = {
  options: featureRegressionConfigSchema,
  describe: 'cosine (or mse) regression of the teacher pooled features',
  create: (options, ctx) => new FeaturesObjective(options, ctx),
};
