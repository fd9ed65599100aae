import { assertLastDim, type HostTensor, parseConfig, stopGradient } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { assertMatrix, assertSameShape } from './shape';
import { softCrossEntropy } from './soft-cross-entropy';
import { teacherTemperatureAt } from './temperature-schedule';
import { pairedViewLoss, type ViewPairing } from './view-pairing';

/** Defaults are DINO's command-line defaults (main_dino.py). */
export const dinoLossConfigSchema = z
  .object({
    /** K, the width of the teacher and student head outputs. */
    outDim: z.number().int().positive(),
    /** τ_s: the student logits are divided by it before the softmax. */
    studentTemp: z.number().positive().default(0.1),
    /** τ_t after the warm-up. DINO recommends 0.04–0.07. */
    teacherTemp: z.number().positive().default(0.04),
    /** τ_t at step 0 of the linear warm-up. */
    warmupTeacherTemp: z.number().positive().default(0.04),
    /** Length of the warm-up in steps (DINO: epochs). 0 means no warm-up. */
    warmupTeacherTempSteps: z.number().int().nonnegative().default(0),
    /** EMA momentum m of the centre: c ← m·c + (1 − m)·mean(teacher logits). */
    centerMomentum: z.number().min(0).max(1).default(0.9),
  })
  .strict();

export type DinoLossConfig = z.input<typeof dinoLossConfigSchema>;
export type ResolvedDinoLossConfig = z.output<typeof dinoLossConfigSchema>;

/**
 * DINO's self-distillation loss (facebookresearch/dino `DINOLoss`): teacher logits are centred by
 * an EMA centre and sharpened by a warmed-up temperature into targets
 * p_t = softmax((t − c) / τ_t) (no gradient); the loss is the cross-entropy
 * −Σ p_t · log_softmax(s / τ_s), averaged over the batch. The centre is updated from the
 * teacher logits of the batch after the loss is computed, as in DINO.
 */
export class DinoLoss {
  readonly config: ResolvedDinoLossConfig;
  private center: tf.Tensor2D;

  constructor(config: DinoLossConfig) {
    this.config = parseConfig(dinoLossConfigSchema, config, 'DinoLoss config');
    this.center = tf.keep(tf.zeros([1, this.config.outDim]));
  }

  /** τ_t at `step` (an integer ≥ 0, in the unit of `warmupTeacherTempSteps`). */
  teacherTemperature(step: number): number {
    return teacherTemperatureAt(step, this.config);
  }

  /** Centred, sharpened teacher distribution softmax((t − c) / τ_t) [B, K], with zero gradient. */
  teacherTargets(teacherLogits: tf.Tensor, step: number): tf.Tensor2D {
    this.checkLogits(teacherLogits, 'teacher logits');
    const temp = this.teacherTemperature(step);
    return tf.tidy(
      () => stopGradient(tf.softmax(tf.div(tf.sub(teacherLogits, this.center), temp), -1)) as tf.Tensor2D,
    );
  }

  /** Cross-entropy of student logits [B, K] against teacher targets [B, K], mean over the batch. */
  crossEntropy(targets: tf.Tensor, studentLogits: tf.Tensor): tf.Scalar {
    this.checkLogits(studentLogits, 'student logits');
    assertSameShape(studentLogits, 'student logits', targets, 'teacher targets', 'DinoLoss');
    return softCrossEntropy(targets, studentLogits, this.config.studentTemp);
  }

  /** One student/teacher pair (e.g. student on view A, teacher on view B): loss, then centre update. */
  forward(studentLogits: tf.Tensor, teacherLogits: tf.Tensor, step: number): tf.Scalar {
    this.checkLogits(studentLogits, 'student logits');
    assertSameShape(studentLogits, 'student logits', teacherLogits, 'teacher logits', 'DinoLoss');
    const loss = tf.tidy(() => this.crossEntropy(this.teacherTargets(teacherLogits, step), studentLogits));
    this.updateCenter(teacherLogits);
    return loss;
  }

  /**
   * Several views, as DINO's forward: every teacher view gets targets from the same centre and
   * temperature, the loss is the mean over the view pairs (`cross`: student view i vs teacher view
   * j ≠ i, DINO's rule; `same`: i vs i), then the centre is updated from all teacher views together.
   */
  forwardViews(
    studentViews: tf.Tensor[],
    teacherViews: tf.Tensor[],
    step: number,
    pairing: ViewPairing = 'cross',
  ): tf.Scalar {
    if (studentViews.length === 0 || teacherViews.length === 0) {
      throw new Error(
        `DinoLoss: forwardViews needs at least one student and one teacher view, got ${studentViews.length} and ${teacherViews.length}`,
      );
    }
    for (const [i, s] of studentViews.entries()) this.checkLogits(s, `student view ${i} logits`);
    for (const [i, t] of teacherViews.entries()) this.checkLogits(t, `teacher view ${i} logits`);
    const loss = tf.tidy(() => {
      const targets = teacherViews.map((t) => this.teacherTargets(t, step));
      return pairedViewLoss(studentViews, targets, pairing, (s, q) => this.crossEntropy(q, s));
    });
    this.updateCenter(teacherViews);
    return loss;
  }

  /**
   * c ← m·c + (1 − m)·mean over all rows of the teacher logits (several views are pooled, as DINO
   * concatenates them). No gradient flows into or out of the centre.
   */
  updateCenter(teacherLogits: tf.Tensor | tf.Tensor[]): void {
    const views = Array.isArray(teacherLogits) ? teacherLogits : [teacherLogits];
    if (views.length === 0)
      throw new Error('DinoLoss: updateCenter needs at least one teacher logits tensor');
    for (const [i, t] of views.entries()) {
      this.checkLogits(t, views.length > 1 ? `teacher view ${i} logits` : 'teacher logits');
    }
    const m = this.config.centerMomentum;
    const next = tf.keep(
      tf.tidy(() => {
        const all = views.length === 1 ? views[0] : tf.concat(views, 0);
        const batchCenter = tf.mean(stopGradient(all), 0, true);
        return tf.add(tf.mul(this.center, m), tf.mul(batchCenter, 1 - m)) as tf.Tensor2D;
      }),
    );
    this.center.dispose();
    this.center = next;
  }

  /** The centre [1, K] as a host array, e.g. to store in a checkpoint. */
  getCenter(): HostTensor {
    return { shape: [1, this.config.outDim], data: new Float32Array(this.center.dataSync()) };
  }

  /** Restores the centre from `getCenter()` output (or any K numbers). */
  setCenter(center: HostTensor | ArrayLike<number>): void {
    const data = 'data' in center && 'shape' in center ? center.data : (center as ArrayLike<number>);
    const K = this.config.outDim;
    if ('shape' in center && 'data' in center) {
      const n = center.shape.reduce((a, b) => a * b, 1);
      if (n !== K || center.shape[center.shape.length - 1] !== K) {
        throw new Error(
          `DinoLoss: setCenter got shape [${center.shape.join(', ')}], expected [1, ${K}] (outDim)`,
        );
      }
    }
    if (data.length !== K)
      throw new Error(`DinoLoss: setCenter got ${data.length} values, expected ${K} (outDim)`);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]))
        throw new Error(`DinoLoss: setCenter value ${i} is ${data[i]}, expected a finite number`);
    }
    const next = tf.keep(tf.tensor2d(Float32Array.from(data), [1, K]));
    this.center.dispose();
    this.center = next;
  }

  /** Frees the centre tensor. */
  dispose(): void {
    this.center.dispose();
  }

  private checkLogits(x: tf.Tensor, what: string): void {
    assertMatrix(x, `DinoLoss: ${what}`);
    assertLastDim(x, this.config.outDim, `DinoLoss: ${what} (outDim)`);
  }
}
