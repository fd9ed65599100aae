import type * as tf from '@tensorflow/tfjs-core';
import type { UsageStats } from './stats';

/**
 * `train`: stochastic where the method is (Gumbel noise) and updates running state (EMA codebook,
 * k-means init, dead-code restart). `inference`: deterministic, noise-free, always hard, no state change.
 */
export type Mode = 'train' | 'inference';

export interface DiscretizeOptions {
  /** Default `train`. */
  mode?: Mode;
  /** Training step; required when the temperature is a schedule. */
  step?: number;
  /** Also return usage statistics (reads the indices back to the host, so it syncs). */
  stats?: boolean;
}

export interface DiscretizerStats extends UsageStats {
  /** Codes replaced by dead-code restart during this call (vector quantizer only). */
  restartedCodes?: number;
}

/** What every discretizer returns. The caller owns (and disposes) the three tensors. */
export interface DiscretizerOutput {
  /** Chosen code per position, int32, shape `[...]` (the input shape without its last axis). */
  indices: tf.Tensor;
  /** What goes downstream: a one-hot `[..., V]` (soft or hard) or a code vector `[..., D]`. */
  output: tf.Tensor;
  /** Auxiliary loss to add to the training objective (commitment/codebook loss); 0 where there is none. */
  auxLoss: tf.Scalar;
  stats?: DiscretizerStats;
}

/**
 * One data-parallel replica's part of a batch: the batch is split by rows into contiguous parts in
 * replica order, and each replica discretizes its own. A discretizer given one draws its noise and
 * updates its batch statistics as it would on the whole batch, so every replica ends in the same
 * state as one replica running the whole batch.
 */
export interface BatchShard {
  /** Rows of the whole batch before this replica's part. */
  readonly offset: number;
  /** Rows of the whole batch. */
  readonly total: number;
  /**
   * This replica's rows [n, ...] → the whole batch's [total, ...]: the other replicas' rows (as
   * constants) and these, in replica order. Every replica must call it at the same point.
   */
  gatherRows(local: tf.Tensor): tf.Tensor;
}

/**
 * What a discretizer's `output` is. `one-hot`: a (soft or hard) one-hot over the `numCodes` symbols
 * (temperature softmax, Gumbel-softmax), so outputDim = numCodes and a consumer embeds it with a
 * table (a matMul). `vector`: a code vector of `outputDim` values (VQ, FSQ), embedded with a Linear.
 */
export type DiscretizerEmits = 'one-hot' | 'vector';

/**
 * The contract shared by every discretizer (and the one the student's decoder and encoder use):
 * input `[..., inputDim]` (logits or vectors), output as above. `numCodes` is the number of distinct
 * symbols the indices can take.
 */
export interface Discretizer {
  readonly numCodes: number;
  readonly inputDim: number;
  readonly outputDim: number;
  /** Whether `output` is a one-hot over the symbols or a code vector (declared, never guessed from sizes). */
  readonly emits: DiscretizerEmits;
  discretize(x: tf.Tensor, opts?: DiscretizeOptions): DiscretizerOutput;
  /**
   * Set by a data-parallel trainer while a replica's part of a batch (rows first in `x`) goes through
   * `discretize`; undefined: `x` is the whole batch. Discretizers without noise or batch statistics
   * (temperature softmax, FSQ) do not need it.
   */
  batchShard?: BatchShard;
  /**
   * What `discretize` emits, hard and noise-free (as in `inference` mode), for given int32 symbol
   * ids `[...]` → `[..., outputDim]`: one-hots, or code vectors. The caller owns the result.
   */
  lookup(indices: tf.Tensor): tf.Tensor;
  /** Frees tensors the discretizer holds outside its ParamStore (parameters belong to the store). */
  dispose(): void;
}
