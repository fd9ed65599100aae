import { join } from 'node:path';
import { buildFeatureCache, type FeatureCache, type ImageDataset, openFeatureCache } from '@symseq/data';
import type { Teacher } from '@symseq/vit-teacher';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from './config';

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
  const per = f.tokenCount * f.dim;
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

/** Teacher features of a split: from the cache when it matches, else computed (with a progress bar) and cached. */
export async function featuresOf(
  config: TrainConfig,
  teacher: Teacher,
  ds: ImageDataset,
  split: string,
  views: number,
  opts: { quiet?: boolean } = {},
): Promise<FeatureCache> {
  const dir = featureCacheDir(config, teacher, ds, split, views);
  const res = await buildFeatureCache({
    dir,
    dataset: ds,
    featurize: (images) =>
      tf.tidy(() => {
        const o = teacher.forward(images);
        return { tokens: o.tokens, pooled: o.pooled };
      }),
    teacherId: teacher.id,
    inputSize: teacher.inputSize,
    views,
    seed: config.seed,
    dtype: config.cache.dtype,
    batchSize: config.teacher.batchSize,
    quiet: opts.quiet,
  });
  if (!opts.quiet) console.error(`features ${split}: ${res.status} (${dir})`);
  return openFeatureCache(dir);
}
