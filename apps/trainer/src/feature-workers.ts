import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type {
  ComputedFeatureShard,
  FeatureShardExecutor,
  FeatureShardPlan,
  ImageDataset,
} from '@symseq/data';
import type { TrainConfig } from './config';

/** What a feature worker starts from (structured-cloned; the pixels are shared, not copied). */
export interface FeatureWorkerData {
  config: TrainConfig;
  backend: string;
  plan: FeatureShardPlan;
  images: {
    name: string;
    classes: string[];
    labels: SharedArrayBuffer;
    height: number;
    width: number;
    pixels: SharedArrayBuffer;
  };
}

export type FeatureWorkerRequest = { type: 'shard'; index: number } | { type: 'exit' };
export type FeatureWorkerReply =
  | { type: 'ready' }
  | { type: 'views'; views: number }
  | { type: 'shard'; shard: ComputedFeatureShard }
  | { type: 'error'; message: string };

/** `--workers` default: every core the process may use. */
export const defaultWorkers = (): number => availableParallelism();

/**
 * A built worker script (`feature-worker`, `baseline-worker`, …): next to this module in dist/, or in
 * dist/ beside src/ when run from source (tests).
 */
export function builtWorkerScript(name: string): URL {
  for (const rel of [`./${name}.js`, `../dist/${name}.js`]) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  throw new Error(`dist/${name}.js not found; build the trainer first (npm run build -w @symseq/trainer)`);
}

/** The dataset's pixels and labels in shared memory, in dataset order, for every worker to read. */
function shareImages(ds: ImageDataset): FeatureWorkerData['images'] {
  const bytes = ds.height * ds.width * 3;
  const pixels = new SharedArrayBuffer(ds.length * bytes);
  const view = new Uint8Array(pixels);
  for (let i = 0; i < ds.length; i++) view.set(ds.image(i).data, i * bytes);
  const labels = new SharedArrayBuffer(ds.length * 4);
  new Int32Array(labels).set(ds.labels);
  return { name: ds.name, classes: [...ds.classes], labels, height: ds.height, width: ds.width, pixels };
}

/**
 * Computes feature shards in `workers` worker threads, each with its own `backend` and teacher (loaded
 * from `config`), handing out one shard at a time; shards are written by the caller, one after another.
 * wasm is single-threaded in Node, so this is how extraction uses more than one core.
 */
export function workerShardExecutor(o: {
  workers: number;
  config: TrainConfig;
  backend: string;
  dataset: ImageDataset;
}): FeatureShardExecutor {
  if (!(Number.isInteger(o.workers) && o.workers >= 1)) {
    throw new Error(`--workers must be a whole number >= 1, got ${o.workers}`);
  }
  return ({ plan, todo, onShard, onViews }) =>
    new Promise<void>((resolve, reject) => {
      const script = builtWorkerScript('feature-worker');
      const images = shareImages(o.dataset);
      const queue = [...todo];
      const pool: Worker[] = [];
      let written = 0;
      let failed = false;
      let finished = false;
      // Shards are handed to onShard one at a time, in arrival order.
      let writes = Promise.resolve();
      const fail = (e: Error) => {
        if (failed || finished) return;
        failed = true;
        for (const w of pool) void w.terminate();
        reject(e);
      };
      const next = (w: Worker) => {
        const index = queue.shift();
        w.postMessage(
          (index === undefined ? { type: 'exit' } : { type: 'shard', index }) as FeatureWorkerRequest,
        );
      };
      const count = Math.min(o.workers, todo.length);
      for (let k = 0; k < count; k++) {
        const data: FeatureWorkerData = { config: o.config, backend: o.backend, plan, images };
        const w = new Worker(script, { workerData: data });
        pool.push(w);
        w.on('message', (m: FeatureWorkerReply) => {
          if (failed) return;
          // Two requests in flight per worker (it queues them): no idle round trip between shards.
          if (m.type === 'ready') {
            next(w);
            next(w);
          } else if (m.type === 'views') onViews(m.views);
          else if (m.type === 'error') fail(new Error(`feature worker ${k + 1}/${count}: ${m.message}`));
          else {
            next(w);
            writes = writes
              .then(() => onShard(m.shard))
              .then(() => {
                if (++written < todo.length) return;
                finished = true;
                for (const w of pool) void w.terminate();
                resolve();
              }, fail);
          }
        });
        w.on('error', (e) => fail(new Error(`feature worker ${k + 1}/${count}: ${e.message}`)));
        w.on('exit', (code) => {
          if (code !== 0 && !finished)
            fail(new Error(`feature worker ${k + 1}/${count} exited with code ${code}`));
        });
      }
    });
}
