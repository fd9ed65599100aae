import { assertRank } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';

/** What the symbol tensors hold: unnormalised logits or probabilities (rows summing to 1). */
export type SymbolScoreKind = 'logits' | 'probs';

export interface SymbolEntropyOptions {
  /** Default `logits`. */
  input?: SymbolScoreKind;
  /** Floor inside log() for probabilities (exact zeros of hard one-hots). Default 1e-8. */
  eps?: number;
}

/** Entropies (in nats) of per-step symbol distributions [B, L, V] (or [B, V], one position). */
export interface SymbolEntropies {
  /** mean over positions l of H(mean_b p[b, l, :]): how much of the vocabulary the batch uses. */
  marginal: tf.Scalar;
  /** mean over samples and positions of H(p[b, l, :]): how unsure each single choice is. */
  perSample: tf.Scalar;
}

/**
 * Marginal and per-sample symbol entropies. From logits the per-sample entropy is exact
 * (log-softmax); probabilities use log(max(p, eps)), which is exact for p ≥ eps.
 */
export function symbolEntropies(symbols: tf.Tensor, options: SymbolEntropyOptions = {}): SymbolEntropies {
  const input = options.input ?? 'logits';
  const eps = options.eps ?? 1e-8;
  if (input !== 'logits' && input !== 'probs')
    throw new Error(`symbolEntropies: input must be 'logits' or 'probs', got '${String(input)}'`);
  if (!(eps > 0 && eps < 1)) throw new Error(`symbolEntropies: eps must be in (0, 1), got ${eps}`);
  assertRank(symbols, [2, 3], 'symbolEntropies: symbols (expected [batch, length, vocab] or [batch, vocab])');
  if (symbols.shape.some((d) => d === 0))
    throw new Error(`symbolEntropies: symbols shape [${symbols.shape.join(', ')}] has an empty axis`);
  return tf.tidy(() => {
    const x = symbols.rank === 2 ? tf.expandDims(symbols, 1) : symbols;
    const p = input === 'logits' ? tf.softmax(x, -1) : x;
    const logP = input === 'logits' ? tf.logSoftmax(x, -1) : tf.log(tf.maximum(p, eps));
    const perSample = tf.neg(tf.mean(tf.sum(tf.mul(p, logP), -1))) as tf.Scalar;
    const m = tf.mean(p, 0); // [L, V]
    const marginal = tf.neg(tf.mean(tf.sum(tf.mul(m, tf.log(tf.maximum(m, eps))), -1))) as tf.Scalar;
    return { marginal, perSample };
  });
}
