import {
  type Initializer,
  init,
  Linear,
  l2Normalize,
  matMul,
  type ParamScope,
  parseConfig,
  type Rng,
} from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { BatchShard, DiscretizeOptions, Discretizer, DiscretizerOutput } from './discretizer';
import { noGrad, stopGradient, straightThrough } from './gradients';
import { kmeans, nearest } from './kmeans';
import { oneHotFloat } from './ops';
import { rotationTrick } from './rotation-trick';
import { usageStats } from './stats';
import { checkInput, checkMode } from './validate';

export const VectorQuantizerConfigSchema = z
  .object({
    /** D, the input (and output) vector size. */
    dim: z.number().int().positive(),
    /** K, the number of codes. */
    codebookSize: z.number().int().positive(),
    /** Code vector size; when it differs from `dim`, learned projections map D → codebookDim → D. */
    codebookDim: z.number().int().positive().optional(),
    /** Nearest code by Euclidean distance, or by cosine similarity (inputs and codes L2-normalised). */
    distance: z.enum(['l2', 'cosine']).default('l2'),
    /** Gradient to the input: straight-through (identity) or the rotation trick. */
    estimator: z.enum(['straight-through', 'rotation']).default('straight-through'),
    /** Codebook learned by exponential moving averages (k-means online) or by gradient (codebook loss). */
    learning: z.enum(['ema', 'gradient']).default('ema'),
    /** β of the commitment loss β·mean‖z − sg(q)‖². */
    commitmentWeight: z.number().min(0).default(0.25),
    /** Weight of the codebook loss mean‖sg(z) − q‖² (learning: 'gradient' only). */
    codebookWeight: z.number().min(0).default(1),
    /** EMA decay of the cluster statistics (also used for usage tracking with gradient learning). */
    decay: z.number().gt(0).lt(1).default(0.99),
    /** Laplace smoothing of the EMA cluster sizes. */
    eps: z.number().positive().default(1e-5),
    /** Initialise the codebook by k-means on the first training batch (or call initCodebook). */
    kmeansInit: z.boolean().default(false),
    kmeansIters: z.number().int().min(0).default(10),
    /** Restart codes whose EMA usage (vectors per batch) falls below this; 0 disables. */
    deadCodeThreshold: z.number().min(0).default(0),
    /** How many recent (projected) inputs are kept to draw restarted codes from. */
    restartBufferSize: z.number().int().positive().default(1024),
    /** Reject NaN/Inf inputs (reads one boolean back from the device per call). */
    checkFinite: z.boolean().default(true),
  })
  .strict();
export type VectorQuantizerConfig = z.input<typeof VectorQuantizerConfigSchema>;

/**
 * Vector quantizer: each input vector [..., D] is replaced by its nearest code.
 *
 * Forward: z = projectIn(x) (if codebookDim ≠ D), normalised for `cosine`; index = nearest code;
 * output = projectOut(q) exactly (no `z + (q − z)` rounding).
 * Gradient estimator: straight-through (dL/dz = dL/dq) or the rotation trick (see {@link rotationTrick}).
 * auxLoss = β·mean‖z − sg(q)‖² (+ codebookWeight·mean‖sg(z) − q‖² with gradient learning).
 *
 * State, all registered in the ParamStore so it is saved with the model:
 * `codebook` [K, Dc] (trainable only with gradient learning), `clusterSize` [K] (EMA usage, non-trainable),
 * `embedSum` [K, Dc] (EMA learning, non-trainable), `initialized` [1] (k-means init done),
 * `projectIn.{weight,bias}`, `projectOut.{weight,bias}` (when codebookDim ≠ D).
 * State changes (EMA, k-means init, dead-code restart) happen only in train mode.
 */
export class VectorQuantizer implements Discretizer {
  readonly config: z.output<typeof VectorQuantizerConfigSchema>;
  readonly codebookDim: number;
  readonly codebook: tf.Variable;
  readonly clusterSize: tf.Variable;
  readonly embedSum?: tf.Variable;
  readonly initialized?: tf.Variable;
  readonly projectIn?: Linear;
  readonly projectOut?: Linear;
  /** Seeded stream for k-means++ and restarts (forked from the store's Rng at construction). */
  readonly rng: Rng;
  private buffer?: tf.Tensor2D;
  private initDone = false;
  /** A data-parallel replica's part of the batch: EMA statistics, k-means init and restarts use the whole batch. */
  batchShard?: BatchShard;

  constructor(scope: ParamScope, config: VectorQuantizerConfig) {
    const c = parseConfig(VectorQuantizerConfigSchema, config, 'VectorQuantizer config');
    this.config = c;
    this.codebookDim = c.codebookDim ?? c.dim;
    const K = c.codebookSize;
    const Dc = this.codebookDim;
    const ema = c.learning === 'ema';
    this.codebook = scope.add('codebook', [K, Dc], c.distance === 'cosine' ? unitRows : init.normal(1), {
      trainable: !ema,
    });
    this.clusterSize = scope.add('clusterSize', [K], init.ones, { trainable: false });
    if (ema) {
      // embedSum / clusterSize = codebook from the start.
      this.embedSum = scope.add('embedSum', [K, Dc], init.zeros, { trainable: false });
      tf.tidy(() => this.embedSum!.assign(tf.clone(this.codebook)));
    }
    if (c.kmeansInit) this.initialized = scope.add('initialized', [1], init.zeros, { trainable: false });
    if (this.codebookDim !== c.dim) {
      this.projectIn = new Linear(scope.scope('projectIn'), c.dim, Dc, { init: init.xavierUniform });
      this.projectOut = new Linear(scope.scope('projectOut'), Dc, c.dim, { init: init.xavierUniform });
    }
    this.rng = scope.rng.fork();
  }

  readonly emits = 'vector';

  get numCodes(): number {
    return this.config.codebookSize;
  }
  get inputDim(): number {
    return this.config.dim;
  }
  get outputDim(): number {
    return this.config.dim;
  }

  discretize(x: tf.Tensor, opts: DiscretizeOptions = {}): DiscretizerOutput {
    const what = 'VectorQuantizer';
    const train = checkMode(opts.mode, what) === 'train';
    const c = this.config;
    checkInput(x, what, { lastDim: c.dim, lastName: 'D', checkFinite: c.checkFinite });
    // A data-parallel replica's part of a batch: k-means and the statistics see the whole batch.
    const shard = train ? this.batchShard : undefined;
    if (train && c.kmeansInit && !this.isInitialized()) {
      if (shard) tf.tidy(() => this.initCodebook(shard.gatherRows(x)));
      else this.initCodebook(x);
    }
    let restartedCodes = 0;
    const result = tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      const zq = this.encode(tf.reshape(x, [-1, c.dim]));
      const cb = this.normalizedCodebook();
      const indices = noGrad(() => nearest(zq, cb, c.distance === 'cosine'));
      const onehot = oneHotFloat(indices, c.codebookSize);
      // The only path from the codebook to the loss is the codebook loss below.
      const q = matMul(onehot, cb);
      let auxLoss = tf.mul(tf.mean(tf.squaredDifference(zq, stopGradient(q))), c.commitmentWeight);
      if (c.learning === 'gradient') {
        const codebookLoss = tf.mean(tf.squaredDifference(stopGradient(zq), q));
        auxLoss = tf.add(auxLoss, tf.mul(codebookLoss, c.codebookWeight));
      }
      const quantized = c.estimator === 'rotation' ? rotationTrick(zq, q) : straightThrough(zq, q);
      const out = this.projectOut ? this.projectOut.apply(quantized) : quantized;
      if (train) {
        noGrad(() => {
          if (!shard) restartedCodes = this.updateState(zq, onehot);
          else {
            // Rows are gathered with x's batch axis first (x may be [B, …, D]).
            const batchRows = tf.reshape(zq, [x.shape[0], -1]);
            const zAll = tf.reshape(shard.gatherRows(batchRows), [-1, this.codebookDim]);
            const all = nearest(zAll, cb, c.distance === 'cosine');
            restartedCodes = this.updateState(zAll, oneHotFloat(all, c.codebookSize));
          }
          return tf.scalar(0);
        });
      }
      return {
        indices: tf.reshape(indices, lead),
        output: tf.reshape(out, [...lead, c.dim]),
        auxLoss: auxLoss as tf.Scalar,
      };
    });
    const out: DiscretizerOutput = result;
    if (opts.stats) out.stats = { ...usageStats(result.indices, c.codebookSize), restartedCodes };
    return out;
  }

  /** Code vectors (after projectOut) for int32 indices [...] → [..., D]. */
  lookup(indices: tf.Tensor): tf.Tensor {
    if (indices.dtype !== 'int32')
      throw new Error(`VectorQuantizer.lookup: indices must be int32, got ${indices.dtype}`);
    return tf.tidy(() => {
      const flat = tf.reshape(indices, [-1]);
      const q = matMul(oneHotFloat(flat, this.numCodes), this.normalizedCodebook());
      const out = this.projectOut ? this.projectOut.apply(q) : q;
      return tf.reshape(out, [...indices.shape, this.config.dim]);
    });
  }

  /**
   * Sets the codebook to k-means centres (k-means++ seeding, `kmeansIters` Lloyd steps) of the
   * (projected) vectors `x` [..., D], and the EMA statistics to match. Call it with one or several
   * concatenated batches; with `kmeansInit` it runs on the first training batch by itself.
   */
  initCodebook(x: tf.Tensor): void {
    const c = this.config;
    checkInput(x, 'VectorQuantizer.initCodebook', {
      lastDim: c.dim,
      lastName: 'D',
      checkFinite: c.checkFinite,
    });
    noGrad(() => {
      const z = this.encode(tf.reshape(x, [-1, c.dim]));
      const { centres, counts } = kmeans(z, c.codebookSize, {
        rng: this.rng,
        iters: c.kmeansIters,
        distance: c.distance,
      });
      this.codebook.assign(centres);
      this.clusterSize.assign(counts);
      this.embedSum?.assign(tf.mul(centres, tf.reshape(counts, [-1, 1])));
      this.initialized?.assign(tf.ones([1]));
      return tf.scalar(0);
    }).dispose();
    this.initDone = true;
  }

  /**
   * Sets the codebook to `codes` [K, codebookDim] (normalised for cosine), with EMA statistics
   * matching one vector per code (clusterSize 1, embedSum = codes), and marks it initialised.
   */
  setCodebook(codes: tf.Tensor): void {
    const { codebookSize: K } = this.config;
    const Dc = this.codebookDim;
    if (codes.rank !== 2 || codes.shape[0] !== K || codes.shape[1] !== Dc) {
      throw new Error(
        `VectorQuantizer.setCodebook: expected codes [${K}, ${Dc}], got [${codes.shape.join(', ')}]`,
      );
    }
    tf.tidy(() => {
      const cb = this.config.distance === 'cosine' ? l2Normalize(codes) : tf.clone(codes);
      this.codebook.assign(cb);
      this.clusterSize.assign(tf.ones([K]));
      this.embedSum?.assign(cb);
      this.initialized?.assign(tf.ones([1]));
    });
    this.initDone = true;
  }

  /** True once the codebook was set by k-means (also when loaded from a checkpoint). */
  isInitialized(): boolean {
    if (!this.initDone && this.initialized) this.initDone = this.initialized.dataSync()[0] > 0.5;
    return this.initDone;
  }

  dispose(): void {
    this.buffer?.dispose();
    this.buffer = undefined;
  }

  /** x [N, D] → the vectors that get quantized [N, Dc]. */
  private encode(flat: tf.Tensor): tf.Tensor {
    const z = this.projectIn ? this.projectIn.apply(flat) : flat;
    return this.config.distance === 'cosine' ? l2Normalize(z) : z;
  }

  private normalizedCodebook(): tf.Tensor {
    return this.config.distance === 'cosine' ? l2Normalize(this.codebook) : this.codebook;
  }

  /** EMA statistics, EMA codebook and dead-code restart, from this batch's vectors and assignments. */
  private updateState(zq: tf.Tensor, onehot: tf.Tensor): number {
    const c = this.config;
    const d = c.decay;
    const ema = (old: tf.Tensor, batch: tf.Tensor) => tf.add(tf.mul(old, d), tf.mul(batch, 1 - d));
    this.clusterSize.assign(ema(this.clusterSize, tf.sum(onehot, 0)));
    if (this.embedSum) {
      this.embedSum.assign(ema(this.embedSum, tf.matMul(tf.transpose(onehot), zq)));
      this.codebook.assign(this.codebookFromStats());
    }
    return c.deadCodeThreshold > 0 ? this.restartDeadCodes(zq) : 0;
  }

  /** embedSum / Laplace-smoothed clusterSize (normalised for cosine). */
  private codebookFromStats(): tf.Tensor {
    const { codebookSize: K, eps } = this.config;
    const n = tf.sum(this.clusterSize);
    const smoothed = tf.mul(tf.div(tf.add(this.clusterSize, eps), tf.add(n, K * eps)), n);
    const cb = tf.div(this.embedSum!, tf.reshape(smoothed, [K, 1]));
    return this.config.distance === 'cosine' ? l2Normalize(cb) : cb;
  }

  /** Replaces codes whose EMA usage is below the threshold by random recent inputs; returns how many. */
  private restartDeadCodes(zq: tf.Tensor): number {
    const { codebookSize: K, deadCodeThreshold: threshold } = this.config;
    this.remember(zq);
    const sizes = this.clusterSize.dataSync();
    const dead: number[] = [];
    for (let k = 0; k < K; k++) if (sizes[k] < threshold) dead.push(k);
    if (dead.length === 0) return 0;
    const rows = this.buffer!.shape[0];
    const picks = dead.map(() => this.rng.int(rows));
    const samples = tf.gather(this.buffer!, tf.tensor1d(picks, 'int32'));
    const select = oneHotFloat(tf.tensor1d(dead, 'int32'), K); // [dead, K]
    const replacement = tf.matMul(tf.transpose(select), samples); // rows of dead codes, zeros elsewhere
    const isDead = tf.sum(select, 0);
    const alive = tf.sub(1, isDead);
    const alive2d = tf.reshape(alive, [K, 1]);
    this.codebook.assign(tf.add(tf.mul(this.codebook, alive2d), replacement));
    this.clusterSize.assign(tf.add(tf.mul(this.clusterSize, alive), tf.mul(isDead, threshold)));
    this.embedSum?.assign(tf.add(tf.mul(this.embedSum, alive2d), tf.mul(replacement, threshold)));
    return dead.length;
  }

  /** Keeps the most recent `restartBufferSize` vectors (newest first; a random subset of a larger batch). */
  private remember(zq: tf.Tensor): void {
    const M = this.config.restartBufferSize;
    const n = zq.shape[0];
    const fresh =
      n > M
        ? tf.gather(zq, tf.tensor1d(this.rng.permutation(n).slice(0, M), 'int32'))
        : this.buffer
          ? tf.concat([zq, this.buffer], 0)
          : zq;
    const next = tf.keep(
      fresh.shape[0] > M ? tf.slice(fresh, [0, 0], [M, -1]) : tf.clone(fresh),
    ) as tf.Tensor2D;
    this.buffer?.dispose();
    this.buffer = next;
  }
}

/** Rows drawn from N(0, 1) and scaled to unit length (initial cosine codebook). */
const unitRows: Initializer = (shape, rng) => {
  const [k, d] = shape;
  const out = rng.fill(k * d, 'normal');
  for (let i = 0; i < k; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += out[i * d + j] ** 2;
    const inv = 1 / Math.sqrt(s || 1);
    for (let j = 0; j < d; j++) out[i * d + j] *= inv;
  }
  return out;
};
