import { assertRank, EncoderBlock, init, LayerNorm, type ParamScope, parseConfig } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { SymbolEmbedding } from './symbolEmbedding';

const positiveInt = z.number().int().positive();

export const symbolEncoderConfigSchema = z
  .object({
    /** Size of each input symbol: V for one-hots, D for code vectors. */
    inputDim: positiveInt,
    /** Inputs are one-hots over V symbols (int32 symbols are then accepted too), else code vectors. */
    oneHot: z.boolean().default(true),
    dim: positiveInt.default(192),
    heads: positiveInt.default(3),
    layers: positiveInt.default(1),
    mlpRatio: z.number().positive().default(4),
    /** Longest sequence it reads. */
    maxLength: positiveInt.default(8),
  })
  .strict()
  .refine((c) => c.dim % c.heads === 0, { message: 'dim must be divisible by heads', path: ['heads'] });

export type SymbolEncoderConfig = z.output<typeof symbolEncoderConfigSchema>;

/**
 * Re-reads a symbol sequence: symbols are embedded (`symbol_embed` matMul or `code_embed`), a
 * learned CLS token is prepended, learned positions added (`pos_embed` [L+1, d], CLS at 0), then
 * bidirectional pre-norm EncoderBlocks and a final norm; the CLS output is the sequence embedding.
 * Any prefix length 1..L can be read.
 */
export class SymbolEncoder {
  readonly config: SymbolEncoderConfig;
  readonly embed: SymbolEmbedding;
  readonly clsToken: tf.Variable;
  readonly posEmbed: tf.Variable;
  readonly blocks: EncoderBlock[];
  readonly norm: LayerNorm;

  constructor(scope: ParamScope, config: z.input<typeof symbolEncoderConfigSchema>) {
    const c = parseConfig(symbolEncoderConfigSchema, config, 'SymbolEncoder config');
    this.config = c;
    this.embed = new SymbolEmbedding(scope, c.inputDim, c.dim, c.oneHot);
    this.clsToken = scope.add('cls_token', [1, 1, c.dim], init.truncNormal(0.02));
    this.posEmbed = scope.add('pos_embed', [c.maxLength + 1, c.dim], init.truncNormal(0.02));
    this.blocks = Array.from(
      { length: c.layers },
      (_, i) =>
        new EncoderBlock(scope.scope(`blocks.${i}`), { dim: c.dim, heads: c.heads, mlpRatio: c.mlpRatio }),
    );
    this.norm = new LayerNorm(scope.scope('norm'), c.dim);
  }

  /**
   * `symbols`: float [B, T, inputDim] (one-hots, soft one-hots or code vectors, as fed back by the
   * decoder) or int32 [B, T] symbol ids (one-hot encoders only). Returns the CLS embedding [B, d].
   */
  apply(symbols: tf.Tensor): tf.Tensor {
    const what = 'SymbolEncoder: symbols';
    const c = this.config;
    if (symbols.dtype === 'int32') {
      if (!c.oneHot)
        throw new Error(
          `${what}: int32 symbol ids need a one-hot encoder; pass code vectors [B, T, ${c.inputDim}]`,
        );
      assertRank(symbols, 2, `${what} (int32 ids [B, T])`);
    } else {
      assertRank(symbols, 3, `${what} [B, T, ${c.inputDim}]`);
      if (symbols.shape[2] !== c.inputDim) {
        throw new Error(
          `${what}: expected last dimension ${c.inputDim}, got shape [${symbols.shape.join(', ')}]`,
        );
      }
    }
    const [batch, len] = symbols.shape as number[];
    if (len < 1 || len > c.maxLength) {
      throw new Error(`${what}: sequence length ${len} is outside 1..${c.maxLength}`);
    }
    return tf.tidy(() => {
      // A cast to the tensor's own dtype must be avoided: its gradient node breaks backprop in tfjs.
      const z = symbols.dtype === 'int32' ? tf.cast(tf.oneHot(symbols, c.inputDim), 'float32') : symbols;
      const cls = tf.add(this.clsToken, tf.zeros([batch, 1, c.dim]));
      let x = tf.concat([cls, this.embed.apply(z)], 1);
      x = tf.add(x, tf.slice(this.posEmbed, [0, 0], [len + 1, -1]));
      for (const block of this.blocks) x = block.apply(x).out;
      // LayerNorm is per position, so only the CLS row needs it.
      return this.norm.apply(tf.reshape(tf.slice(x, [0, 0, 0], [-1, 1, -1]), [batch, c.dim]));
    });
  }
}
