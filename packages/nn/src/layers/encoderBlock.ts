import * as tf from '@tensorflow/tfjs-core';
import type { ParamScope } from '../params';
import { MultiHeadAttention } from './attention';
import { LayerNorm } from './layerNorm';
import { Mlp } from './mlp';

export interface EncoderBlockOptions {
  dim: number;
  heads: number;
  mlpRatio?: number;
  qkvBias?: boolean;
  eps?: number;
}

/**
 * Pre-norm transformer block, as in ViT/DINO: x + attn(norm1(x)), then x + mlp(norm2(x)).
 * Parameter names follow timm: `norm1`, `attn.{q,k,v,proj}`, `norm2`, `mlp.{fc1,fc2}`.
 */
export class EncoderBlock {
  readonly norm1: LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;

  constructor(scope: ParamScope, opts: EncoderBlockOptions) {
    const eps = opts.eps ?? 1e-6;
    this.norm1 = new LayerNorm(scope.scope('norm1'), opts.dim, eps);
    this.attn = new MultiHeadAttention(scope.scope('attn'), {
      dim: opts.dim,
      heads: opts.heads,
      qkvBias: opts.qkvBias ?? true,
    });
    this.norm2 = new LayerNorm(scope.scope('norm2'), opts.dim, eps);
    this.mlp = new Mlp(scope.scope('mlp'), opts.dim, Math.round(opts.dim * (opts.mlpRatio ?? 4)));
  }

  /** x [B, T, dim] → [B, T, dim]; `probs` [B, heads, T, T] when requested. */
  apply(
    x: tf.Tensor,
    opts: { returnProbs?: boolean; mask?: tf.Tensor } = {},
  ): { out: tf.Tensor; probs?: tf.Tensor } {
    const h = this.norm1.apply(x);
    const q = this.attn.splitHeads(this.attn.q.apply(h));
    const { out: a, probs } = this.attn.attend(q, this.attn.keysValues(h), opts.mask);
    const x1 = tf.add(x, this.attn.proj.apply(this.attn.mergeHeads(a)));
    const out = tf.add(x1, this.mlp.apply(this.norm2.apply(x1)));
    return { out, probs: opts.returnProbs ? probs : undefined };
  }
}
