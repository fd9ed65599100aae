import { l2Normalize, stopGradient } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { ObjectiveContext, ObjectiveSpec } from '../objective';
import { PooledFeatureObjective } from '../pooled-feature-objective';
import { assertMatrix, assertSameShape } from '../shape';

export const contrastObjectiveConfigSchema = z
  .object({
    /** τ_c of the InfoNCE logits ŝ·t̂ᵀ / τ_c (tools/research/RECIPE.md measured 0.1). */
    temperature: z.number().positive().max(10).default(0.1),
  })
  .strict();

export type ContrastObjectiveConfig = z.input<typeof contrastObjectiveConfigSchema>;

/**
 * Symmetric in-batch InfoNCE (CLIP's loss) between the L2-normalised student outputs ŝ [B, D] and
 * teacher features t̂ [B, D]: logits = ŝ t̂ᵀ / τ, loss = ½ (CE(logits, arange B) + CE(logitsᵀ, arange B)),
 * each CE the mean over rows of logsumexp(row) − diagonal. The other images of the batch are the
 * negatives, so unlike cosine regression it rewards outputs that tell images apart. The teacher gets
 * no gradient.
 */
export function contrastiveFeatureLoss(
  student: tf.Tensor,
  teacher: tf.Tensor,
  temperature: number,
): tf.Scalar {
  assertMatrix(student, 'contrastiveFeatureLoss: student features');
  assertMatrix(teacher, 'contrastiveFeatureLoss: teacher features');
  assertSameShape(student, 'student features', teacher, 'teacher features', 'contrastiveFeatureLoss');
  if (!(temperature > 0))
    throw new Error(`contrastiveFeatureLoss: temperature must be > 0, got ${temperature}`);
  return tf.tidy(() => {
    const s = l2Normalize(student);
    const t = l2Normalize(stopGradient(teacher));
    const logits = tf.div(tf.matMul(s, t, false, true), temperature) as tf.Tensor2D;
    // The positives: the diagonal of logits, ŝ_b·t̂_b / τ.
    const positives = tf.div(tf.sum(tf.mul(s, t), -1), temperature);
    const rows = tf.mean(tf.sub(tf.logSumExp(logits, 1), positives));
    const cols = tf.mean(tf.sub(tf.logSumExp(logits, 0), positives));
    return tf.mul(0.5, tf.add(rows, cols)) as tf.Scalar;
  });
}

/**
 * `contrast`: every prefix's projector output [B, D] is matched to its own image's pooled teacher
 * feature against the other images of the batch (contrastiveFeatureLoss). Stateless; K = the
 * pooled size. Batch-dependent: data-parallel replicas would each see only their part as negatives.
 */
export class ContrastObjective extends PooledFeatureObjective {
  readonly kind = 'contrast';
  readonly temperature: number;

  constructor(options: ContrastObjectiveConfig, ctx: ObjectiveContext) {
    const { temperature } = contrastObjectiveConfigSchema.parse(options);
    super(ctx);
    this.temperature = temperature;
  }

  protected prefixLoss(student: tf.Tensor, pooled: tf.Tensor2D): tf.Scalar {
    return contrastiveFeatureLoss(student, pooled, this.temperature);
  }
}

export const contrastObjective: ObjectiveSpec<typeof contrastObjectiveConfigSchema> = {
  options: contrastObjectiveConfigSchema,
  describe: 'symmetric in-batch InfoNCE between the normalised student output and teacher pooled feature',
  create: (options, ctx) => new ContrastObjective(options, ctx),
};
