import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  describeSkipped,
  type ImageDataset,
  openCifar10,
  openImageFolder,
  resolveCifar10,
  type SkippedFile,
} from '@symseq/data';
import type { TrainConfig } from './config';

export interface Splits {
  train: ImageDataset;
  test: ImageDataset;
  /** Unreadable images that were skipped (ImageFolder), in both splits. */
  skipped: SkippedFile[];
}

/** Unreadable images named on the console per split; the run's report.json lists every one. */
const SKIPPED_SHOWN = 20;

/** Every `n/limit`-th image: on class-sorted folders this keeps the classes balanced. */
export function strideSubset(ds: ImageDataset, limit?: number): ImageDataset {
  if (!limit || limit >= ds.length) return ds;
  const stride = ds.length / limit;
  return ds.subset(Array.from({ length: limit }, (_, i) => Math.floor(i * stride)));
}

/** Cheap checks that the dataset is where the config says, before any slow work starts. */
export function checkDataLocation(config: TrainConfig, env: NodeJS.ProcessEnv = process.env): void {
  const { data } = config;
  if (data.dataset === 'cifar10') {
    resolveCifar10({ dir: data.dir, env, flag: '--data-dir' });
    return;
  }
  const root = data.dir ?? env.SYMSEQ_DATA_DIR;
  if (!root)
    throw new Error('data.dataset is imagefolder: pass --data-dir <root> (holding <split>/<class>/*.jpg)');
  for (const split of [data.trainSplit, data.testSplit]) {
    if (!existsSync(join(root, split))) {
      throw new Error(
        `image folder ${resolve(root)}: split folder '${split}' is missing (expected ${join(root, split)}/<class>/*.jpg)`,
      );
    }
  }
}

/** One split ('train' or 'test') of the configured dataset, limited as configured. */
export async function openSplit(
  config: TrainConfig,
  which: 'train' | 'test',
  opts: { quiet?: boolean; env?: NodeJS.ProcessEnv; skipped?: SkippedFile[] } = {},
): Promise<ImageDataset> {
  const { data } = config;
  const cacheDir = join(config.cache.dir, 'pixels');
  // Image folders decode only the chosen images; strideSubset below then keeps them all.
  const limit = which === 'train' ? data.trainLimit : data.testLimit;
  let ds: ImageDataset;
  if (data.dataset === 'cifar10') {
    const source = resolveCifar10({ dir: data.dir, env: opts.env ?? process.env, flag: '--data-dir' });
    ds = await openCifar10(source, which, { cacheDir, quiet: opts.quiet, strict: data.strict, limit });
  } else {
    const root = data.dir ?? (opts.env ?? process.env).SYMSEQ_DATA_DIR;
    if (!root)
      throw new Error('data.dataset is imagefolder: pass --data-dir <root> (holding <split>/<class>/*.jpg)');
    const split = which === 'train' ? data.trainSplit : data.testSplit;
    const folder = await openImageFolder({
      root,
      split,
      imageSize: config.teacher.inputSize,
      cacheDir,
      quiet: opts.quiet,
      strict: data.strict,
      limit,
    });
    if (folder.skipped.length) {
      opts.skipped?.push(...folder.skipped);
      const listed = describeSkipped(folder.skipped, `${split}: skipped`, SKIPPED_SHOWN);
      const all = folder.skipped.length > SKIPPED_SHOWN ? "\n  (the run's report.json lists them all)" : '';
      console.warn(`${listed}${all}`);
    }
    ds = folder;
  }
  return strideSubset(ds, limit);
}

export async function openSplits(
  config: TrainConfig,
  opts: { quiet?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<Splits> {
  const skipped: SkippedFile[] = [];
  const train = await openSplit(config, 'train', { ...opts, skipped });
  const test = await openSplit(config, 'test', { ...opts, skipped });
  if (train.classes.join() !== test.classes.join()) {
    throw new Error(
      `${config.data.dir}: the ${config.data.trainSplit} and ${config.data.testSplit} splits have different classes ([${train.classes.join(', ')}] vs [${test.classes.join(', ')}])`,
    );
  }
  return { train, test, skipped };
}
