import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { InMemoryImageDataset } from '../src/datasets/image-dataset';
import {
  buildFeatureCache,
  type Featurizer,
  loadFeatureCache,
  openFeatureCache,
} from '../src/features/feature-cache';
import { tempDir } from './helpers';

const COUNT = 10;
const SIDE = 8;

/** 10 images of 8x8 with two classes. */
function dataset(seed = 0): InMemoryImageDataset {
  const pixels = Uint8Array.from(
    { length: COUNT * SIDE * SIDE * 3 },
    (_, i) => (i * 37 + seed * 101 + ((i * i) % 53)) % 256,
  );
  return new InMemoryImageDataset({
    name: 'synthetic',
    classes: ['a', 'b'],
    labels: Int32Array.from({ length: COUNT }, (_, i) => i % 2),
    height: SIDE,
    width: SIDE,
    pixels,
    source: (i) => `synthetic#${i}`,
  });
}

/** A fake teacher: tokens = means of the 2x2 grid cells (N 4, D 3), pooled = mean of the tokens. */
function meanPoolTeacher(counter = { calls: 0 }, failAfter = Number.POSITIVE_INFINITY): Featurizer {
  return (x) => {
    counter.calls++;
    if (counter.calls > failAfter) throw new Error('simulated crash');
    return tf.tidy(() => {
      const [b, s] = x.shape;
      const cells = tf.avgPool(x, s / 2, s / 2, 'valid');
      const tokens = tf.reshape(cells, [b, 4, 3]);
      return { tokens, pooled: tf.mean(tokens, 1) };
    });
  };
}

/** Independent reference of the clean view at input size 8 (native): grid-cell means of the raw bytes. */
function expectedCleanTokens(ds: InMemoryImageDataset): Float32Array {
  const out = new Float32Array(COUNT * 4 * 3);
  for (let i = 0; i < COUNT; i++) {
    const px = ds.image(i).data;
    for (let cy = 0; cy < 2; cy++) {
      for (let cx = 0; cx < 2; cx++) {
        for (let c = 0; c < 3; c++) {
          let s = 0;
          for (let y = cy * 4; y < cy * 4 + 4; y++)
            for (let x = cx * 4; x < cx * 4 + 4; x++) s += px[(y * SIDE + x) * 3 + c];
          out[(i * 4 + cy * 2 + cx) * 3 + c] = s / 16 / 255;
        }
      }
    }
  }
  return out;
}

const base = { teacherId: 'mean-pool', inputSize: SIDE, batchSize: 3, shardSize: 4, quiet: true } as const;

describe('buildFeatureCache', () => {
  it('computes features in shards with a manifest, and loads them as float32 arrays', async () => {
    const dir = await tempDir();
    const ds = dataset();
    const tensorsBefore = tf.memory().numTensors;
    const r = await buildFeatureCache({
      ...base,
      dir,
      dataset: ds,
      featurize: meanPoolTeacher(),
      dtype: 'float32',
    });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(r.status).toBe('built');
    expect(r.computedShards).toBe(3);
    expect(readdirSync(dir).sort()).toEqual([
      'manifest.json',
      'shard-00000.bin',
      'shard-00001.bin',
      'shard-00002.bin',
    ]);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(m).toMatchObject({
      format: 'symseq-feature-cache',
      version: 1,
      key: {
        teacherId: 'mean-pool',
        inputSize: 8,
        datasetFingerprint: ds.fingerprint(),
        views: 0,
        seed: 0,
        dtype: 'float32',
      },
      viewCount: 1,
      shapes: { tokens: [10, 1, 4, 3], pooled: [10, 1, 3] },
      complete: true,
    });
    // Last shard: 2 images × 1 view × (4·3 + 3) floats.
    expect(statSync(join(dir, 'shard-00002.bin')).size).toBe(2 * 15 * 4);
    const { tokens, pooled, labels } = await loadFeatureCache(dir);
    const expected = expectedCleanTokens(ds);
    for (let i = 0; i < expected.length; i++) expect(tokens[i]).toBeCloseTo(expected[i], 5);
    for (let i = 0; i < COUNT; i++) {
      for (let c = 0; c < 3; c++) {
        const mean = [0, 1, 2, 3].reduce((s, t) => s + expected[(i * 4 + t) * 3 + c], 0) / 4;
        expect(pooled[i * 3 + c]).toBeCloseTo(mean, 5);
      }
    }
    expect(Array.from(labels)).toEqual(Array.from(ds.labels));
  });

  it('reuses a matching cache and rebuilds one that does not match', async () => {
    const dir = await tempDir();
    const counter = { calls: 0 };
    const opts = { ...base, dir, dataset: dataset(), featurize: meanPoolTeacher(counter) };
    await buildFeatureCache(opts);
    const calls = counter.calls;
    expect(calls).toBe(5); // shards of 4, 4 and 2 images in batches of 3: 2 + 2 + 1 calls
    const again = await buildFeatureCache(opts);
    expect(again.status).toBe('reused');
    expect(counter.calls).toBe(calls);
    // Clean features only: the seed draws nothing, so another seed reuses the cache (two-seed runs share it).
    const otherSeed = await buildFeatureCache({ ...opts, seed: 3 });
    expect(otherSeed.status).toBe('reused');
    expect(counter.calls).toBe(calls);

    for (const change of [
      { teacherId: 'other' },
      { inputSize: 4 },
      { dataset: dataset(1) },
      { views: 1, seed: 3 },
      { views: 1, seed: 4 }, // with augmented views the seed matters
      { shardSize: 8 },
    ]) {
      const r = await buildFeatureCache({ ...opts, ...change });
      expect(r.status, JSON.stringify(Object.keys(change))).toBe('built');
    }
    // The last rebuild used 8-image shards: the old third shard is gone.
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', 'shard-00000.bin', 'shard-00001.bin']);
  });

  it('resumes after a crash, keeping finished shards, and equals an uninterrupted build', async () => {
    const opts = {
      ...base,
      dataset: dataset(),
      views: 2,
      augmentation: { scale: [0.5, 1] as [number, number], blur: { p: 0.5 } },
      seed: 9,
    };
    const dir = await tempDir();
    // Each batch needs 3 teacher calls (clean + 2 views); shard 0 has 2 batches: crash in shard 1.
    await expect(
      buildFeatureCache({ ...opts, dir, featurize: meanPoolTeacher({ calls: 0 }, 8) }),
    ).rejects.toThrow(/simulated crash/);
    expect(readdirSync(dir).filter((f) => f.startsWith('shard-'))).toEqual(['shard-00000.bin']);
    await expect(openFeatureCache(dir)).rejects.toThrow(
      'is incomplete, 2 of 3 shards missing: shard-00001.bin (images 4..7), shard-00002.bin (images 8..9); run buildFeatureCache with the same options',
    );
    const counter = { calls: 0 };
    const tensorsBefore = tf.memory().numTensors;
    const resumed = await buildFeatureCache({ ...opts, dir, featurize: meanPoolTeacher(counter) });
    expect(tf.memory().numTensors).toBe(tensorsBefore); // augmented views dispose their intermediates too
    expect(resumed.status).toBe('resumed');
    expect(resumed.computedShards).toBe(2);
    expect(counter.calls).toBe(3 * 3); // shard 1: 2 batches, shard 2: 1 batch; 3 views each

    const fresh = await tempDir();
    await buildFeatureCache({ ...opts, dir: fresh, featurize: meanPoolTeacher() });
    const a = await loadFeatureCache(dir);
    const b = await loadFeatureCache(fresh);
    expect(Array.from(a.tokens)).toEqual(Array.from(b.tokens));
    expect(Array.from(a.pooled)).toEqual(Array.from(b.pooled));
  });

  it('stores a clean view 0 and distinct augmented views, readable per view', async () => {
    const dir = await tempDir();
    const ds = dataset();
    await buildFeatureCache({
      ...base,
      dir,
      dataset: ds,
      views: 2,
      featurize: meanPoolTeacher(),
      dtype: 'float32',
    });
    const cache = await openFeatureCache(dir);
    expect([cache.count, cache.viewCount, cache.tokenCount, cache.tokenDim, cache.pooledDim]).toEqual([
      10, 3, 4, 3, 3,
    ]);
    const clean = cache.tokens([0, 5, 9], 0);
    const expected = expectedCleanTokens(ds);
    [0, 5, 9].forEach((img, k) => {
      for (let j = 0; j < 12; j++) expect(clean[k * 12 + j]).toBeCloseTo(expected[img * 12 + j], 5);
    });
    const v1 = cache.tokens([0, 5, 9], 1);
    const v2 = cache.tokens([0, 5, 9], 2);
    expect(v1).not.toEqual(clean);
    expect(v1).not.toEqual(v2);
    const all = cache.toArrays();
    // Image 5, view 2 sits at row 5·3 + 2 of the [count, views, N, D] array.
    expect(all.tokens.subarray((5 * 3 + 2) * 12, (5 * 3 + 3) * 12)).toEqual(v2.subarray(12, 24));
    expect(all.pooled.subarray((9 * 3 + 1) * 3, (9 * 3 + 2) * 3)).toEqual(cache.pooled([9], 1));
    expect(() => cache.tokens([0], 3)).toThrow(/view 3 is outside 0\.\.2/);
    expect(() => cache.pooled([10])).toThrow(/image index 10 is outside 0\.\.9/);
  });

  it('float16 halves the files and keeps values to about 3 significant digits', async () => {
    const d16 = await tempDir();
    const d32 = await tempDir();
    const ds = dataset();
    await buildFeatureCache({
      ...base,
      dir: d16,
      dataset: ds,
      featurize: meanPoolTeacher(),
      dtype: 'float16',
    });
    await buildFeatureCache({
      ...base,
      dir: d32,
      dataset: ds,
      featurize: meanPoolTeacher(),
      dtype: 'float32',
    });
    expect(statSync(join(d16, 'shard-00000.bin')).size * 2).toBe(statSync(join(d32, 'shard-00000.bin')).size);
    const a = await loadFeatureCache(d16);
    const b = await loadFeatureCache(d32);
    for (let i = 0; i < b.tokens.length; i++) {
      expect(Math.abs(a.tokens[i] - b.tokens[i])).toBeLessThanOrEqual(
        Math.abs(b.tokens[i]) * 2 ** -11 + 1e-7,
      );
    }
  });

  it('rejects a teacher with the wrong output shapes and bad options', async () => {
    const dir = await tempDir();
    const bad: Featurizer = (x) => ({ tokens: tf.zeros([x.shape[0], 4]), pooled: tf.zeros([x.shape[0], 4]) });
    await expect(buildFeatureCache({ ...base, dir, dataset: dataset(), featurize: bad })).rejects.toThrow(
      /teacher 'mean-pool' returned tokens of shape \[3,4\], expected \[3, N, D\]/,
    );
    await expect(
      buildFeatureCache({ ...base, dir, dataset: dataset(), featurize: bad, views: -1 }),
    ).rejects.toThrow(/views must be an integer >= 0, got -1/);
    await expect(
      buildFeatureCache({
        ...base,
        dir,
        dataset: dataset(),
        featurize: bad,
        views: 1,
        augmentation: { size: 16 },
      }),
    ).rejects.toThrow(/augmentation.size 16 differs from inputSize 8/);
  });

  it('an unwritable cache folder fails before the teacher runs', async () => {
    const root = await tempDir();
    writeFileSync(join(root, 'file'), 'x');
    const dir = join(root, 'file', 'features');
    const counter = { calls: 0 };
    await expect(
      buildFeatureCache({ ...base, dir, dataset: dataset(), featurize: meanPoolTeacher(counter) }),
    ).rejects.toThrow(`buildFeatureCache: cache folder ${dir} is not writable (ENOTDIR)`);
    expect(counter.calls).toBe(0);
  });

  it('a damaged manifest is rebuilt by buildFeatureCache, and named by openFeatureCache', async () => {
    const dir = await tempDir();
    const counter = { calls: 0 };
    await buildFeatureCache({ ...base, dir, dataset: dataset(), featurize: meanPoolTeacher(counter) });
    const calls = counter.calls;
    writeFileSync(join(dir, 'manifest.json'), '{"format": "symseq-feature-cache", "labels": ');
    await expect(openFeatureCache(dir)).rejects.toThrow(
      `openFeatureCache: no usable manifest in ${dir}: ${join(dir, 'manifest.json')} is not valid JSON`,
    );
    const again = await buildFeatureCache({
      ...base,
      dir,
      dataset: dataset(),
      featurize: meanPoolTeacher(counter),
    });
    expect(again.status).toBe('built');
    expect(counter.calls).toBe(2 * calls);
    const { tokens } = await loadFeatureCache(dir);
    const expected = expectedCleanTokens(dataset());
    expect(Math.max(...tokens.map((v, i) => Math.abs(v - expected[i])))).toBeLessThan(2e-3);
  });
});
