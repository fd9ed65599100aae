import { init, Linear, type ParamScope, parseConfig } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { DiscretizeOptions, Discretizer, DiscretizerOutput } from './discretizer';
import { noGrad, roundStraightThrough } from './gradients';
import { usageStats } from './stats';
import { checkInput, checkMode } from './validate';

export const FSQConfigSchema = z
  .object({
    /** Number of levels per code dimension, e.g. [8, 5, 5, 5] (1000 codes); each ≥ 2. */
    levels: z.array(z.number().int().min(2)).min(1),
    /** Input/output size D; when it differs from levels.length, learned projections map D → d → D. */
    dim: z.number().int().positive().optional(),
    /** Margin of the bound h = (L − 1)(1 + eps)/2 (1e-3 as the paper); eps·(L − 1) < 1 keeps ẑ on the L levels. */
    eps: z.number().min(0).lt(1).default(1e-3),
    checkFinite: z.boolean().default(true),
  })
  .strict()
  .refine((c) => c.eps * (Math.max(...c.levels) - 1) < 1, {
    message: 'eps · (largest level − 1) must be < 1, or the bound reaches past the outermost level',
    path: ['eps'],
  })
  .refine((c) => c.levels.reduce((a, b) => a * b, 1) <= 2 ** 31 - 1, {
    message: 'the product of levels (number of codes) must fit in int32',
    path: ['levels'],
  });
export type FSQConfig = z.input<typeof FSQConfigSchema>;

/**
 * Finite scalar quantization (Mentzer et al. 2023), codebook-free. Each of d = levels.length
 * dimensions is bounded, ẑ_i = tanh(z_i + shift_i)·h_i − offset_i with h_i = (L_i − 1)(1 + eps)/2,
 * offset_i = 0.5 for even L_i (else 0), shift_i = atanh(offset_i / h_i) (so z = 0 maps to 0; with the
 * paper's (1 − eps) h < offset for L = 2 and atanh is NaN, hence (1 + eps) as in lucidrains'
 * vector-quantize-pytorch; ẑ still rounds to the L_i levels only), then rounded to an integer
 * and divided by ⌊L_i/2⌋, so codes lie in [−1, 1]. index = Σ digit_i·Π_{j<i} L_j (mixed radix),
 * digit_i = round(ẑ_i) + ⌊L_i/2⌋ ∈ [0, L_i).
 * Gradient estimator: straight-through rounding (d round/dx = 1), so dL/dz = dL/dcode·h_i(1 − tanh²)/⌊L_i/2⌋.
 * No state, no noise: train and inference are identical; auxLoss = 0.
 */
export class FSQ implements Discretizer {
  readonly emits = 'vector';
  readonly config: z.output<typeof FSQConfigSchema>;
  readonly levels: number[];
  readonly numCodes: number;
  readonly projectIn?: Linear;
  readonly projectOut?: Linear;
  private readonly halfL: tf.Tensor1D;
  private readonly offset: tf.Tensor1D;
  private readonly shift: tf.Tensor1D;
  private readonly halfWidth: tf.Tensor1D;
  private readonly basis: tf.Tensor1D;
  private readonly levelsT: tf.Tensor1D;

  /** `scope` is needed only when `dim` differs from levels.length (for the projections). */
  constructor(config: FSQConfig, scope?: ParamScope) {
    this.config = parseConfig(FSQConfigSchema, config, 'FSQ config');
    const L = this.config.levels;
    const eps = this.config.eps;
    this.levels = [...L];
    this.numCodes = L.reduce((a, b) => a * b, 1);
    const d = L.length;
    const dim = this.config.dim ?? d;
    if (dim !== d) {
      if (!scope) {
        throw new Error(
          `FSQ: dim ${dim} differs from levels.length ${d}, so a ParamScope is needed for the projections`,
        );
      }
      this.projectIn = new Linear(scope.scope('projectIn'), dim, d, { init: init.xavierUniform });
      this.projectOut = new Linear(scope.scope('projectOut'), d, dim, { init: init.xavierUniform });
    }
    const halfL = L.map((l) => ((l - 1) * (1 + eps)) / 2);
    const offset = L.map((l) => (l % 2 === 0 ? 0.5 : 0));
    const basis: number[] = [];
    let acc = 1;
    for (const l of L) {
      basis.push(acc);
      acc *= l;
    }
    this.halfL = tf.keep(tf.tensor1d(halfL));
    this.offset = tf.keep(tf.tensor1d(offset));
    this.shift = tf.keep(tf.tensor1d(offset.map((o, i) => Math.atanh(o / halfL[i]))));
    this.halfWidth = tf.keep(tf.tensor1d(L.map((l) => Math.floor(l / 2))));
    this.basis = tf.keep(tf.tensor1d(basis, 'int32'));
    this.levelsT = tf.keep(tf.tensor1d(L, 'int32'));
  }

  get inputDim(): number {
    return this.config.dim ?? this.levels.length;
  }
  get outputDim(): number {
    return this.inputDim;
  }

  discretize(x: tf.Tensor, opts: DiscretizeOptions = {}): DiscretizerOutput {
    const what = 'FSQ';
    checkMode(opts.mode, what);
    checkInput(x, what, { lastDim: this.inputDim, lastName: 'D', checkFinite: this.config.checkFinite });
    const result = tf.tidy(() => {
      const z = this.projectIn ? this.projectIn.apply(x) : x;
      const bounded = tf.sub(tf.mul(tf.tanh(tf.add(z, this.shift)), this.halfL), this.offset);
      const rounded = roundStraightThrough(bounded);
      const codes = tf.div(rounded, this.halfWidth);
      const indices = noGrad(() => this.digitsToIndices(tf.add(rounded, this.halfWidth)));
      const output = this.projectOut ? this.projectOut.apply(codes) : codes;
      return { indices, output, auxLoss: tf.scalar(0) };
    });
    const out: DiscretizerOutput = result;
    if (opts.stats) out.stats = usageStats(result.indices, this.numCodes);
    return out;
  }

  /** Codes [..., d] (values k/⌊L_i/2⌋ on each level grid) → int32 indices [...]. */
  codesToIndices(codes: tf.Tensor): tf.Tensor {
    if (codes.rank < 1 || codes.shape[codes.rank - 1] !== this.levels.length) {
      throw new Error(
        `FSQ.codesToIndices: expected codes [..., ${this.levels.length}], got [${codes.shape.join(', ')}]`,
      );
    }
    return tf.tidy(() => this.digitsToIndices(tf.add(tf.mul(codes, this.halfWidth), this.halfWidth)));
  }

  /** int32 indices [...] in [0, numCodes) → codes [..., d] in [−1, 1]. */
  indicesToCodes(indices: tf.Tensor): tf.Tensor {
    if (indices.dtype !== 'int32')
      throw new Error(`FSQ.indicesToCodes: indices must be int32, got ${indices.dtype}`);
    return tf.tidy(() => {
      const digits = tf.mod(tf.floorDiv(tf.expandDims(indices, -1), this.basis), this.levelsT);
      return tf.div(tf.sub(tf.cast(digits, 'float32'), this.halfWidth), this.halfWidth);
    });
  }

  /** Output vectors (after projectOut) for int32 indices [...] → [..., D]. */
  lookup(indices: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const codes = this.indicesToCodes(indices);
      return this.projectOut ? this.projectOut.apply(codes) : codes;
    });
  }

  dispose(): void {
    for (const t of [this.halfL, this.offset, this.shift, this.halfWidth, this.basis, this.levelsT])
      t.dispose();
  }

  /** Digits (floats holding integers in [0, L_i)) → Σ digit_i·basis_i as int32. */
  private digitsToIndices(digits: tf.Tensor): tf.Tensor {
    const asInt = tf.cast(tf.round(digits), 'int32');
    return tf.sum(tf.mul(asInt, this.basis), -1);
  }
}
