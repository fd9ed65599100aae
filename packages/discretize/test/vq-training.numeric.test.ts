import { ParamStore, Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { kmeans, usageStats, VectorQuantizer } from '../src';
import { rows, values } from './helpers';

/** A mixture of isotropic Gaussians: `n` points, cluster chosen uniformly, plus the true labels. */
function mixture(
  centres: number[][],
  sigma: number,
  n: number,
  rng: Rng,
): { x: tf.Tensor2D; labels: number[] } {
  const d = centres[0].length;
  const data = new Float32Array(n * d);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = rng.int(centres.length);
    labels.push(c);
    for (let j = 0; j < d; j++) data[i * d + j] = centres[c][j] + sigma * rng.normal();
  }
  return { x: tf.tensor2d(data, [n, d]), labels };
}

const dist = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));

/** For each true centre, the distance to the closest code. */
const centreErrors = (codes: number[][], centres: number[][]) =>
  centres.map((c) => Math.min(...codes.map((k) => dist(k, c))));

// Four well separated centres in 4-D.
const CENTRES = [
  [2, 0, 0, 0],
  [0, 2, 0, 0],
  [0, 0, -2, 0],
  [-1, -1, 1, 2],
];

describe('k-means', () => {
  test('finds the means of three obvious clusters; seeded, so it repeats', () => {
    const pts = [
      [0, 0],
      [0.2, 0],
      [0, 0.2],
      [5, 5],
      [5.4, 5],
      [-5, 5],
      [-5, 5.3],
      [-5.3, 5],
    ];
    const run = () => kmeans(tf.tensor2d(pts), 3, { rng: new Rng(3), iters: 5 });
    const { centres, counts } = run();
    const got = rows(centres);
    const expected = [
      [0.2 / 3, 0.2 / 3],
      [5.2, 5],
      [-15.3 / 3, 15.3 / 3],
    ];
    for (const e of expected) expect(Math.min(...got.map((g) => dist(g, e)))).toBeLessThan(1e-5);
    expect([...values(counts)].sort()).toEqual([2, 3, 3]);
    expect(values(run().centres)).toEqual(values(centres));
  });
});

describe('k-means on many points', () => {
  test('seeding from a subset (maxSeedPoints) still finds the mixture centres', () => {
    const { x } = mixture(CENTRES, 0.2, 3000, new Rng(8));
    const { centres, counts } = kmeans(x, 4, { rng: new Rng(9), iters: 10, maxSeedPoints: 200 });
    expect(Math.max(...centreErrors(rows(centres), CENTRES))).toBeLessThan(0.05);
    expect(values(counts).reduce((a, b) => a + b, 0)).toBe(3000);
  });
});

describe('VectorQuantizer training', () => {
  test('EMA recovers the centres of a Gaussian mixture; perplexity approaches the number of clusters', () => {
    const dataRng = new Rng(10);
    const store = new ParamStore(new Rng(11));
    const vq = new VectorQuantizer(store.scope('vq'), {
      dim: 4,
      codebookSize: 4,
      decay: 0.9,
      kmeansInit: true,
      kmeansIters: 0, // seeding only: the EMA has to do the averaging
    });
    // k-means++ seeds from a first batch: the codes start at single data points, ~σ·√D off.
    const first = mixture(CENTRES, 0.3, 32, dataRng);
    vq.discretize(first.x);
    const initError = Math.max(...centreErrors(rows(vq.codebook), CENTRES));
    for (let step = 0; step < 150; step++) {
      const { x } = mixture(CENTRES, 0.3, 64, dataRng);
      tf.tidy(() => {
        vq.discretize(x);
      });
      x.dispose();
    }
    const errors = centreErrors(rows(vq.codebook), CENTRES);
    expect(initError).toBeGreaterThan(0.2);
    expect(Math.max(...errors)).toBeLessThan(0.08);
    const test = mixture(CENTRES, 0.3, 2000, dataRng);
    const r = vq.discretize(test.x, { mode: 'inference' });
    const stats = usageStats(r.indices, 4);
    expect(stats.perplexity).toBeGreaterThan(3.95);
  });

  test('dead-code restart revives codes that no input reaches', () => {
    const centres = [
      [3, 0],
      [0, 3],
      [-3, 0],
      [0, -3],
    ];
    const run = (deadCodeThreshold: number) => {
      const store = new ParamStore(new Rng(1));
      const vq = new VectorQuantizer(store.scope('vq'), {
        dim: 2,
        codebookSize: 4,
        decay: 0.8,
        deadCodeThreshold,
      });
      // Two codes at clusters, two far away where no input ever lands.
      vq.setCodebook(tf.tensor2d([3, 0, 0, 3, 100, 100, -100, 100], [4, 2]));
      const dataRng = new Rng(5);
      let restarted = 0;
      for (let step = 0; step < 60; step++) {
        const { x } = mixture(centres, 0.2, 64, dataRng);
        const r = vq.discretize(x, { stats: true });
        restarted += r.stats?.restartedCodes ?? 0;
        tf.dispose([x, r.indices, r.output, r.auxLoss]);
      }
      const { x } = mixture(centres, 0.2, 2000, dataRng);
      const stats = usageStats(vq.discretize(x, { mode: 'inference' }).indices, 4);
      return { stats, restarted, codes: rows(vq.codebook) };
    };
    const without = run(0);
    expect(without.stats.usedCodes).toBe(2);
    expect(without.restarted).toBe(0);
    const withRestart = run(1);
    expect(withRestart.restarted).toBeGreaterThanOrEqual(2);
    expect(withRestart.stats.usedCodes).toBe(4);
    expect(withRestart.stats.perplexity).toBeGreaterThan(3.9);
    expect(Math.max(...centreErrors(withRestart.codes, centres))).toBeLessThan(0.1);
  });

  test('a restarted code is a recent input vector; live codes are untouched', () => {
    const vq = new VectorQuantizer(new ParamStore(new Rng(2)).scope('vq'), {
      dim: 2,
      codebookSize: 3,
      decay: 0.99,
      deadCodeThreshold: 0.995,
      learning: 'gradient',
    });
    vq.setCodebook(tf.tensor2d([0, 0, 1, 1, 50, 50], [3, 2]));
    const x = [
      [0.1, 0.2],
      [0.9, 1.1],
      [-0.3, 0.1],
      [1.2, 0.8],
    ];
    // clusterSize = 0.99·1 + 0.01·count: code 2 (never chosen) drops to 0.99 < 0.995, codes 0 and 1 reach 1.01.
    const r = vq.discretize(tf.tensor2d(x), { stats: true });
    expect(values(r.indices)).toEqual([0, 1, 0, 1]);
    expect(r.stats?.restartedCodes).toBe(1);
    const code2 = rows(vq.codebook)[2];
    const inputs = x.map((row) => row.map(Math.fround));
    expect(inputs.some((row) => row[0] === code2[0] && row[1] === code2[1])).toBe(true);
    expect(values(vq.clusterSize)).toEqual([1.01, 1.01, 0.995].map(Math.fround));
    expect(rows(vq.codebook).slice(0, 2)).toEqual([
      [0, 0],
      [1, 1],
    ]);
  });

  test('k-means init runs once, on the first training batch, and survives save/load', async () => {
    const make = (seed: number) =>
      new VectorQuantizer(new ParamStore(new Rng(seed)).scope('vq'), {
        dim: 4,
        codebookSize: 4,
        learning: 'gradient',
        kmeansInit: true,
      });
    const dataRng = new Rng(3);
    const vq = make(1);
    expect(vq.isInitialized()).toBe(false);
    const a = mixture(CENTRES, 0.1, 64, dataRng);
    vq.discretize(a.x);
    expect(vq.isInitialized()).toBe(true);
    const afterInit = values(vq.codebook);
    expect(Math.max(...centreErrors(rows(vq.codebook), CENTRES))).toBeLessThan(0.1);
    const b = mixture(CENTRES, 0.1, 64, dataRng);
    vq.discretize(b.x);
    expect(values(vq.codebook)).toEqual(afterInit); // gradient learning: discretize alone moves nothing

    const storeA = new ParamStore(new Rng(1));
    const saved = new VectorQuantizer(storeA.scope('vq'), {
      dim: 4,
      codebookSize: 4,
      learning: 'gradient',
      kmeansInit: true,
    });
    saved.discretize(a.x);
    const host = await storeA.toHost();
    const storeB = new ParamStore(new Rng(99));
    const loaded = new VectorQuantizer(storeB.scope('vq'), {
      dim: 4,
      codebookSize: 4,
      learning: 'gradient',
      kmeansInit: true,
    });
    storeB.load(host);
    expect(loaded.isInitialized()).toBe(true);
    loaded.discretize(b.x);
    expect(values(loaded.codebook)).toEqual(values(saved.codebook));
  });
});
