import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createProgress, fileSystemModelHandler } from '@symseq/data';
import {
  loadVisionTransformer,
  MOBILENET_V1_075_URL,
  mobilenetTeacher,
  type Teacher,
} from '@symseq/vit-teacher';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import type { TrainConfig } from './config';

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
    return mobilenetTeacher({
      model: model as never,
      inputSize: t.inputSize,
      layer: t.tokensLayer,
      pooledLayer: t.pooledLayer,
    });
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
