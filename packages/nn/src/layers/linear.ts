import type * as tf from '@tensorflow/tfjs-core';
import { type Initializer, truncNormal, zeros } from '../init';
import { type DenseOptions, dense } from '../matmul';
import type { ParamScope } from '../params';

export interface LinearOptions {
  bias?: boolean;
  /** Weight initialiser; default truncated normal, std 0.02 (DINO / timm). */
  init?: Initializer;
}

/**
 * y = x W + b, with W stored as [in, out] (the TF.js convention; torch stores [out, in], so
 * weight loaders transpose). Parameter names: `<scope>.weight`, `<scope>.bias`.
 */
export class Linear {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(
    scope: ParamScope,
    readonly inDim: number,
    readonly outDim: number,
    opts: LinearOptions = {},
  ) {
    this.weight = scope.add('weight', [inDim, outDim], opts.init ?? truncNormal(0.02));
    if (opts.bias ?? true) this.bias = scope.add('bias', [outDim], zeros);
  }

  apply(x: tf.Tensor, opts?: DenseOptions): tf.Tensor {
    return dense(x, this.weight, this.bias, opts);
  }
}
