import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { assertLastDim, assertRank } from '../assert';
import { parseConfig } from '../config';
import { ones, truncNormal } from '../init';
import { dense } from '../matmul';
import { l2Normalize } from '../normalize';
import type { ParamScope } from '../params';
import { gelu } from './activations';
import { Linear } from './linear';

const positiveInt = z.number().int().positive();

/** facebookresearch/dino's `DINOHead(in_dim, out_dim, nlayers, hidden_dim, bottleneck_dim, norm_last_layer)`, camelCased. */
export const dinoHeadConfigSchema = z
  .object({
    inDim: positiveInt,
    /** Linear layers before the bottleneck, GELU between them (DINO's `nlayers`: 3). */
    layers: positiveInt.default(3),
    hiddenDim: positiveInt.default(2048),
    bottleneckDim: positiveInt.default(256),
    /** K, the number of prototypes (65,536 in DINO; a few thousand is plenty for small data). */
    outDim: positiveInt,
    /** DINO's `norm_last_layer`: the weight-norm gain `weight_g` stays fixed at 1 (not trainable). */
    normLastLayer: z.boolean().default(true),
  })
  .strict();

export type DinoHeadConfig = z.output<typeof dinoHeadConfigSchema>;
export type DinoHeadConfigInput = z.input<typeof dinoHeadConfigSchema>;

/**
 * DINO's projection head, used by the teacher (a DINO checkpoint's head) and by the student (its
 * projector): MLP (Linear–GELU–…–Linear to the bottleneck) → L2 normalise → weight-normalised linear
 * without bias to K outputs, W = g · v / ‖v‖ per output. Parameter names are DINO's under the scope:
 * `mlp.0`, `mlp.2`, `mlp.4` (`mlp` when layers = 1), `last_layer.weight_v` [bottleneck, K] and
 * `last_layer.weight_g` [1, K] — torch's [K, bottleneck] and [K, 1] transposed, as every weight here
 * is stored [in, out].
 */
export class DinoHead {
  readonly config: DinoHeadConfig;
  readonly mlp: Linear[];
  readonly weightV: tf.Variable;
  readonly weightG: tf.Variable;

  constructor(scope: ParamScope, config: DinoHeadConfigInput) {
    const c = parseConfig(dinoHeadConfigSchema, config, 'DinoHead config');
    this.config = c;
    const dims = [c.inDim, ...Array<number>(c.layers - 1).fill(c.hiddenDim), c.bottleneckDim];
    this.mlp = dims.slice(1).map((out, i) => {
      // torch.nn.Sequential numbering: Linear layers sit at 0, 2, 4… with GELUs between.
      const name = c.layers === 1 ? 'mlp' : `mlp.${2 * i}`;
      return new Linear(scope.scope(name), dims[i], out);
    });
    // Registration order (v before g) fixes the random draws of a seeded store: keep it.
    const last = scope.scope('last_layer');
    this.weightV = last.add('weight_v', [c.bottleneckDim, c.outDim], truncNormal(0.02));
    this.weightG = last.add('weight_g', [1, c.outDim], ones, { trainable: !c.normLastLayer });
  }

  /** The L2-normalised bottleneck feature [B, bottleneckDim] of x [B, inDim]. */
  bottleneck(x: tf.Tensor): tf.Tensor2D {
    assertRank(x, 2, 'DinoHead: input [B, inDim]');
    assertLastDim(x, this.config.inDim, 'DinoHead: input [B, inDim]');
    return tf.tidy(() => {
      let h = x;
      this.mlp.forEach((layer, i) => {
        h = layer.apply(h);
        if (i < this.mlp.length - 1) h = gelu(h);
      });
      return l2Normalize(h) as tf.Tensor2D;
    });
  }

  /** x [B, inDim] → scores [B, K] (the student's loss applies its temperature to them). */
  apply(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => dense(this.bottleneck(x), this.lastWeight()) as tf.Tensor2D);
  }

  /** g · v / ‖v‖, each output column normalised over its inputs (torch weight_norm, dim 0). */
  lastWeight(): tf.Tensor2D {
    return tf.tidy(() => {
      const norm = tf.sqrt(tf.sum(tf.square(this.weightV), 0, true));
      return tf.mul(this.weightV, tf.div(this.weightG, norm)) as tf.Tensor2D;
    });
  }
}
