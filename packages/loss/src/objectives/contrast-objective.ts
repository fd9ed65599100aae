import { isHostTensor, l2Normalize, matMul, type StateDict, stopGradient, swapLast } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { MultiLengthResult } from '../multi-length';
import type { FirstSymbolInput, ObjectiveContext, ObjectiveSpec } from '../objective';
import { PooledFeatureObjective } from '../pooled-feature-objective';
import { assertMatrix, assertSameShape } from '../shape';

export const contrastObjectiveConfigSchema = z
  .object({
    /** τ_c of the InfoNCE logits ŝ·t̂ᵀ / τ_c (tools/research/RECIPE.md measured 0.1). */
    temperature: z.number().positive().max(10).default(0.1),
    /**
     * Subtract the training set's mean pooled feature from the targets before normalising: the
     * component every image shares carries no contrast, and without it the targets' cosines spread
     * over [−1, 1] instead of bunching near 1 (the student's k-NN is unchanged in kind: its own embeddings).
     */
    center: z.boolean().default(false),
    /**
     * Score prefix length 1 by its exact expectation over the first symbol
     * (expectedFirstSymbolContrast) instead of through the straight-through one-hot: every image is
     * scored under each of the V one-symbol sequences, weighted by softmax of symbol 1's logits. The
     * trainer then passes `FirstSymbolInput` to `loss`. Needs 1 among the lengths and a logit
     * discretizer (temperature or gumbel).
     */
    exactFirstSymbol: z.boolean().default(false),
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
    // An explicit transpose: tfjs-wasm's transposeB matMul is ~9× slower at [256, 768]².
    const logits = tf.div(matMul(s, swapLast(t)), temperature) as tf.Tensor2D;
    // The positives: the diagonal of logits, ŝ_b·t̂_b / τ.
    const positives = tf.div(tf.sum(tf.mul(s, t), -1), temperature);
    const rows = tf.mean(tf.sub(logSumExpRows(logits), positives));
    const cols = tf.mean(tf.sub(logSumExpRows(swapLast(logits) as tf.Tensor2D), positives));
    return tf.mul(0.5, tf.add(rows, cols)) as tf.Scalar;
  });
}

/**
 * The row direction of contrastiveFeatureLoss for one-symbol prefixes, as its exact expectation
 * over the first symbol. A one-symbol sequence is the same for every image, so the projector output
 * of symbol c is one row e_c of `symbolProjections` [V, K]. Had image i written c, its InfoNCE row
 * would be ℓ_ic = logsumexp_j(ê_c·t̂_j / τ) − ê_c·t̂_i / τ (the batch's teachers t̂_j as negatives).
 * The loss is mean_i Σ_c p_ic ℓ_ic with `probs` p [B, V] (rows sum to 1). Its gradient w.r.t. p is
 * ℓ itself, so the decoder learns which symbol explains image i best among all V, where the
 * straight-through estimator only sees the one it wrote; and every symbol's e_c is trained on the
 * images that would pick it, as in a k-means step. The teacher gets no gradient.
 */
export function expectedFirstSymbolContrast(
  symbolProjections: tf.Tensor,
  probs: tf.Tensor,
  teacher: tf.Tensor,
  temperature: number,
): tf.Scalar {
  assertMatrix(symbolProjections, 'expectedFirstSymbolContrast: symbolProjections');
  assertMatrix(probs, 'expectedFirstSymbolContrast: probs');
  assertMatrix(teacher, 'expectedFirstSymbolContrast: teacher');
  const [v, k] = symbolProjections.shape;
  const [b, pv] = probs.shape;
  if (pv !== v)
    throw new Error(
      `expectedFirstSymbolContrast: probs [${probs.shape.join(', ')}] must have one column per symbol (${v}, the rows of symbolProjections)`,
    );
  if (teacher.shape[0] !== b || teacher.shape[1] !== k)
    throw new Error(
      `expectedFirstSymbolContrast: teacher [${teacher.shape.join(', ')}] must be [${b}, ${k}] (probs' rows, symbolProjections' width)`,
    );
  if (!(temperature > 0))
    throw new Error(`expectedFirstSymbolContrast: temperature must be > 0, got ${temperature}`);
  return tf.tidy(() => {
    const e = l2Normalize(symbolProjections);
    const t = l2Normalize(stopGradient(teacher));
    const scores = tf.div(matMul(e, swapLast(t)), temperature) as tf.Tensor2D; // [V, B]
    // ℓ [V, B] = logsumexp over the batch (per symbol) − the image's own score.
    const rowLoss = tf.sub(tf.reshape(logSumExpRows(scores), [v, 1]), scores);
    return tf.div(tf.sum(tf.mul(swapLast(rowLoss), probs)), b) as tf.Scalar;
  });
}

/**
 * log Σ_j exp(x_ij) over the last axis, shifted by the row maximum, with its gradient written out
 * (dy · softmax(x)): tf.logSumExp's tape also differentiates its max (Equal masks over the whole
 * matrix, ~3 ms each at [256, 256] on wasm) although that term cancels exactly.
 */
const logSumExpRows = tf.customGrad(((x: tf.Tensor2D, save: tf.GradSaveFunc) => {
  const m = tf.max(x, -1, true);
  const lse = tf.add(m, tf.log(tf.sum(tf.exp(tf.sub(x, m)), -1, true)));
  save([x, lse]);
  return {
    value: tf.reshape(lse, [-1]),
    gradFunc: (dy: tf.Tensor, [sx, slse]: tf.Tensor[]) =>
      tf.mul(tf.reshape(dy, [-1, 1]), tf.exp(tf.sub(sx, slse))),
  };
  // biome-ignore lint/suspicious/noExplicitAny: tfjs-core's customGrad typing
}) as any) as (x: tf.Tensor2D) => tf.Tensor1D;

/**
 * `contrast`: every prefix's projector output [B, D] is matched to its own image's pooled teacher
 * feature against the other images of the batch (contrastiveFeatureLoss). Stateless; K = the
 * pooled size. The negatives are the whole batch, so data-parallel replicas score it whole (`wholeBatch`).
 */
export class ContrastObjective extends PooledFeatureObjective {
  readonly kind = 'contrast';
  readonly wholeBatch = true;
  readonly temperature: number;
  /** Length 1 is scored by expectedFirstSymbolContrast (the trainer passes `FirstSymbolInput`). */
  readonly usesFirstSymbol: boolean;
  /** The training set's mean pooled feature [D], subtracted from the targets (`center`). */
  private centre?: tf.Tensor1D;

  constructor(options: ContrastObjectiveConfig, ctx: ObjectiveContext) {
    const { temperature, center, exactFirstSymbol } = contrastObjectiveConfigSchema.parse(options);
    super(ctx);
    this.temperature = temperature;
    this.usesFirstSymbol = exactFirstSymbol;
    if (exactFirstSymbol && !this.lengths.includes(1)) {
      throw new Error(
        `ContrastObjective: exactFirstSymbol scores prefix length 1, but the lengths are [${this.lengths.join(', ')}]`,
      );
    }
    if (center) {
      const saved = ctx.resume?.center;
      let mean: Float32Array;
      if (ctx.resume) {
        if (!isHostTensor(saved))
          throw new Error("contrast objective state: 'center' is missing or not a tensor");
        mean = saved.data;
      } else {
        if (!ctx.pooledMean)
          throw new Error('ContrastObjective: center needs the pooled mean (ctx.pooledMean)');
        mean = ctx.pooledMean();
      }
      if (mean.length !== this.outDim || !mean.every(Number.isFinite)) {
        throw new Error(
          `ContrastObjective: the centre must be ${this.outDim} finite values (the pooled size), got ${mean.length}`,
        );
      }
      this.centre = tf.keep(tf.tensor1d(mean));
    }
  }

  protected prefixLoss(student: tf.Tensor, pooled: tf.Tensor2D): tf.Scalar {
    if (!this.centre) return contrastiveFeatureLoss(student, pooled, this.temperature);
    const centre = this.centre;
    return tf.tidy(() => contrastiveFeatureLoss(student, tf.sub(pooled, centre), this.temperature));
  }

  override loss(
    projections: Map<number, tf.Tensor>,
    pooled: tf.Tensor2D,
    first?: FirstSymbolInput,
  ): MultiLengthResult {
    if (!this.usesFirstSymbol) return super.loss(projections, pooled);
    if (!first) {
      throw new Error(
        "contrast objective: exactFirstSymbol is on, so loss() needs the first symbol's probabilities and one-symbol projections (FirstSymbolInput)",
      );
    }
    const centre = this.centre;
    return this.multi.aggregate(projections, (s, length) =>
      length === 1
        ? tf.tidy(() =>
            expectedFirstSymbolContrast(
              first.projections,
              first.probs,
              centre ? tf.sub(pooled, centre) : pooled,
              this.temperature,
            ),
          )
        : this.prefixLoss(s, pooled),
    );
  }

  override state(): StateDict {
    if (!this.centre) return {};
    return { center: { shape: [this.outDim], data: new Float32Array(this.centre.dataSync()) } };
  }

  override load(state: StateDict, source = 'contrast objective state'): void {
    if (!this.centre) return;
    const c = state.center;
    if (!isHostTensor(c) || c.data.length !== this.outDim) {
      throw new Error(`${source}: 'center' is missing or not ${this.outDim} values`);
    }
    this.centre.dispose();
    this.centre = tf.keep(tf.tensor1d(c.data));
  }

  override dispose(): void {
    this.centre?.dispose();
  }
}

export const contrastObjective: ObjectiveSpec<typeof contrastObjectiveConfigSchema> = {
  options: contrastObjectiveConfigSchema,
  describe: 'symmetric in-batch InfoNCE between the normalised student output and teacher pooled feature',
  create: (options, ctx) => new ContrastObjective(options, ctx),
};
