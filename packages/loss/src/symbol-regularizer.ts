import { parseConfig } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { symbolEntropies } from './symbol-entropy';

export const symbolRegularizerConfigSchema = z
  .object({
    /** Weight of the usage term −H(marginal): pushes the batch to use the whole vocabulary. */
    usageWeight: z.number().nonnegative().default(0),
    /** Weight of information maximisation H(per-sample) − H(marginal): confident per sample, diverse per batch. */
    infoMaxWeight: z.number().nonnegative().default(0),
    /** Whether the regularised tensor holds logits or probabilities. */
    input: z.enum(['logits', 'probs']).default('logits'),
    /** Floor inside log() for probabilities. */
    eps: z.number().positive().lt(1).default(1e-8),
  })
  .strict();

export type SymbolRegularizerConfig = z.input<typeof symbolRegularizerConfigSchema>;

export interface SymbolRegularizerResult {
  /** usageWeight · usage + infoMaxWeight · infoMax. */
  total: tf.Scalar;
  /** −H(marginal), unweighted. */
  usage: tf.Scalar;
  /** H(per-sample) − H(marginal), unweighted. */
  infoMax: tf.Scalar;
}

/**
 * The paper's exploration regularisers on per-step symbol distributions [B, L, V] (or [B, V]):
 * marginal symbol-usage entropy and information maximisation, both per position and averaged
 * over positions. Both are off (weight 0) unless configured.
 */
export class SymbolRegularizer {
  readonly config: z.output<typeof symbolRegularizerConfigSchema>;

  constructor(config: SymbolRegularizerConfig = {}) {
    this.config = parseConfig(symbolRegularizerConfigSchema, config, 'SymbolRegularizer config');
  }

  compute(symbols: tf.Tensor): SymbolRegularizerResult {
    const { input, eps, usageWeight, infoMaxWeight } = this.config;
    const { marginal, perSample } = symbolEntropies(symbols, { input, eps });
    const usage = tf.neg(marginal) as tf.Scalar;
    const infoMax = tf.sub(perSample, marginal) as tf.Scalar;
    const total = tf.tidy(
      () => tf.add(tf.mul(usage, usageWeight), tf.mul(infoMax, infoMaxWeight)) as tf.Scalar,
    );
    marginal.dispose();
    perSample.dispose();
    return { total, usage, infoMax };
  }
}

/** −H(marginal) of symbol distributions [B, L, V]: lower when the batch spreads over the vocabulary. */
export function usageLoss(
  symbols: tf.Tensor,
  options: { input?: 'logits' | 'probs'; eps?: number } = {},
): tf.Scalar {
  return tf.tidy(() => tf.neg(symbolEntropies(symbols, options).marginal) as tf.Scalar);
}

/** H(per-sample) − H(marginal) of symbol distributions [B, L, V]. */
export function infoMaxLoss(
  symbols: tf.Tensor,
  options: { input?: 'logits' | 'probs'; eps?: number } = {},
): tf.Scalar {
  return tf.tidy(() => {
    const { marginal, perSample } = symbolEntropies(symbols, options);
    return tf.sub(perSample, marginal) as tf.Scalar;
  });
}
