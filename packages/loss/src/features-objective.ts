import type { StateDict } from '@symseq/nn';
import type * as tf from '@tensorflow/tfjs-core';
import { FeatureRegressionLoss, featureRegressionConfigSchema } from './feature-regression';
import { MultiLengthLoss, type MultiLengthResult } from './multi-length';
import type { Objective, ObjectiveContext, ObjectiveSpec, TeacherBatch } from './objective';

/**
 * Regression of the teacher's pooled features (cosine by default): the projector's output [B, D]
 * of every prefix matches the target view's pooled features. Stateless; K = the pooled size.
 */
export class FeaturesObjective implements Objective<tf.Tensor2D> {
  readonly kind = 'features';
  readonly outDim: number;
  readonly lengths: readonly number[];
  private readonly multi: MultiLengthLoss;
  private readonly criterion: FeatureRegressionLoss;

  constructor(options: { kind?: 'cosine' | 'mse'; eps?: number }, ctx: ObjectiveContext) {
    this.multi = new MultiLengthLoss({ lengths: ctx.lengths, weights: ctx.weights });
    this.lengths = this.multi.lengths;
    this.criterion = new FeatureRegressionLoss(options);
    this.outDim = ctx.pooledDim;
  }

  targets(teacher: TeacherBatch): tf.Tensor2D {
    return teacher.pooled;
  }

  loss(projections: Map<number, tf.Tensor>, pooled: tf.Tensor2D): MultiLengthResult {
    return this.multi.aggregate(projections, (s) => this.criterion.compute(s, pooled));
  }

  update(): void {}

  /** The targets are the caller's own pooled tensor: nothing to free. */
  disposeTargets(): void {}

  state(): StateDict {
    return {};
  }

  load(): void {}

  dispose(): void {}
}

export const featuresObjective: ObjectiveSpec<typeof featureRegressionConfigSchema> = {
  options: featureRegressionConfigSchema,
  describe: 'cosine (or mse) regression of the teacher pooled features',
  create: (options, ctx) => new FeaturesObjective(options, ctx),
};
