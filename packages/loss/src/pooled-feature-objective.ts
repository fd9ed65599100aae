import type { StateDict } from '@symseq/nn';
import type * as tf from '@tensorflow/tfjs-core';
import { MultiLengthLoss, type MultiLengthResult } from './multi-length';
import type { Objective, ObjectiveContext, TeacherBatch } from './objective';

/**
 * An objective whose target is the teacher's pooled feature [B, D] itself and whose loss is one
 * per-prefix criterion between the projector's output [B, D] and it, over the configured lengths.
 * Stateless; K = the pooled size. Subclasses give the kind and the criterion.
 */
export abstract class PooledFeatureObjective implements Objective<tf.Tensor2D> {
  abstract readonly kind: string;
  readonly outDim: number;
  readonly lengths: readonly number[];
  protected readonly multi: MultiLengthLoss;

  constructor(ctx: ObjectiveContext) {
    this.multi = new MultiLengthLoss({ lengths: ctx.lengths, weights: ctx.weights });
    this.lengths = this.multi.lengths;
    this.outDim = ctx.pooledDim;
  }

  /** The loss of one prefix's projector output [B, D] against the pooled teacher features. */
  protected abstract prefixLoss(student: tf.Tensor, pooled: tf.Tensor2D): tf.Scalar;

  targets(teacher: TeacherBatch): tf.Tensor2D {
    return teacher.pooled;
  }

  loss(projections: Map<number, tf.Tensor>, pooled: tf.Tensor2D): MultiLengthResult {
    return this.multi.aggregate(projections, (s) => this.prefixLoss(s, pooled));
  }

  update(): void {}

  /** The targets are the caller's own pooled tensor: nothing to free. */
  disposeTargets(): void {}

  state(): StateDict {
    return {};
  }

  load(_state: StateDict, _source?: string): void {}

  dispose(): void {}
}
