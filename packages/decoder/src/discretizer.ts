import type * as tf from '@tensorflow/tfjs-core';

/** `train`: stochastic / straight-through, running state updates; `inference`: hard argmax or nearest code, no noise. */
export type Mode = 'train' | 'inference';

/**
 * The part of a @symseq/discretize `Discretizer` the student relies on (their classes satisfy it
 * structurally): input `[..., inputDim]` (V logits, or a D-vector for VQ/FSQ), output
 * `[..., outputDim]` (a one-hot over the `numCodes` symbols, or a code vector), int32 indices and a
 * scalar auxiliary loss. The caller owns the returned tensors.
 */
export interface SymbolDiscretizer {
  readonly numCodes: number;
  readonly inputDim: number;
  readonly outputDim: number;
  discretize(
    x: tf.Tensor,
    opts?: { mode?: Mode; step?: number },
  ): { indices: tf.Tensor; output: tf.Tensor; auxLoss: tf.Tensor };
}

/**
 * Whether the discretizer emits one-hots over its symbols (fed back through an embedding table)
 * rather than code vectors (fed back through a Linear). Inferred from the sizes unless given.
 */
export function emitsOneHot(d: SymbolDiscretizer, oneHot?: boolean): boolean {
  return oneHot ?? (d.inputDim === d.numCodes && d.outputDim === d.numCodes);
}
