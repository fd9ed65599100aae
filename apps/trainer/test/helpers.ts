import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FeatureCache, type FeatureCacheManifest } from '@symseq/data';
import { Rng } from '@symseq/nn';
import { trainCommand } from '../src/commands/train';
import { resolveTrainConfig, type TrainConfig, type TrainConfigInput } from '../src/config';

/** Host arrays of teacher features: tokens [n, views, N, D], pooled [n, views, D]. */
export interface FeatureArrays {
  n: number;
  views: number;
  tokensPerView: number;
  tokenDim: number;
  tokens: Float32Array;
  pooled: Float32Array;
  labels: Int32Array;
  classes: string[];
}

/** The arrays as a one-shard float32 FeatureCache, laid out as @symseq/data writes shards (pooled, then tokens). */
export function asCache(f: FeatureArrays): FeatureCache {
  const manifest = {
    format: 'symseq-feature-cache',
    version: 1,
    key: {
      teacherId: 'synthetic',
      inputSize: 1,
      datasetFingerprint: 'x',
      count: f.n,
      views: f.views - 1,
      augmentation: null,
      seed: 0,
      dtype: 'float32',
      shardSize: f.n,
    },
    viewCount: f.views,
    shapes: { tokens: [f.n, f.views, f.tokensPerView, f.tokenDim], pooled: [f.n, f.views, f.tokenDim] },
    shards: 1,
    classes: f.classes,
    labels: Array.from(f.labels),
    complete: true,
  } as FeatureCacheManifest;
  const shard = new Float32Array(f.pooled.length + f.tokens.length);
  shard.set(f.pooled);
  shard.set(f.tokens, f.pooled.length);
  return new FeatureCache(manifest, [shard]);
}

/**
 * Synthetic teacher features with class structure: each class has a prototype token pattern, and the
 * pooled feature is the mean token, so a student can learn to tell classes apart from the tokens.
 */
export function syntheticArrays(n: number, seed = 0, classes = 4, tokens = 4, dim = 8): FeatureArrays {
  // Class prototypes are fixed (seed 1000) so train and test sets share classes; `seed` varies the noise.
  const protoRng = new Rng(1000);
  const protos = Array.from({ length: classes }, () => protoRng.fill(tokens * dim, 'normal'));
  const rng = new Rng(seed);
  const t = new Float32Array(n * tokens * dim);
  const p = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let j = 0; j < tokens * dim; j++) t[i * tokens * dim + j] = protos[c][j] + 0.3 * rng.normal();
    for (let d = 0; d < dim; d++) {
      let s = 0;
      for (let k = 0; k < tokens; k++) s += t[i * tokens * dim + k * dim + d];
      p[i * dim + d] = s / tokens;
    }
  }
  return {
    n,
    views: 1,
    tokensPerView: tokens,
    tokenDim: dim,
    tokens: t,
    pooled: p,
    labels,
    classes: Array.from({ length: classes }, (_, i) => `c${i}`),
  };
}

/** The smallest student the tests train: 16 wide, 2 heads, 8 symbols, sequences of up to 4. */
export const tinyStudent = (projectorHiddenDim = 32) => ({
  dModel: 16,
  heads: 2,
  vocabSize: 8,
  maxLength: 4,
  decoder: { layers: 1 },
  encoder: { layers: 1 },
  projector: { layers: 2, hiddenDim: projectorHiddenDim, bottleneckDim: 8 },
});

export function tinyConfig(out: string, extra: TrainConfigInput = {}): TrainConfig {
  return resolveTrainConfig({
    name: 'tiny',
    seed: 3,
    student: { ...tinyStudent(), ...(extra.student ?? {}) },
    objective: { lengths: [1, 2, 4], ...(extra.objective ?? {}) },
    optim: { epochs: 2, batchSize: 16, lr: 3e-3, warmupEpochs: 0.5, ...(extra.optim ?? {}) },
    eval: { lengths: [1, 2, 4], k: 5 },
    cache: extra.cache,
    checkpointEvery: 3,
    logEvery: 1,
    out,
  });
}

export const syntheticFeatures = (n: number, seed = 0, classes = 4, tokens = 4, dim = 8): FeatureCache =>
  asCache(syntheticArrays(n, seed, classes, tokens, dim));

/** Several single-view sets of the same images (same labels) as one cache with `sets.length` views per image. */
export function withViews(sets: FeatureArrays[]): FeatureCache {
  const f = sets[0];
  const v = sets.length;
  const per = f.tokensPerView * f.tokenDim;
  const tokens = new Float32Array(f.n * v * per);
  const d = f.tokenDim;
  const pooled = new Float32Array(f.n * v * d);
  for (let i = 0; i < f.n; i++) {
    sets.forEach((s, k) => {
      tokens.set(s.tokens.subarray(i * per, (i + 1) * per), (i * v + k) * per);
      pooled.set(s.pooled.subarray(i * d, (i + 1) * d), (i * v + k) * d);
    });
  }
  return asCache({ ...f, views: v, tokens, pooled });
}

// CIFAR-10 and the MobileNet teacher in ../shared beside the checkout (as CI lays it out), or SYMSEQ_SHARED.
const shared = process.env.SYMSEQ_SHARED ?? join(__dirname, '..', '..', '..', '..', 'shared');
export const cifar = join(shared, 'data', 'cifar10-jpeg');
export const mobilenet = join(shared, 'models', 'mobilenet_v1_0.75_224');

/** Whether the real data is here; warns that `what` is skipped when not. */
export function realDataReady(what: string): boolean {
  const ready = existsSync(cifar) && existsSync(mobilenet);
  if (!ready) console.warn(`skipping ${what}: ${cifar} or ${mobilenet} is missing`);
  return ready;
}

/** One epoch of the default preset on 300 CIFAR-10 training and 100 test images into `out`, quietly. */
export async function trainTinyCifarRun(out: string, set: string[]): Promise<void> {
  const log = console.log;
  console.log = () => {};
  try {
    await trainCommand({
      dataDir: cifar,
      teacher: mobilenet,
      out,
      epochs: 1,
      trainLimit: 300,
      testLimit: 100,
      backend: 'wasm',
      quiet: true,
      set,
    });
  } finally {
    console.log = log;
  }
}
