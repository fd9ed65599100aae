import { Rng } from '@symseq/nn';
import { resolveTrainConfig, type TrainConfig, type TrainConfigInput } from '../src/config';
import type { FeatureSet } from '../src/features';

/**
 * Synthetic teacher features with class structure: each class has a prototype token pattern, and the
 * pooled feature is the mean token, so a student can learn to tell classes apart from the tokens.
 */
export function syntheticFeatures(n: number, seed = 0, classes = 4, tokens = 4, dim = 8): FeatureSet {
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
    pooledDim: dim,
    grid: [2, tokens / 2],
    tokens: t,
    pooled: p,
    labels,
    classes: Array.from({ length: classes }, (_, i) => `c${i}`),
  };
}

export function tinyConfig(out: string, extra: TrainConfigInput = {}): TrainConfig {
  return resolveTrainConfig({
    name: 'tiny',
    seed: 3,
    student: {
      dModel: 16,
      heads: 2,
      vocabSize: 8,
      maxLength: 4,
      decoder: { layers: 1 },
      encoder: { layers: 1 },
      projector: { layers: 2, hiddenDim: 32, bottleneckDim: 8 },
      ...(extra.student ?? {}),
    },
    objective: { lengths: [1, 2, 4], ...(extra.objective ?? {}) },
    optim: { epochs: 2, batchSize: 16, lr: 3e-3, warmupEpochs: 0.5, ...(extra.optim ?? {}) },
    eval: { lengths: [1, 2, 4], k: 5 },
    cache: extra.cache,
    checkpointEvery: 3,
    logEvery: 1,
    out,
  });
}

/** Several single-view sets of the same images (same labels) as one set with `sets.length` views per image. */
export function withViews(sets: FeatureSet[]): FeatureSet {
  const f = sets[0];
  const v = sets.length;
  const per = f.tokensPerView * f.tokenDim;
  const tokens = new Float32Array(f.n * v * per);
  const pooled = new Float32Array(f.n * v * f.pooledDim);
  for (let i = 0; i < f.n; i++) {
    sets.forEach((s, k) => {
      tokens.set(s.tokens.subarray(i * per, (i + 1) * per), (i * v + k) * per);
      pooled.set(s.pooled.subarray(i * f.pooledDim, (i + 1) * f.pooledDim), (i * v + k) * f.pooledDim);
    });
  }
  return { ...f, views: v, tokens, pooled };
}
