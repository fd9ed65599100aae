import { assertPositive, parseConfig } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { DiscretizeOptions, Discretizer, DiscretizerOutput, Mode } from './discretizer';
import { LogitDiscretizer } from './logit-discretizer';
import { relaxedOneHot } from './relaxed-one-hot';
import { TemperatureSchema } from './schedule';
import { usageStats } from './stats';
import { checkInput, checkMode } from './validate';

export interface TemperatureSoftmaxOptions {
  /** τ > 0; default 1. */
  temperature?: number;
  /** Straight-through hard one-hot (default true) or the soft probabilities. */
  hard?: boolean;
  mode?: Mode;
  stats?: boolean;
  /** Reject NaN/Inf logits (default true; reads one boolean back from the device). */
  checkFinite?: boolean;
}

/**
 * Temperature softmax over the last axis of `logits` [..., V].
 *
 * - soft (`hard: false`, train mode): output = softmax(logits/τ), the exact gradient.
 * - hard (default, and always in inference mode): output = one-hot(argmax logits), exactly;
 *   gradient estimator: straight-through, i.e. backward is exactly the gradient of softmax(logits/τ).
 *
 * indices = argmax(logits) (int32 [...]); auxLoss = 0.
 */
export function temperatureSoftmax(
  logits: tf.Tensor,
  opts: TemperatureSoftmaxOptions = {},
): DiscretizerOutput {
  const what = 'temperatureSoftmax';
  const mode = checkMode(opts.mode, what);
  const temperature = opts.temperature ?? 1;
  assertPositive(temperature, `${what}: temperature`);
  checkInput(logits, what, { lastName: 'V', checkFinite: opts.checkFinite ?? true });
  const hard = mode === 'inference' || (opts.hard ?? true);
  const { indices, output } = relaxedOneHot(logits, temperature, hard);
  const out: DiscretizerOutput = { indices, output, auxLoss: tf.scalar(0) };
  if (opts.stats) out.stats = usageStats(indices, logits.shape[logits.rank - 1]);
  return out;
}

export const TemperatureSoftmaxConfigSchema = z
  .object({
    /** V, the number of symbols (last axis of the logits). */
    numCodes: z.number().int().min(2),
    /** A number or a schedule ({ kind, start, end, steps }); default 1. */
    temperature: TemperatureSchema.default(1),
    hard: z.boolean().default(true),
    checkFinite: z.boolean().default(true),
  })
  .strict();
export type TemperatureSoftmaxConfig = z.input<typeof TemperatureSoftmaxConfigSchema>;

/** {@link temperatureSoftmax} as a {@link Discretizer} with a fixed V and an optional temperature schedule. */
export class TemperatureSoftmax extends LogitDiscretizer {
  readonly config: z.output<typeof TemperatureSoftmaxConfigSchema>;

  constructor(config: TemperatureSoftmaxConfig) {
    const c = parseConfig(TemperatureSoftmaxConfigSchema, config, 'TemperatureSoftmax config');
    super(c.numCodes, c.temperature, 'TemperatureSoftmax');
    this.config = c;
  }

  discretize(logits: tf.Tensor, opts: DiscretizeOptions = {}): DiscretizerOutput {
    checkMode(opts.mode, this.what);
    checkInput(logits, this.what, {
      lastDim: this.numCodes,
      lastName: 'V',
      checkFinite: this.config.checkFinite,
    });
    return temperatureSoftmax(logits, {
      temperature: this.temperatureAt(opts.step),
      hard: this.config.hard,
      mode: opts.mode,
      stats: opts.stats,
      checkFinite: false,
    });
  }
}
