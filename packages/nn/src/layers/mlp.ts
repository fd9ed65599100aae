import type * as tf from '@tensorflow/tfjs-core';
import type { ParamScope } from '../params';
import { gelu } from './activations';
import { Linear } from './linear';

/** Transformer feed-forward: fc1 → exact GELU → fc2 (names `fc1`, `fc2` as timm). */
export class Mlp {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(scope: ParamScope, dim: number, hidden: number, outDim = dim) {
    this.fc1 = new Linear(scope.scope('fc1'), dim, hidden);
    this.fc2 = new Linear(scope.scope('fc2'), hidden, outDim);
  }

  apply(x: tf.Tensor): tf.Tensor {
    return this.fc2.apply(gelu(this.fc1.apply(x)));
  }
}
