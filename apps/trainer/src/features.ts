import { join } from 'node:path';
import {
  type BuildFeatureCacheResult,
  buildFeatureCache,
  type FeatureCache,
  type Featurizer,
  type ImageDataset,
  openFeatureCache,
} from '@symseq/data';
import type { Teacher } from '@symseq/vit-teacher';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from './config';
import { defaultWorkers, workerShardExecutor } from './feature-workers';

/** Size of the pooled features of a cache. */
export const pooledDimOf = (f: FeatureCache): number => f.manifest.shapes!.pooled[2];

/**
 * Tokens [B, N, D] of images `idx`, image i in its view `view(i)` (FeatureCache.tokens takes one
 * view for all; training pairs each image with its own).
 */
export function tokensOfViews(
  f: FeatureCache,
  idx: ArrayLike<number>,
  view: (i: number) => number,
): Float32Array {
  const per = f.tokenCount * f.tokenDim;
  const out = new Float32Array(idx.length * per);
  for (let i = 0; i < idx.length; i++) out.set(f.tokens([idx[i]], view(i)), i * per);
  return out;
}

/** Pooled features [B, Dp] of images `idx`, image i in its view `view(i)`. */
export function pooledOfViews(
  f: FeatureCache,
  idx: ArrayLike<number>,
  view: (i: number) => number,
): Float32Array {
  const d = pooledDimOf(f);
  const out = new Float32Array(idx.length * d);
  for (let i = 0; i < idx.length; i++) out.set(f.pooled([idx[i]], view(i)), i * d);
  return out;
}

/** The clean view's pooled features of every image, [count, Dp]. */
export function cleanPooled(f: FeatureCache): Float32Array {
  return f.pooled(
    Array.from({ length: f.count }, (_, i) => i),
    0,
  );
}

/** The feature-cache folder of one split: one per (teacher, layers, split, exact image set, views). */
export function featureCacheDir(
  config: TrainConfig,
  teacher: Teacher,
  ds: ImageDataset,
  split: string,
  views: number,
) {
  return join(
    config.cache.dir,
    'features',
    teacher.id.replace(/[^\w.@-]+/g, '_'),
    `${split}-${ds.length}-v${views}-${ds.fingerprint().slice(0, 12)}`,
  );
}

/** The teacher as the feature cache calls it: tokens and pooled features of a batch. */
export const teacherFeaturizer =
  (teacher: Teacher): Featurizer =>
  (images) =>
    tf.tidy(() => {
      const o = teacher.forward(images);
      return { tokens: o.tokens, pooled: o.pooled };
    });

export interface FeatureBuildOptions {
  quiet?: boolean;
  /** Worker threads for the teacher (each with its own backend; default all cores); 1 computes in this thread. */
  workers?: number;
  /** Build only job `index` of `count` of the cache (`--shard i/n`). */
  part?: { index: number; count: number };
}

/** Builds (or resumes, or reuses) the feature cache of a split; with `part`, only that job's shards. */
export async function buildFeaturesOf(
  config: TrainConfig,
  teacher: Teacher,
  ds: ImageDataset,
  split: string,
  views: number,
  opts: FeatureBuildOptions = {},
): Promise<{ dir: string; result: BuildFeatureCacheResult }> {
  const dir = featureCacheDir(config, teacher, ds, split, views);
  const workers = opts.workers ?? defaultWorkers();
  const result = await buildFeatureCache({
    dir,
    dataset: ds,
    featurize: teacherFeaturizer(teacher),
    executor:
      workers > 1
        ? workerShardExecutor({ workers, config, backend: tf.getBackend(), dataset: ds })
        : undefined,
    part: opts.part,
    teacherId: teacher.id,
    inputSize: teacher.inputSize,
    views,
    seed: config.seed,
    dtype: config.cache.dtype,
    shardSize: config.cache.shardSize,
    batchSize: config.teacher.batchSize,
    quiet: opts.quiet,
  });
  if (!opts.quiet) {
    const missing = result.missingShards.length
      ? `, ${result.missingShards.length} shards left to other jobs`
      : '';
    console.error(`features ${split}: ${result.status}${missing} (${dir})`);
  }
  return { dir, result };
}

/** Teacher features of a split: from the cache when it matches, else computed (with a progress bar) and cached. */
export async function featuresOf(
  config: TrainConfig,
  teacher: Teacher,
  ds: ImageDataset,
  split: string,
  views: number,
  opts: { quiet?: boolean; workers?: number } = {},
): Promise<FeatureCache> {
  const { dir } = await buildFeaturesOf(config, teacher, ds, split, views, opts);
  return openFeatureCache(dir);
}
