import { dense, init, Linear, type ParamScope } from '@symseq/nn';
import type * as tf from '@tensorflow/tfjs-core';

/**
 * Turns what a discretizer emits into a d-vector. One-hots [..., V] are multiplied with the
 * embedding table `symbol_embed` [V, d] — a matMul, so straight-through one-hots carry gradients
 * and no gather gradient is needed (wasm has none). Code vectors [..., D] (VQ, FSQ) go through
 * a Linear `code_embed` instead.
 */
export class SymbolEmbedding {
  readonly table?: tf.Variable;
  readonly codeEmbed?: Linear;

  constructor(
    scope: ParamScope,
    readonly inDim: number,
    readonly dim: number,
    readonly oneHot: boolean,
  ) {
    if (oneHot) this.table = scope.add('symbol_embed', [inDim, dim], init.truncNormal(0.02));
    else this.codeEmbed = new Linear(scope.scope('code_embed'), inDim, dim);
  }

  /** z [..., inDim] → [..., dim] */
  apply(z: tf.Tensor): tf.Tensor {
    return this.table ? dense(z, this.table) : this.codeEmbed!.apply(z);
  }
}
