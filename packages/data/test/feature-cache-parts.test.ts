// Feature caches built in parts (--shard i/n jobs) or by another executor (worker threads): the same bytes
// as one build in one thread, the missing shards named until every part is in.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { InMemoryImageDataset } from '../src/datasets/image-dataset';
import {
  buildFeatureCache,
  computeFeatureShard,
  type FeatureShardExecutor,
  type Featurizer,
  mergeFeatureCache,
  openFeatureCache,
  shardsOfPart,
} from '../src/features/feature-cache';
import { tempDir } from './helpers';

/** 10 images of 8x8, two classes. */
function dataset(): InMemoryImageDataset {
  return new InMemoryImageDataset({
    name: 'synthetic',
    classes: ['a', 'b'],
    labels: Int32Array.from({ length: 10 }, (_, i) => i % 2),
    height: 8,
    width: 8,
    pixels: Uint8Array.from({ length: 10 * 8 * 8 * 3 }, (_, i) => (i * 37 + ((i * i) % 53)) % 256),
    source: (i) => `synthetic#${i}`,
  });
}

/** Tokens = the four 4x4 cell means (N 4, D 3), pooled = their mean. */
const cellTeacher: Featurizer = (x) =>
  tf.tidy(() => {
    const tokens = tf.reshape(tf.avgPool(x, 4, 4, 'valid'), [x.shape[0], 4, 3]);
    return { tokens, pooled: tf.mean(tokens, 1) };
  });

// 10 images in shards of 4: shards 0, 1, 2 (images 0..3, 4..7, 8..9); 2 augmented views each.
const base = {
  teacherId: 'cells',
  inputSize: 8,
  batchSize: 3,
  shardSize: 4,
  views: 2,
  seed: 4,
  augmentation: { scale: [0.5, 1] as [number, number] },
  quiet: true,
} as const;

const filesOf = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.startsWith('shard-'))
      .sort()
      .map((f) => [f, readFileSync(join(dir, f)).toString('hex')]),
  );

describe('feature cache parts', () => {
  it('shardsOfPart gives contiguous blocks that cover every shard exactly once', () => {
    expect(shardsOfPart(3, { index: 0, count: 2 })).toEqual([0]);
    expect(shardsOfPart(3, { index: 1, count: 2 })).toEqual([1, 2]);
    expect(shardsOfPart(10, { index: 2, count: 4 })).toEqual([5, 6]);
    for (const [shards, count] of [
      [1, 3],
      [7, 7],
      [49, 8],
    ]) {
      const all = Array.from({ length: count }, (_, index) => shardsOfPart(shards, { index, count })).flat();
      expect(all).toEqual(Array.from({ length: shards }, (_, s) => s));
    }
    expect(() => shardsOfPart(3, { index: 2, count: 2 })).toThrow(
      'feature cache part: expected index/count with 0 <= index < count, got 2/2',
    );
  });

  it('parts built separately equal one build byte for byte; the missing shards are named until then', async () => {
    const whole = await tempDir();
    await buildFeatureCache({ ...base, dir: whole, dataset: dataset(), featurize: cellTeacher });

    const dir = await tempDir();
    const first = await buildFeatureCache({
      ...base,
      dir,
      dataset: dataset(),
      featurize: cellTeacher,
      part: { index: 1, count: 2 },
    });
    expect(first.computedShards).toBe(2);
    expect(first.missingShards).toEqual([0]);
    expect(first.manifest.complete).toBe(false);
    const missing = `is incomplete, 1 of 3 shards missing: shard-00000.bin (images 0..3)`;
    await expect(openFeatureCache(dir)).rejects.toThrow(`openFeatureCache: the cache in ${dir} ${missing}`);
    await expect(mergeFeatureCache(dir)).rejects.toThrow(`mergeFeatureCache: the cache in ${dir} ${missing}`);

    const last = await buildFeatureCache({
      ...base,
      dir,
      dataset: dataset(),
      featurize: cellTeacher,
      part: { index: 0, count: 2 },
    });
    expect(last.computedShards).toBe(1);
    expect(last.missingShards).toEqual([]);
    expect(last.manifest.complete).toBe(true);
    expect(filesOf(dir)).toEqual(filesOf(whole));
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))).toEqual(
      JSON.parse(readFileSync(join(whole, 'manifest.json'), 'utf8')),
    );
    expect((await mergeFeatureCache(dir)).complete).toBe(true);
  });

  it('a reader opens parts whose last job did not mark the cache complete', async () => {
    const dir = await tempDir();
    for (const index of [0, 1]) {
      await buildFeatureCache({
        ...base,
        dir,
        dataset: dataset(),
        featurize: cellTeacher,
        part: { index, count: 2 },
      });
    }
    const manifestPath = join(dir, 'manifest.json');
    const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
    writeFileSync(manifestPath, JSON.stringify({ ...m, complete: false }));
    const cache = await openFeatureCache(dir);
    expect(cache.count).toBe(10);
    expect((await mergeFeatureCache(dir)).complete).toBe(true);
    expect(JSON.parse(readFileSync(manifestPath, 'utf8')).complete).toBe(true);
  });

  it('a part build refuses to delete a cache made with other options', async () => {
    const dir = await tempDir();
    await buildFeatureCache({ ...base, dir, dataset: dataset(), featurize: cellTeacher });
    await expect(
      buildFeatureCache({
        ...base,
        seed: 5,
        dir,
        dataset: dataset(),
        featurize: cellTeacher,
        part: { index: 0, count: 2 },
      }),
    ).rejects.toThrow(
      /was made with other options .* does not delete it because other jobs may share the folder/,
    );
    expect(readdirSync(dir).filter((f) => f.startsWith('shard-'))).toHaveLength(3);
  });

  it('an executor computing the shards out of order writes the same cache', async () => {
    const whole = await tempDir();
    await buildFeatureCache({ ...base, dir: whole, dataset: dataset(), featurize: cellTeacher });
    const reversed: FeatureShardExecutor = async ({ plan, todo, onShard, onViews }) => {
      for (const s of [...todo].reverse()) {
        await onShard(await computeFeatureShard(plan, dataset(), cellTeacher, s, onViews));
      }
    };
    const dir = await tempDir();
    const r = await buildFeatureCache({ ...base, dir, dataset: dataset(), executor: reversed });
    expect(r.computedShards).toBe(3);
    expect(filesOf(dir)).toEqual(filesOf(whole));

    const wrong: FeatureShardExecutor = async ({ plan, onShard }) => {
      await onShard(await computeFeatureShard(plan, dataset(), cellTeacher, 0));
      await onShard({ ...(await computeFeatureShard(plan, dataset(), cellTeacher, 1)), index: 7 });
    };
    await expect(
      buildFeatureCache({ ...base, dir: await tempDir(), dataset: dataset(), executor: wrong }),
    ).rejects.toThrow('buildFeatureCache: executor returned shard 7, which was not asked for');
    await expect(buildFeatureCache({ ...base, dir: await tempDir(), dataset: dataset() })).rejects.toThrow(
      'buildFeatureCache: give a featurize function (the teacher) or an executor',
    );
  });
});
