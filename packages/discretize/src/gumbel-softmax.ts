import { assertPositive, parseConfig, Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { BatchShard, DiscretizeOptions, Discretizer, DiscretizerOutput, Mode } from './discretizer';
import { LogitDiscretizer } from './logit-discretizer';
import { relaxedOneHot } from './relaxed-one-hot';
import { TemperatureSchema } from './schedule';
import { usageStats } from './stats';
import { checkInput, checkMode } from './validate';

export interface GumbelSoftmaxOptions {
  /** Source of the Gumbel noise (required in train mode). */
  rng?: Rng;
  /** τ > 0; default 1. */
  temperature?: number;
  /** Straight-through hard one-hot (default true) or the relaxed sample. */
  hard?: boolean;
  mode?: Mode;
  stats?: boolean;
  /** Reject NaN/Inf logits (default true). */
  checkFinite?: boolean;
  /**
   * `logits` are rows `offset …` of a batch of `total` rows (a data-parallel replica's part): the
   * noise of the whole batch is drawn and these rows of it used, so the parts together get exactly
   * the draws of the whole batch and `rng` advances as it would.
   */
  noiseRows?: { offset: number; total: number };
}

/** A tensor of standard Gumbel draws −log(−log U) from `rng`, in row-major order. */
export function sampleGumbel(shape: number[], rng: Rng): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.fill(size, 'gumbel'), shape, 'float32');
}

/** Gumbel draws for `shape`, or for rows `offset … offset + shape[0]` of a batch of `total` rows. */
function gumbelNoise(shape: number[], rng: Rng, rows?: { offset: number; total: number }): tf.Tensor {
  if (!rows) return sampleGumbel(shape, rng);
  const n = shape[0];
  const { offset, total } = rows;
  if (!(Number.isInteger(offset) && Number.isInteger(total) && offset >= 0 && offset + n <= total)) {
    throw new Error(
      `gumbelSoftmax: noiseRows {offset: ${offset}, total: ${total}} do not hold the ${n} rows of the logits`,
    );
  }
  const perRow = shape.slice(1).reduce((a, b) => a * b, 1);
  const all = rng.fill(total * perRow, 'gumbel');
  return tf.tensor(all.subarray(offset * perRow, (offset + n) * perRow), shape, 'float32');
}

/**
 * Gumbel-softmax (Jang et al. 2017; Maddison et al. 2017) over the last axis of `logits` [..., V].
 *
 * Train mode: g ~ Gumbel(0, 1) from `rng` (one draw per logit, row-major), y = softmax((logits + g)/τ).
 * - soft (`hard: false`): output = y, exact gradient of the relaxed sample.
 * - hard (default): output = one-hot(argmax(logits + g)) exactly, a sample from softmax(logits);
 *   gradient estimator: straight-through, i.e. backward is exactly the gradient of y (same noise).
 * Inference mode: no noise, output = one-hot(argmax logits).
 *
 * indices = the argmax (int32 [...]); auxLoss = 0.
 */
export function gumbelSoftmax(logits: tf.Tensor, opts: GumbelSoftmaxOptions = {}): DiscretizerOutput {
  const what = 'gumbelSoftmax';
  const mode = checkMode(opts.mode, what);
  const temperature = opts.temperature ?? 1;
  assertPositive(temperature, `${what}: temperature`);
  checkInput(logits, what, { lastName: 'V', checkFinite: opts.checkFinite ?? true });
  let result: { indices: tf.Tensor; output: tf.Tensor };
  if (mode === 'inference') {
    result = relaxedOneHot(logits, temperature, true);
  } else {
    const rng = opts.rng;
    if (!rng || typeof rng.fill !== 'function') {
      throw new Error(`${what}: train mode needs an Rng for the Gumbel noise (opts.rng)`);
    }
    result = tf.tidy(() => {
      const scores = tf.add(logits, gumbelNoise(logits.shape, rng, opts.noiseRows));
      return relaxedOneHot(scores, temperature, opts.hard ?? true);
    });
  }
  const out: DiscretizerOutput = { ...result, auxLoss: tf.scalar(0) };
  if (opts.stats) out.stats = usageStats(result.indices, logits.shape[logits.rank - 1]);
  return out;
}

const RngSchema = z.custom<Rng>(
  (v) => typeof v === 'object' && v !== null && typeof (v as Rng).fill === 'function',
  'expected an Rng from @symseq/nn',
);

export const GumbelSoftmaxConfigSchema = z
  .object({
    /** V, the number of symbols (last axis of the logits). */
    numCodes: z.number().int().min(2),
    /** A number or a schedule ({ kind, start, end, steps }); default 1. */
    temperature: TemperatureSchema.default(1),
    hard: z.boolean().default(true),
    /** Noise source; give this or `seed`. */
    rng: RngSchema.optional(),
    /** Seed for a private Rng when `rng` is not given. */
    seed: z.number().int().optional(),
    checkFinite: z.boolean().default(true),
  })
  .strict()
  .refine((c) => (c.rng === undefined) !== (c.seed === undefined), {
    message: 'give exactly one of rng (an Rng) or seed (an integer)',
  });
export type GumbelSoftmaxConfig = z.input<typeof GumbelSoftmaxConfigSchema>;

/**
 * {@link gumbelSoftmax} as a {@link Discretizer} with a fixed V, its own noise stream and an
 * optional temperature schedule. `rng` is public so a trainer can checkpoint its state.
 */
export class GumbelSoftmax extends LogitDiscretizer {
  readonly config: Omit<z.output<typeof GumbelSoftmaxConfigSchema>, 'rng'>;
  readonly rng: Rng;
  /** A data-parallel replica's part of the batch: its noise is those rows of the whole batch's. */
  batchShard?: BatchShard;

  constructor(config: GumbelSoftmaxConfig) {
    const { rng, ...rest } = parseConfig(GumbelSoftmaxConfigSchema, config, 'GumbelSoftmax config');
    super(rest.numCodes, rest.temperature, 'GumbelSoftmax');
    this.config = rest;
    this.rng = rng ?? new Rng(rest.seed as number);
  }

  discretize(logits: tf.Tensor, opts: DiscretizeOptions = {}): DiscretizerOutput {
    const mode = checkMode(opts.mode, this.what);
    checkInput(logits, this.what, {
      lastDim: this.numCodes,
      lastName: 'V',
      checkFinite: this.config.checkFinite,
    });
    const shard = this.batchShard;
    return gumbelSoftmax(logits, {
      rng: this.rng,
      noiseRows: shard && { offset: shard.offset, total: shard.total },
      temperature: mode === 'inference' && opts.step === undefined ? 1 : this.temperatureAt(opts.step),
      hard: this.config.hard,
      mode,
      stats: opts.stats,
      checkFinite: false,
    });
  }
}
