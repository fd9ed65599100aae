import {
  assertLastDim,
  assertRank,
  dense,
  gelu,
  init,
  Linear,
  type ParamScope,
  parseConfig,
} from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';

const positiveInt = z.number().int().positive();

export const projectorConfigSchema = z
  .object({
    inDim: positiveInt,
    /** Linear layers before the bottleneck, GELU between them (DINO: 3). */
    layers: positiveInt.default(3),
    hiddenDim: positiveInt.default(2048),
    bottleneckDim: positiveInt.default(256),
    /** K: number of outputs (DINO uses 65,536; a few thousand is plenty for small data). */
    outDim: positiveInt.default(4096),
    /** DINO's `norm_last_layer`: keep the weight-norm gain `weight_g` fixed at 1. */
    normLastLayer: z.boolean().default(true),
  })
  .strict();

export type ProjectorConfig = z.output<typeof projectorConfigSchema>;

/**
 * The DINO head: MLP (Linear–GELU–…–Linear to the bottleneck) → L2 normalise → weight-normalised
 * linear to K outputs, W = g · v / ‖v‖ per output. Parameter names are DINO's (`mlp.0`, `mlp.2`,
 * `mlp.4`, `last_layer.weight_v`, `last_layer.weight_g`), so a DINO head maps one-to-one
 * (weights transposed: here [in, out]).
 */
export class Projector {
  readonly config: ProjectorConfig;
  readonly mlp: Linear[];
  readonly weightV: tf.Variable;
  readonly weightG: tf.Variable;

  constructor(scope: ParamScope, config: z.input<typeof projectorConfigSchema>) {
    const c = parseConfig(projectorConfigSchema, config, 'Projector config');
    this.config = c;
    const dims = [c.inDim, ...Array<number>(c.layers - 1).fill(c.hiddenDim), c.bottleneckDim];
    this.mlp = dims.slice(1).map((out, i) => {
      // torch.nn.Sequential numbering: Linear layers sit at 0, 2, 4… with GELUs between.
      const name = c.layers === 1 ? 'mlp' : `mlp.${2 * i}`;
      return new Linear(scope.scope(name), dims[i], out);
    });
    const last = scope.scope('last_layer');
    this.weightV = last.add('weight_v', [c.bottleneckDim, c.outDim], init.truncNormal(0.02));
    this.weightG = last.add('weight_g', [1, c.outDim], init.ones, { trainable: !c.normLastLayer });
  }

  /** The L2-normalised bottleneck feature [B, bottleneckDim]. */
  bottleneck(x: tf.Tensor): tf.Tensor {
    assertRank(x, 2, 'Projector: input [B, inDim]');
    assertLastDim(x, this.config.inDim, 'Projector: input [B, inDim]');
    return tf.tidy(() => {
      let h = x;
      this.mlp.forEach((layer, i) => {
        h = layer.apply(h);
        if (i < this.mlp.length - 1) h = gelu(h);
      });
      return l2Normalize(h);
    });
  }

  /** x [B, inDim] → logits [B, K]. */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => dense(this.bottleneck(x), this.lastWeight()));
  }

  /** g · v / ‖v‖, each output column normalised over its inputs (torch weight_norm, dim 0). */
  lastWeight(): tf.Tensor {
    return tf.tidy(() => {
      const norm = tf.sqrt(tf.sum(tf.square(this.weightV), 0, true));
      return tf.mul(this.weightV, tf.div(this.weightG, norm));
    });
  }
}

/** x / max(‖x‖, 1e-12) over the last axis, as torch.nn.functional.normalize. */
export function l2Normalize(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.sqrt(tf.sum(tf.square(x), -1, true)), 1e-12)));
}
