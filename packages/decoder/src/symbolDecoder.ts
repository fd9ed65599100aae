import type { Discretizer, Mode } from '@symseq/discretize';
import {
  assertLastDim,
  assertRank,
  init,
  type KVCache,
  LayerNorm,
  Linear,
  type ParamScope,
  parseConfig,
} from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { DecoderBlock } from './decoderBlock';
import { SymbolEmbedding } from './symbolEmbedding';

const positiveInt = z.number().int().positive();

export const symbolDecoderConfigSchema = z
  .object({
    /** Feature size Dt of the teacher tokens [B, N, Dt]. */
    teacherDim: positiveInt,
    dim: positiveInt.default(192),
    heads: positiveInt.default(3),
    layers: positiveInt.default(2),
    mlpRatio: z.number().positive().default(4),
    /** Longest sequence L the decoder writes (size of its position table). */
    maxLength: positiveInt.default(8),
    /** (x − token_mean) / token_std per channel before the token projection (frozen statistics). */
    standardizeTokens: z.boolean().default(false),
  })
  .strict()
  .refine((c) => c.dim % c.heads === 0, { message: 'dim must be divisible by heads', path: ['heads'] });

export type SymbolDecoderConfig = z.output<typeof symbolDecoderConfigSchema>;

export interface GenerateOptions {
  mode: Mode;
  /** Training step, for discretizers whose temperature follows a schedule. */
  step?: number;
  /** Symbols to write, 1..maxLength (default maxLength). */
  steps?: number;
  /**
   * `true` (default): cached keys/values, only the new position is computed per step.
   * `false`: every step re-runs the whole prefix (slower; used to verify the cache).
   */
  cache?: boolean;
}

export interface DecoderOutput {
  /** The written symbols, int32 [B, steps]. */
  symbols: tf.Tensor;
  /** Per step, the discretizer output fed back and to the encoder: one-hot [B, V] or code [B, D]. */
  fed: tf.Tensor[];
  /** Per step, the head output given to the discretizer: logits [B, V] or a vector [B, D]. */
  logits: tf.Tensor[];
  /** Per step, per layer: cross-attention of the new symbol to the teacher tokens [B, heads, N]. */
  crossAttention: tf.Tensor[][];
  /** Discretizer auxiliary loss, averaged over steps (scalar). */
  auxLoss: tf.Tensor;
}

export interface TeacherForcedOutput {
  /** Head outputs [B, T, inputDim]; position t is computed from the start token and fed[:, :t]. */
  logits: tf.Tensor;
  /** Per layer [B, heads, T, N]. */
  crossAttention: tf.Tensor[];
}

/**
 * The symbol writer. Teacher tokens are projected to the model width (Linear + LayerNorm) and
 * become the memory every block cross-attends to. Starting from a learned start token, each step
 * runs the new position through pre-norm blocks (causal self-attention over the symbols so far,
 * cross-attention to the memory, MLP), a final norm and the head; the discretizer turns the head
 * output into a symbol, and its output z is fed back as `z · E + pos` (see SymbolEmbedding).
 *
 * Parameters: `token_proj`, `token_norm`, `start_token` [1, 1, d], `pos_embed` [L, d],
 * `blocks.i.*`, `norm`, `head`, and `symbol_embed` [V, d] or `code_embed`.
 */
export class SymbolDecoder {
  readonly config: SymbolDecoderConfig;
  readonly tokenProj: Linear;
  readonly tokenNorm: LayerNorm;
  readonly startToken: tf.Variable;
  readonly posEmbed: tf.Variable;
  readonly blocks: DecoderBlock[];
  readonly norm: LayerNorm;
  readonly head: Linear;
  readonly embed: SymbolEmbedding;
  /** Per-channel token statistics [Dt] (frozen), when `standardizeTokens`. */
  readonly tokenStats?: { mean: tf.Variable; std: tf.Variable };

  constructor(
    scope: ParamScope,
    config: z.input<typeof symbolDecoderConfigSchema>,
    readonly discretizer: Discretizer,
  ) {
    const c = parseConfig(symbolDecoderConfigSchema, config, 'SymbolDecoder config');
    this.config = c;
    if (c.standardizeTokens) {
      this.tokenStats = {
        mean: scope.add('token_mean', [c.teacherDim], init.zeros, { trainable: false }),
        std: scope.add('token_std', [c.teacherDim], init.ones, { trainable: false }),
      };
    }
    this.tokenProj = new Linear(scope.scope('token_proj'), c.teacherDim, c.dim);
    this.tokenNorm = new LayerNorm(scope.scope('token_norm'), c.dim);
    this.startToken = scope.add('start_token', [1, 1, c.dim], init.truncNormal(0.02));
    this.posEmbed = scope.add('pos_embed', [c.maxLength, c.dim], init.truncNormal(0.02));
    this.blocks = Array.from(
      { length: c.layers },
      (_, i) =>
        new DecoderBlock(scope.scope(`blocks.${i}`), { dim: c.dim, heads: c.heads, mlpRatio: c.mlpRatio }),
    );
    this.norm = new LayerNorm(scope.scope('norm'), c.dim);
    this.head = new Linear(scope.scope('head'), c.dim, discretizer.inputDim);
    // One-hots are fed back via the table `symbol_embed`, code vectors via the Linear `code_embed`.
    this.embed = new SymbolEmbedding(scope, discretizer.outputDim, c.dim, discretizer.emits === 'one-hot');
  }

  /**
   * Sets the frozen per-channel statistics of `standardizeTokens` (each [Dt]; std > 0), e.g. from
   * `tokenStatistics` over the training set's tokens.
   */
  setTokenStatistics(mean: ArrayLike<number>, std: ArrayLike<number>): void {
    if (!this.tokenStats) {
      throw new Error('SymbolDecoder.setTokenStatistics: this decoder was built without standardizeTokens');
    }
    const D = this.config.teacherDim;
    for (const [name, v] of [
      ['mean', mean],
      ['std', std],
    ] as const) {
      if (v.length !== D) {
        throw new Error(
          `SymbolDecoder.setTokenStatistics: ${name} has ${v.length} values, expected teacherDim ${D}`,
        );
      }
      for (let i = 0; i < D; i++) {
        const x = v[i];
        if (!Number.isFinite(x) || (name === 'std' && !(x > 0))) {
          throw new Error(
            `SymbolDecoder.setTokenStatistics: ${name}[${i}] is ${x}; expected a finite number${name === 'std' ? ' > 0' : ''}`,
          );
        }
      }
    }
    const stats = this.tokenStats;
    tf.tidy(() => {
      stats.mean.assign(tf.tensor1d(Array.from(mean)));
      stats.std.assign(tf.tensor1d(Array.from(std)));
    });
  }

  /** Projected teacher tokens' keys and values, one pair per block; computed once per forward. */
  memory(tokens: tf.Tensor): KVCache[] {
    assertRank(tokens, 3, 'SymbolDecoder: teacher tokens [B, N, Dt]');
    assertLastDim(tokens, this.config.teacherDim, 'SymbolDecoder: teacher tokens [B, N, Dt]');
    const x = this.tokenStats ? tf.div(tf.sub(tokens, this.tokenStats.mean), this.tokenStats.std) : tokens;
    // The teacher is frozen: no gradient flows back into its tokens, so none is computed.
    const m = this.tokenNorm.apply(this.tokenProj.apply(x, { inputGrad: false }));
    return this.blocks.map((b) => b.memoryKeysValues(m));
  }

  /** Writes `steps` symbols autoregressively. The caller disposes the returned tensors. */
  generate(tokens: tf.Tensor, opts: GenerateOptions): DecoderOutput {
    const steps = opts.steps ?? this.config.maxLength;
    if (!Number.isInteger(steps) || steps < 1 || steps > this.config.maxLength) {
      throw new Error(
        `SymbolDecoder.generate: steps must be an integer in 1..${this.config.maxLength}, got ${steps}`,
      );
    }
    const useCache = opts.cache ?? true;
    return tf.tidy(() => {
      const memory = this.memory(tokens);
      const batch = tokens.shape[0] as number;
      let input = this.startInput(batch);
      let caches: (KVCache | null)[] = this.blocks.map(() => null);
      const prefix: tf.Tensor[] = [];
      const fed: tf.Tensor[] = [];
      const logitsPerStep: tf.Tensor[] = [];
      const crossAttention: tf.Tensor[][] = [];
      const symbols: tf.Tensor[] = [];
      const aux: tf.Tensor[] = [];
      for (let t = 0; t < steps; t++) {
        let h: tf.Tensor;
        const probs: tf.Tensor[] = [];
        if (useCache) {
          h = input;
          caches = this.blocks.map((block, l) => {
            const r = block.applyCached(h, caches[l], memory[l]);
            h = r.out;
            probs.push(tf.squeeze(r.crossProbs, [2]));
            return r.cache;
          });
        } else {
          prefix.push(input);
          h = tf.concat(prefix, 1);
          for (let l = 0; l < this.blocks.length; l++) {
            const r = this.blocks[l].applyFull(h, memory[l]);
            h = r.out;
            probs.push(lastRow(r.crossProbs));
          }
          h = tf.slice(h, [0, t, 0], [-1, 1, -1]);
        }
        const logits = this.head.apply(tf.reshape(this.norm.apply(h), [batch, this.config.dim]));
        const d = this.discretizer.discretize(logits, { mode: opts.mode, step: opts.step });
        logitsPerStep.push(logits);
        fed.push(d.output);
        crossAttention.push(probs);
        symbols.push(tf.cast(d.indices, 'int32'));
        aux.push(d.auxLoss);
        if (t + 1 < steps) input = this.feedInput(d.output, t + 1);
      }
      const auxLoss = tf.div(sumAll(aux), steps);
      return { symbols: tf.stack(symbols, 1), fed, logits: logitsPerStep, crossAttention, auxLoss };
    });
  }

  /**
   * Runs a whole prefix at once: inputs are the start token and `fed[:, :T-1]` ([B, T, outputDim],
   * as the discretizer emitted them), under a causal mask. With the symbols a generation produced,
   * this gives the same head outputs as `generate`.
   */
  teacherForced(tokens: tf.Tensor, fed: tf.Tensor): TeacherForcedOutput {
    assertRank(fed, 3, 'SymbolDecoder.teacherForced: fed [B, T, outputDim]');
    assertLastDim(fed, this.discretizer.outputDim, 'SymbolDecoder.teacherForced: fed [B, T, outputDim]');
    const [batch, len] = fed.shape as number[];
    if (len > this.config.maxLength) {
      throw new Error(
        `SymbolDecoder.teacherForced: ${len} positions exceed maxLength ${this.config.maxLength}`,
      );
    }
    return tf.tidy(() => {
      const memory = this.memory(tokens);
      const start = tf.add(this.startToken, tf.zeros([batch, 1, this.config.dim]));
      let x = start;
      if (len > 1) {
        const fedEmb = this.embed.apply(tf.slice(fed, [0, 0, 0], [-1, len - 1, -1]));
        x = tf.concat([start, fedEmb], 1);
      }
      let h = tf.add(x, tf.slice(this.posEmbed, [0, 0], [len, -1]));
      const crossAttention: tf.Tensor[] = [];
      for (let l = 0; l < this.blocks.length; l++) {
        const r = this.blocks[l].applyFull(h, memory[l]);
        h = r.out;
        crossAttention.push(r.crossProbs);
      }
      return { logits: this.head.apply(this.norm.apply(h)), crossAttention };
    });
  }

  /** Start token + position 0, broadcast to [B, 1, d]. */
  private startInput(batch: number): tf.Tensor {
    const start = tf.add(this.startToken, tf.slice(this.posEmbed, [0, 0], [1, -1]));
    return tf.add(start, tf.zeros([batch, 1, this.config.dim]));
  }

  /** The decoder input for position `t` from the previous step's discretizer output z [B, outputDim]. */
  private feedInput(z: tf.Tensor, t: number): tf.Tensor {
    const e = tf.add(this.embed.apply(z), tf.slice(this.posEmbed, [t, 0], [1, -1]));
    return tf.expandDims(e, 1);
  }
}

/** [B, heads, T, N] → the last query's row [B, heads, N]. */
function lastRow(probs: tf.Tensor): tf.Tensor {
  const t = probs.shape[2] as number;
  return tf.squeeze(tf.slice(probs, [0, 0, t - 1, 0], [-1, -1, 1, -1]), [2]);
}

/** Sum of scalars. (A chain of adds, not tf.addN: addN's gradient calls Tensor.clone, which a
 * tfjs-core loaded without its side effects lacks.) */
function sumAll(xs: tf.Tensor[]): tf.Tensor {
  return xs.map((x) => tf.reshape(x, [])).reduce((a, b) => tf.add(a, b));
}
