import { dense, gelu, init, Linear, type ParamScope, parseConfig } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';

const positiveInt = z.number().int().positive();

export const dinoHeadConfigSchema = z
  .object({
    inDim: positiveInt,
    /** Prototypes K (65,536 in DINO). */
    outDim: positiveInt,
    hiddenDim: positiveInt.default(2048),
    bottleneckDim: positiveInt.default(256),
    /** Linear layers in the MLP (GELU between them). */
    nlayers: positiveInt.default(3),
  })
  .strict();

export type DinoHeadConfig = z.output<typeof dinoHeadConfigSchema>;
export type DinoHeadConfigInput = z.input<typeof dinoHeadConfigSchema>;

/**
 * DINO's projection head: MLP (`nlayers` linears, GELU between) → bottleneck → L2 normalise →
 * weight-normalised linear without bias (weight = g · v / ‖v‖ per prototype).
 * Parameter names follow DINO under the given scope: `mlp.0`, `mlp.2`, … (`mlp` when
 * nlayers = 1), `last_layer.weight_g` [K], `last_layer.weight_v` [bottleneck, K].
 */
export class DinoHead {
  readonly config: DinoHeadConfig;
  readonly layers: Linear[];
  readonly weightG: tf.Variable;
  readonly weightV: tf.Variable;

  constructor(scope: ParamScope, config: DinoHeadConfigInput) {
    const c = parseConfig(dinoHeadConfigSchema, config, 'DINO head config');
    this.config = c;
    this.layers = [];
    for (let i = 0; i < c.nlayers; i++) {
      const inDim = i === 0 ? c.inDim : c.hiddenDim;
      const outDim = i === c.nlayers - 1 ? c.bottleneckDim : c.hiddenDim;
      const name = c.nlayers === 1 ? 'mlp' : `mlp.${2 * i}`;
      this.layers.push(new Linear(scope.scope(name), inDim, outDim));
    }
    this.weightG = scope.add('last_layer.weight_g', [c.outDim], init.ones);
    this.weightV = scope.add('last_layer.weight_v', [c.bottleneckDim, c.outDim], init.truncNormal(0.02));
  }

  /** The L2-normalised bottleneck features [B, bottleneckDim] of x [B, inDim]. */
  bottleneck(x: tf.Tensor): tf.Tensor2D {
    if (x.rank !== 2 || x.shape[1] !== this.config.inDim) {
      throw new Error(
        `DinoHead: input must be [batch, ${this.config.inDim}], got shape [${x.shape.join(', ')}]`,
      );
    }
    return tf.tidy(() => {
      let h = x;
      this.layers.forEach((layer, i) => {
        h = layer.apply(h);
        if (i < this.layers.length - 1) h = gelu(h);
      });
      // torch's F.normalize: x / max(‖x‖, 1e-12)
      const norm = tf.sqrt(tf.sum(tf.square(h), -1, true));
      return tf.div(h, tf.maximum(norm, 1e-12)) as tf.Tensor2D;
    });
  }

  /** Prototype scores [B, outDim] for x [B, inDim]. */
  apply(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const z = this.bottleneck(x);
      const vNorm = tf.sqrt(tf.sum(tf.square(this.weightV), 0));
      const weight = tf.mul(this.weightV, tf.div(this.weightG, vNorm));
      return dense(z, weight) as tf.Tensor2D;
    });
  }
}
