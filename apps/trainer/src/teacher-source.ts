import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  buildFeatureCache,
  createProgress,
  fileSystemModelHandler,
  type ImageDataset,
  loadFeatureCache,
  openCifar10,
  openImageFolder,
  resolveCifar10,
} from '@symseq/data';
import { Student } from '@symseq/decoder';
import {
  loadVisionTransformer,
  MOBILENET_V1_075_URL,
  mobilenetTeacher,
  type Teacher,
} from '@symseq/vit-teacher';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { type BackendChoice, selectBackend } from './backend';
import { merge, readConfigFile, resolveTrainConfig, type TrainConfig } from './config';
import type { FeatureSet } from './features';

export interface Splits {
  train: ImageDataset;
  test: ImageDataset;
}

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
  opts: { quiet?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<ImageDataset> {
  const { data } = config;
  const cacheDir = join(config.cache.dir, 'pixels');
  let ds: ImageDataset;
  if (data.dataset === 'cifar10') {
    const source = resolveCifar10({ dir: data.dir, env: opts.env ?? process.env, flag: '--data-dir' });
    ds = await openCifar10(source, which, { cacheDir, quiet: opts.quiet, strict: data.strict });
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
    });
    if (folder.skipped.length) {
      const s = folder.skipped[0];
      console.warn(
        `${split}: skipped ${folder.skipped.length} unreadable image(s), e.g. ${s.file}: ${s.reason}`,
      );
    }
    ds = folder;
  }
  return strideSubset(ds, which === 'train' ? data.trainLimit : data.testLimit);
}

export async function openSplits(
  config: TrainConfig,
  opts: { quiet?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<Splits> {
  const train = await openSplit(config, 'train', opts);
  const test = await openSplit(config, 'test', opts);
  if (train.classes.join() !== test.classes.join()) {
    throw new Error(
      `${config.data.dir}: the ${config.data.trainSplit} and ${config.data.testSplit} splits have different classes ([${train.classes.join(', ')}] vs [${test.classes.join(', ')}])`,
    );
  }
  return { train, test };
}

export const VIT_URLS: Record<string, string> = {
  'vit-s16': 'https://huggingface.co/facebook/dino-vits16/resolve/main/model.safetensors',
  'vit-s8': 'https://huggingface.co/facebook/dino-vits8/resolve/main/model.safetensors',
  'vit-b16': 'https://huggingface.co/facebook/dino-vitb16/resolve/main/model.safetensors',
  'vit-b8': 'https://huggingface.co/facebook/dino-vitb8/resolve/main/model.safetensors',
};

/** Is `url` reachable within a few seconds? Used to stop at once, offline, with a useful message. */
async function reachable(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
    return r.ok || r.status === 302 || r.status === 301;
  } catch {
    return false;
  }
}

export async function loadTeacher(
  config: TrainConfig,
  opts: { env?: NodeJS.ProcessEnv; onProgress?: (loaded: number, total?: number) => void } = {},
): Promise<Teacher> {
  const env = opts.env ?? process.env;
  const t = config.teacher;
  if (t.kind === 'mobilenet') {
    const path = t.path ?? env.MOBILENET_DIR;
    let model: Awaited<ReturnType<typeof loadLayersModel>>;
    if (path) {
      const json = path.endsWith('.json') ? path : join(path, 'model.json');
      if (!existsSync(json)) {
        throw new Error(
          `MobileNet teacher: ${resolve(json)} does not exist. Pass --teacher <folder with model.json> or set MOBILENET_DIR.`,
        );
      }
      model = await loadLayersModel(fileSystemModelHandler(path));
    } else {
      if (!(await reachable(MOBILENET_V1_075_URL))) {
        throw new Error(
          `MobileNet teacher: no local model given and ${MOBILENET_V1_075_URL} is not reachable.\n` +
            '  Pass --teacher <folder with model.json and its shards> or set MOBILENET_DIR.',
        );
      }
      model = await loadLayersModel(MOBILENET_V1_075_URL);
    }
    return mobilenetTeacher({ model: model as never, inputSize: t.inputSize, layer: t.tokensLayer });
  }
  const path = t.path ?? env.VIT_WEIGHTS;
  const url = VIT_URLS[t.arch];
  if (path && !/^https?:/.test(path)) {
    if (!existsSync(path) || !statSync(path).isFile()) {
      throw new Error(
        `ViT teacher: ${resolve(path)} is not a file. Pass --teacher <model.safetensors> or set VIT_WEIGHTS.`,
      );
    }
    return loadVisionTransformer(new Uint8Array(readFileSync(path)), {
      config: t.arch,
      inputSize: t.inputSize,
      name: path,
    });
  }
  const source = path ?? url;
  if (!(await reachable(source))) {
    throw new Error(
      `ViT teacher (${t.arch}) needs DINO weights, and ${source} is not reachable (offline?).\n` +
        `  Download ${url} (the Hugging Face facebook/dino-${t.arch.replace('-', '')} model.safetensors) on a machine with internet,\n` +
        '  then pass --teacher /path/to/model.safetensors or set VIT_WEIGHTS. timm/DINO-named safetensors work too.',
    );
  }
  // A download bar in MB (created once the size is known), unless the caller tracks progress itself.
  let bar: ReturnType<typeof createProgress> | undefined;
  let shown = 0;
  const onProgress =
    opts.onProgress ??
    ((loaded: number, total?: number) => {
      bar ??= createProgress({
        label: `download ${t.arch}`,
        total: (total ?? 0) / 1e6,
        unit: 'MB',
        decimals: 1,
      });
      bar.increment(loaded / 1e6 - shown);
      shown = loaded / 1e6;
    });
  try {
    return await loadVisionTransformer(source, { config: t.arch, inputSize: t.inputSize, onProgress });
  } finally {
    bar?.stop();
  }
}

/** Teacher features of a split: from the cache when it matches, else computed (with a progress bar) and cached. */
export async function featuresOf(
  config: TrainConfig,
  teacher: Teacher,
  ds: ImageDataset,
  split: string,
  views: number,
  opts: { quiet?: boolean } = {},
): Promise<FeatureSet> {
  // One folder per (teacher, split, exact image set, views): runs on different subsets never share a cache.
  const dir = join(
    config.cache.dir,
    'features',
    teacher.id.replace(/[^\w.@-]+/g, '_'),
    `${split}-${ds.length}-v${views}-${ds.fingerprint().slice(0, 12)}`,
  );
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
  const arrays = await loadFeatureCache(dir);
  const [n, v, N, D] = res.manifest.shapes!.tokens;
  return {
    n,
    views: v,
    tokensPerView: N,
    tokenDim: D,
    pooledDim: res.manifest.shapes!.pooled[2],
    grid: teacher.dims.grid,
    tokens: arrays.tokens,
    pooled: arrays.pooled,
    labels: arrays.labels,
    classes: [...res.manifest.classes],
  };
}

/** What the commands that read a finished run may override: where its data and teacher moved, the backend. */
export interface RunFlags {
  run: string;
  dataDir?: string;
  teacher?: string;
  backend?: string;
}

/**
 * Opens a finished run for `eval`, `encode`, `attn` and `export`: its resolved config (with the
 * data/teacher paths the flags override), the selected backend, then its final student (whose
 * variables need the backend).
 */
export async function openRun(
  flags: RunFlags,
): Promise<{ config: TrainConfig; student: Student; backend: { name: string; notes: string[] } }> {
  const dir = flags.run;
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath))
    throw new Error(`${resolve(dir)} is not a symseq run folder (config.json is missing)`);
  const config = resolveTrainConfig(
    merge(readConfigFile(cfgPath), {
      data: flags.dataDir ? { dir: flags.dataDir } : {},
      teacher: flags.teacher ? { path: flags.teacher } : {},
    }),
    cfgPath,
  );
  const json = join(dir, 'student.json');
  if (!existsSync(json))
    throw new Error(`${resolve(dir)}: student.json is missing (training did not finish?)`);
  const backend = await selectBackend((flags.backend as BackendChoice | undefined) ?? config.backend);
  const student = Student.load(
    readFileSync(json, 'utf8'),
    new Uint8Array(readFileSync(join(dir, 'student.safetensors'))),
    { source: join(dir, 'student') },
  );
  return { config, student, backend };
}
