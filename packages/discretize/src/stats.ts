import * as tf from '@tensorflow/tfjs-core';

export interface UsageStats {
  /** `histogram[k]` = how many positions chose code k. */
  histogram: number[];
  /** exp(entropy) of the usage distribution: 1 when one code is used, `numCodes` when all are used equally. 0 for no indices. */
  perplexity: number;
  /** Number of codes used at least once. */
  usedCodes: number;
  /** Number of indices counted. */
  total: number;
}

/**
 * Code usage histogram and perplexity of a set of indices (int32 tensor or plain numbers).
 * Reads a tensor back synchronously: call it for logging, not in every inner step.
 */
export function usageStats(indices: tf.Tensor | ArrayLike<number>, numCodes: number): UsageStats {
  if (!(Number.isInteger(numCodes) && numCodes > 0)) {
    throw new Error(`usageStats: numCodes must be a positive integer, got ${numCodes}`);
  }
  let values: ArrayLike<number>;
  if (indices instanceof tf.Tensor) {
    if (indices.dtype !== 'int32')
      throw new Error(`usageStats: indices must be an int32 tensor, got ${indices.dtype}`);
    values = indices.dataSync();
  } else {
    values = indices;
  }
  const histogram = new Array<number>(numCodes).fill(0);
  for (let i = 0; i < values.length; i++) {
    const k = values[i];
    if (!(Number.isInteger(k) && k >= 0 && k < numCodes)) {
      throw new Error(`usageStats: index ${k} at position ${i} is outside [0, ${numCodes})`);
    }
    histogram[k]++;
  }
  const total = values.length;
  let entropy = 0;
  let usedCodes = 0;
  for (const c of histogram) {
    if (c > 0) {
      const p = c / total;
      entropy -= p * Math.log(p);
      usedCodes++;
    }
  }
  return { histogram, perplexity: total > 0 ? Math.exp(entropy) : 0, usedCodes, total };
}
