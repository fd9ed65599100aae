import * as tf from '@tensorflow/tfjs-core';
import { matMul, swapLast } from '../matmul';
import type { ParamScope } from '../params';
import { Linear } from './linear';

export interface AttentionOptions {
  dim: number;
  heads: number;
  /** Feature size of keys/values' source, when it differs from `dim` (cross-attention). */
  kvDim?: number;
  qkvBias?: boolean;
}

/** Keys and values already computed for earlier positions, each [B, heads, S, headDim]. */
export interface KVCache {
  k: tf.Tensor;
  v: tf.Tensor;
  /** The keys transposed, [B, heads, headDim, S], for a source attended to many times (memory). */
  kT?: tf.Tensor;
}

export interface AttentionResult {
  /** [B, T, dim] */
  out: tf.Tensor;
  /** Attention probabilities [B, heads, T, S], when requested. */
  probs?: tf.Tensor;
}

/**
 * Multi-head scaled dot-product attention with separate q, k, v, proj linears (timm's fused
 * `qkv` is split by the weight loader). Used for ViT self-attention, the decoder's causal
 * self-attention (with a key/value cache) and its cross-attention to teacher tokens.
 */
export class MultiHeadAttention {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly proj: Linear;
  readonly headDim: number;
  readonly scale: number;

  constructor(
    scope: ParamScope,
    readonly opts: AttentionOptions,
  ) {
    const { dim, heads } = opts;
    if (dim % heads !== 0)
      throw new Error(`MultiHeadAttention: dim ${dim} is not divisible by heads ${heads}`);
    this.headDim = dim / heads;
    this.scale = this.headDim ** -0.5;
    const kvDim = opts.kvDim ?? dim;
    const bias = opts.qkvBias ?? true;
    this.q = new Linear(scope.scope('q'), dim, dim, { bias });
    this.k = new Linear(scope.scope('k'), kvDim, dim, { bias });
    this.v = new Linear(scope.scope('v'), kvDim, dim, { bias });
    this.proj = new Linear(scope.scope('proj'), dim, dim);
  }

  /** [B, T, dim] → [B, heads, T, headDim] */
  splitHeads(x: tf.Tensor): tf.Tensor {
    const [b, t] = x.shape;
    return tf.transpose(tf.reshape(x, [b, t, this.opts.heads, this.headDim]), [0, 2, 1, 3]);
  }

  /** [B, heads, T, headDim] → [B, T, dim] */
  mergeHeads(x: tf.Tensor): tf.Tensor {
    const [b, , t] = x.shape;
    return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [b, t, this.opts.dim]);
  }

  /**
   * Keys and values of a source sequence [B, S, kvDim], split into heads. `transposedKeys` also
   * keeps kᵀ, for a source attended to at every decoding step (computed once, not once a step).
   */
  keysValues(source: tf.Tensor, opts: { transposedKeys?: boolean } = {}): KVCache {
    const kv: KVCache = {
      k: this.splitHeads(this.k.apply(source)),
      v: this.splitHeads(this.v.apply(source)),
    };
    if (opts.transposedKeys) kv.kT = swapLast(kv.k);
    return kv;
  }

  /**
   * softmax(q kᵀ · scale + mask) v for already split heads. `mask` is additive and broadcasts
   * to [B, heads, T, S] (0 where allowed, a large negative number where not).
   */
  attend(q: tf.Tensor, kv: KVCache, mask?: tf.Tensor): { out: tf.Tensor; probs: tf.Tensor } {
    let scores = tf.mul(matMul(q, kv.kT ?? swapLast(kv.k)), this.scale);
    if (mask) scores = tf.add(scores, mask);
    const probs = tf.softmax(scores, -1);
    return { out: matMul(probs, kv.v), probs };
  }

  /**
   * Attention of `x` [B, T, dim] to `context` [B, S, kvDim] (self-attention when omitted).
   * `causal` masks future positions (self-attention only).
   */
  apply(
    x: tf.Tensor,
    opts: { context?: tf.Tensor; causal?: boolean; returnProbs?: boolean } = {},
  ): AttentionResult {
    return tf.tidy(() => {
      const q = this.splitHeads(this.q.apply(x));
      const kv = this.keysValues(opts.context ?? x);
      const mask = opts.causal ? causalMask(x.shape[1] as number, kv.k.shape[2] as number) : undefined;
      const { out, probs } = this.attend(q, kv, mask);
      const res: AttentionResult = { out: this.proj.apply(this.mergeHeads(out)) };
      if (opts.returnProbs) res.probs = probs;
      return res as unknown as tf.TensorContainer;
    }) as unknown as AttentionResult;
  }

  /**
   * Self-attention for new positions `x` [B, T, dim] that follow `cache` (positions already seen).
   * Returns the output and the grown cache; only the new positions are computed, and gradients
   * flow through the cached keys and values. Within the new block attention is causal.
   */
  applyCached(
    x: tf.Tensor,
    cache: KVCache | null,
    opts: { returnProbs?: boolean } = {},
  ): AttentionResult & { cache: KVCache } {
    return tf.tidy(() => {
      const q = this.splitHeads(this.q.apply(x));
      const fresh = this.keysValues(x);
      const kv = cache ? { k: tf.concat([cache.k, fresh.k], 2), v: tf.concat([cache.v, fresh.v], 2) } : fresh;
      const t = x.shape[1] as number;
      const mask = t > 1 ? causalMask(t, kv.k.shape[2] as number) : undefined;
      const { out, probs } = this.attend(q, kv, mask);
      const res: AttentionResult & { cache: KVCache } = {
        out: this.proj.apply(this.mergeHeads(out)),
        cache: kv,
      };
      if (opts.returnProbs) res.probs = probs;
      return res as unknown as tf.TensorContainer;
    }) as unknown as AttentionResult & { cache: KVCache };
  }
}

/**
 * Additive mask [T, S] for T queries that are the last T of S positions: query i may see key j
 * iff j ≤ i + (S − T).
 */
export function causalMask(t: number, s: number): tf.Tensor {
  const m = new Float32Array(t * s);
  const offset = s - t;
  for (let i = 0; i < t; i++) for (let j = 0; j < s; j++) m[i * s + j] = j <= i + offset ? 0 : -1e9;
  return tf.tensor2d(m, [t, s]);
}
