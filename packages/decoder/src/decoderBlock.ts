import { type KVCache, LayerNorm, Mlp, MultiHeadAttention, type ParamScope } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';

export interface DecoderBlockOptions {
  dim: number;
  heads: number;
  mlpRatio: number;
}

export interface DecoderBlockResult {
  out: tf.Tensor;
  /** Cross-attention probabilities [B, heads, T, N]. */
  crossProbs: tf.Tensor;
}

/**
 * Pre-norm transformer decoder block:
 *   x + selfAttn(norm1(x))  (causal, over the symbols so far)
 *   x + crossAttn(norm2(x), teacher tokens)
 *   x + mlp(norm3(x))
 * Parameter names: `norm1`, `self_attn.{q,k,v,proj}`, `norm2`, `cross_attn.{q,k,v,proj}`, `norm3`, `mlp.{fc1,fc2}`.
 */
export class DecoderBlock {
  readonly norm1: LayerNorm;
  readonly selfAttn: MultiHeadAttention;
  readonly norm2: LayerNorm;
  readonly crossAttn: MultiHeadAttention;
  readonly norm3: LayerNorm;
  readonly mlp: Mlp;

  constructor(scope: ParamScope, opts: DecoderBlockOptions) {
    const { dim, heads } = opts;
    this.norm1 = new LayerNorm(scope.scope('norm1'), dim);
    this.selfAttn = new MultiHeadAttention(scope.scope('self_attn'), { dim, heads });
    this.norm2 = new LayerNorm(scope.scope('norm2'), dim);
    this.crossAttn = new MultiHeadAttention(scope.scope('cross_attn'), { dim, heads });
    this.norm3 = new LayerNorm(scope.scope('norm3'), dim);
    this.mlp = new Mlp(scope.scope('mlp'), dim, Math.round(dim * opts.mlpRatio));
  }

  /** Keys and values of the (projected) teacher tokens [B, N, dim]: computed once per forward. */
  memoryKeysValues(memory: tf.Tensor): KVCache {
    return this.crossAttn.keysValues(memory, { transposedKeys: true });
  }

  /** New positions `x` [B, T, dim] after the ones held in `cache`; returns the grown cache. */
  applyCached(x: tf.Tensor, cache: KVCache | null, memory: KVCache): DecoderBlockResult & { cache: KVCache } {
    const sa = this.selfAttn.applyCached(this.norm1.apply(x), cache);
    const x1 = tf.add(x, sa.out);
    return { ...this.crossAndMlp(x1, memory), cache: sa.cache };
  }

  /** A whole prefix `x` [B, T, dim] at once, causally masked (the teacher-forced / recompute path). */
  applyFull(x: tf.Tensor, memory: KVCache): DecoderBlockResult {
    const sa = this.selfAttn.apply(this.norm1.apply(x), { causal: true });
    return this.crossAndMlp(tf.add(x, sa.out), memory);
  }

  private crossAndMlp(x: tf.Tensor, memory: KVCache): DecoderBlockResult {
    const ca = this.crossAttn;
    const q = ca.splitHeads(ca.q.apply(this.norm2.apply(x)));
    const { out, probs } = ca.attend(q, memory);
    const x2 = tf.add(x, ca.proj.apply(ca.mergeHeads(out)));
    return { out: tf.add(x2, this.mlp.apply(this.norm3.apply(x2))), crossProbs: probs };
  }
}
