// Token and pooled features of different widths (Dt ≠ Dp): e.g. tokens from an earlier teacher layer
// than the pooled feature (MobileNet conv_pw_11 [384] tokens, conv_pw_13 [768] pooled).
import { statSync } from 'node:fs';
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

const COUNT = 7;
const SIDE = 4;

function dataset(): InMemoryImageDataset {
  const pixels = Uint8Array.from(
    { length: COUNT * SIDE * SIDE * 3 },
    (_, i) => (i * 29 + ((i * i) % 41)) % 256,
  );
  return new InMemoryImageDataset({
    name: 'widths',
    classes: ['a', 'b', 'c'],
    labels: Int32Array.from({ length: COUNT }, (_, i) => i % 3),
    height: SIDE,
    width: SIDE,
    pixels,
    source: (i) => `widths#${i}`,
  });
}

/**
 * Tokens: the 4 quadrants' channel means (N 4, Dt 3). Pooled: 5 numbers, the image's channel means,
 * then its largest and smallest value (Dp 5), so no pooled value is a copy of the token layout.
 */
const wideTeacher: Featurizer = (x) =>
  tf.tidy(() => {
    const [b] = x.shape;
    const tokens = tf.reshape(tf.avgPool(x, 2, 2, 'valid'), [b, 4, 3]);
    const flat = tf.reshape(x, [b, -1]);
    const pooled = tf.concat([tf.mean(x, [1, 2]), tf.max(flat, 1, true), tf.min(flat, 1, true)], 1);
    return { tokens, pooled };
  });

/** The same features from the raw bytes, by hand: tokens [COUNT, 4, 3], pooled [COUNT, 5]. */
function expected(ds: InMemoryImageDataset): { tokens: number[]; pooled: number[] } {
  const tokens: number[] = [];
  const pooled: number[] = [];
  for (let i = 0; i < COUNT; i++) {
    const px = Array.from(ds.image(i).data, (v) => v / 255);
    for (let q = 0; q < 4; q++) {
      const [qy, qx] = [Math.floor(q / 2) * 2, (q % 2) * 2];
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let y = qy; y < qy + 2; y++) for (let x = qx; x < qx + 2; x++) s += px[(y * SIDE + x) * 3 + c];
        tokens.push(s / 4);
      }
    }
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let p = 0; p < SIDE * SIDE; p++) s += px[p * 3 + c];
      pooled.push(s / (SIDE * SIDE));
    }
    pooled.push(Math.max(...px), Math.min(...px));
  }
  return { tokens, pooled };
}

describe('feature cache with token width ≠ pooled width', () => {
  it('stores tokens [n, views, N, Dt] and pooled [n, views, Dp] and reads each back', async () => {
    const dir = await tempDir();
    const ds = dataset();
    const r = await buildFeatureCache({
      dir,
      dataset: ds,
      featurize: wideTeacher,
      teacherId: 'wide',
      inputSize: SIDE,
      views: 1,
      batchSize: 2,
      shardSize: 3,
      dtype: 'float32',
      quiet: true,
    });
    expect(r.manifest.shapes).toEqual({ tokens: [7, 2, 4, 3], pooled: [7, 2, 5] });
    // Last shard: 1 image × 2 views × (4·3 + 5) float32s.
    expect(statSync(join(dir, 'shard-00002.bin')).size).toBe(1 * 2 * 17 * 4);
    const cache = await openFeatureCache(dir);
    expect([cache.tokenCount, cache.tokenDim, cache.pooledDim]).toEqual([4, 3, 5]);
    const want = expected(ds);
    const idx = [0, 3, 4, 6];
    const tokens = cache.tokens(idx, 0);
    const pooled = cache.pooled(idx, 0);
    idx.forEach((img, k) => {
      for (let j = 0; j < 12; j++) expect(tokens[k * 12 + j]).toBeCloseTo(want.tokens[img * 12 + j], 5);
      for (let j = 0; j < 5; j++) expect(pooled[k * 5 + j]).toBeCloseTo(want.pooled[img * 5 + j], 5);
    });
    // The augmented view: its own 5 pooled numbers; min ≤ channel means ≤ max holds for any image.
    const aug = cache.pooled([6], 1);
    expect(aug).not.toEqual(cache.pooled([6], 0));
    for (let c = 0; c < 3; c++) {
      expect(aug[c]).toBeLessThanOrEqual(aug[3] + 1e-6);
      expect(aug[c]).toBeGreaterThanOrEqual(aug[4] - 1e-6);
    }
    const all = await loadFeatureCache(dir);
    expect(all.tokens.length).toBe(7 * 2 * 12);
    expect(all.pooled.length).toBe(7 * 2 * 5);
    // Image 4, view 0 is row 4·2 of [count, views, Dp].
    expect(Array.from(all.pooled.subarray(8 * 5, 9 * 5))).toEqual(Array.from(cache.pooled([4], 0)));
    expect(Array.from(all.tokens.subarray(9 * 12, 10 * 12))).toEqual(Array.from(cache.tokens([4], 1)));
  });

  it('a teacher whose pooled width changes is refused against the cache it built', async () => {
    const dir = await tempDir();
    const opts = {
      dir,
      dataset: dataset(),
      teacherId: 'wide',
      inputSize: SIDE,
      shardSize: 3,
      dtype: 'float32' as const,
      quiet: true,
    };
    await buildFeatureCache({ ...opts, featurize: wideTeacher });
    // Delete a shard so the next build resumes and meets the narrower teacher.
    const { rm } = await import('node:fs/promises');
    await rm(join(dir, 'shard-00001.bin'));
    const narrow: Featurizer = (x) =>
      tf.tidy(() => {
        const o = wideTeacher(x) as { tokens: tf.Tensor; pooled: tf.Tensor };
        return { tokens: o.tokens, pooled: tf.slice(o.pooled, [0, 0], [-1, 3]) };
      });
    await expect(buildFeatureCache({ ...opts, featurize: narrow })).rejects.toThrow(
      `buildFeatureCache: teacher 'wide' returned 4 tokens of size 3 and pooled features of size 3, but the cache in ${dir} holds 4 tokens of size 3 and pooled features of size 5`,
    );
  });
});
