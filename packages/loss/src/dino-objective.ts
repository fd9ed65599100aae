import { isHostTensor, l2Normalize, type StateDict } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { DinoLoss, dinoLossConfigSchema } from './dino-loss';
import { MultiLengthLoss, type MultiLengthResult } from './multi-length';
import type { Objective, ObjectiveContext, ObjectiveSpec, TeacherBatch } from './objective';

/** DINO's options without the head width, which the objective's `prototypes` sets. */
export const dinoObjectiveConfigSchema = dinoLossConfigSchema.omit({ outDim: true });

export interface DinoTargets {
  /** Teacher head logits [B, K] (for the centre update). */
  logits: tf.Tensor2D;
  /** Centred, sharpened teacher distribution [B, K]. */
  probs: tf.Tensor2D;
}

/** Cosine similarity of L2-normalised pooled features to each prototype: logits in [-1, 1], as DINO's head gives. */
export function prototypeLogits(pooled: tf.Tensor, head: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(l2Normalize(pooled), head, false, true) as tf.Tensor2D);
}

/**
 * DINO self-distillation on a frozen teacher head: teacher logits = cosine of the pooled features
 * to K prototypes; targets = softmax((logits − centre) / τ_t); each prefix's projector output gets
 * the cross-entropy at τ_s; the centre follows the logits by EMA after the step. State: the centre
 * and the head.
 */
export class DinoObjective implements Objective<DinoTargets> {
  readonly kind = 'dino';
  readonly outDim: number;
  readonly lengths: readonly number[];
  private readonly multi: MultiLengthLoss;
  private readonly dino: DinoLoss;
  private head: tf.Tensor2D;

  constructor(
    options: Omit<import('./dino-loss').DinoLossConfig, 'outDim'>,
    ctx: ObjectiveContext,
    prototypes: number,
  ) {
    this.outDim = prototypes;
    this.multi = new MultiLengthLoss({ lengths: ctx.lengths, weights: ctx.weights });
    this.lengths = this.multi.lengths;
    this.dino = new DinoLoss({ ...options, outDim: prototypes });
    const saved = ctx.resume?.teacherHead;
    if (isHostTensor(saved)) {
      this.head = tf.keep(tf.tensor2d(saved.data, [saved.shape[0], saved.shape[1]]));
    } else {
      if (!ctx.prototypes) throw new Error('DinoObjective: needs a teacher head (ctx.prototypes)');
      this.head = tf.keep(ctx.prototypes(prototypes));
    }
    if (this.head.shape[0] !== prototypes || this.head.shape[1] !== ctx.pooledDim) {
      const shape = this.head.shape;
      this.head.dispose();
      this.dino.dispose();
      throw new Error(
        `DinoObjective: teacher head is [${shape.join(', ')}], expected [${prototypes}, ${ctx.pooledDim}] (prototypes × pooled size)`,
      );
    }
    if (ctx.resume) this.load(ctx.resume);
  }

  /** The teacher's logits, once per step: for the targets now and the centre update after. */
  targets(teacher: TeacherBatch, step: number): DinoTargets {
    const logits = prototypeLogits(teacher.pooled, this.head);
    return { logits, probs: this.dino.teacherTargets(logits, step) };
  }

  loss(projections: Map<number, tf.Tensor>, targets: DinoTargets): MultiLengthResult {
    return this.multi.aggregate(projections, (s) => this.dino.crossEntropy(targets.probs, s));
  }

  update(targets: DinoTargets): void {
    this.dino.updateCenter(targets.logits);
  }

  disposeTargets(targets: DinoTargets): void {
    tf.dispose([targets.logits, targets.probs]);
  }

  state(): StateDict {
    return {
      center: this.dino.getCenter(),
      teacherHead: { shape: [...this.head.shape], data: new Float32Array(this.head.dataSync()) },
    };
  }

  load(state: StateDict, source = 'dino objective state'): void {
    const c = state.center;
    if (!isHostTensor(c)) throw new Error(`${source}: 'center' is missing or not a tensor`);
    this.dino.setCenter(c);
    const h = state.teacherHead;
    if (h !== undefined) {
      if (!isHostTensor(h) || h.data.length !== this.head.size) {
        throw new Error(`${source}: 'teacherHead' must be a [${this.head.shape.join(', ')}] tensor`);
      }
      const next = tf.keep(tf.tensor2d(h.data, this.head.shape));
      this.head.dispose();
      this.head = next;
    }
  }

  dispose(): void {
    this.dino.dispose();
    this.head.dispose();
  }
}

export const dinoObjective: ObjectiveSpec<typeof dinoObjectiveConfigSchema> = {
  options: dinoObjectiveConfigSchema,
  describe: 'DINO cross-entropy to a frozen teacher head of `prototypes` outputs',
  create: (options, ctx, extra) => new DinoObjective(options, ctx, extra.prototypes),
};
