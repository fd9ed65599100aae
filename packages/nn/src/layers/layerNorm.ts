import * as tf from '@tensorflow/tfjs-core';
import { ones, zeros } from '../init';
import { addChannels, mulChannels } from '../matmul';
import type { ParamScope } from '../params';

/** Layer normalisation over the last axis (biased variance, as torch.nn.LayerNorm). */
export class LayerNorm {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    scope: ParamScope,
    readonly dim: number,
    readonly eps = 1e-6,
  ) {
    this.weight = scope.add('weight', [dim], ones);
    this.bias = scope.add('bias', [dim], zeros);
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      // Written out instead of tf.moments, whose gradient fails in tfjs-core 4.22 (null dy in Cast).
      const centred = tf.sub(x, tf.mean(x, -1, true));
      const variance = tf.mean(tf.square(centred), -1, true);
      const xhat = tf.mul(centred, tf.rsqrt(tf.add(variance, this.eps)));
      return addChannels(mulChannels(xhat, this.weight), this.bias);
    });
  }
}
