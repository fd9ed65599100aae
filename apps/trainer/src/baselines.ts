import { Worker } from 'node:worker_threads';
import { type BaselineInput, type BaselineMethod, type BaselineTable, codeBaselines } from '@symseq/probe';
import type { ExtraRow, ExtraRowContext } from './evaluation';
import { builtWorkerScript } from './feature-workers';
import { cleanPooled } from './features';
import type { Series } from './plot';

/** How the report names each no-learning row. */
export const BASELINE_NAMES: Record<BaselineMethod, string> = {
  teacher: 'teacher pooled features',
  'residual-kmeans': 'residual k-means',
  'product-quantization': 'product quantization',
};

/** Depth of the retrieval metric: the deep-hashing literature's mAP@1000 on CIFAR-10. */
export const MAP_R = 1000;

type HostArrays = 'trainFeatures' | 'testFeatures' | 'trainLabels' | 'testLabels' | 'onProgress';

/** What a baseline worker starts from: the options, and the run's pooled features and labels in shared memory. */
export interface BaselineWorkerData {
  backend: string;
  options: Omit<BaselineInput, HostArrays>;
  trainFeatures: SharedArrayBuffer;
  testFeatures: SharedArrayBuffer;
  trainLabels: SharedArrayBuffer;
  testLabels: SharedArrayBuffer;
}

export type BaselineWorkerReply =
  | { type: 'progress'; line: string }
  | { type: 'table'; table: BaselineTable }
  | { type: 'error'; message: string };

/** codeBaselines' options for a run: the student's vocabulary and lengths, the run's seed and k-NN protocol. */
function baselineOptions(ctx: ExtraRowContext): Omit<BaselineInput, HostArrays> {
  const { config, train } = ctx;
  return {
    numClasses: train.manifest.classes.length,
    lengths: ctx.lengths,
    codebookSize: config.student.vocabSize,
    seed: config.seed,
    k: config.eval.k,
    T: config.eval.temperature,
    mapR: MAP_R,
  };
}

const progress = (ctx: ExtraRowContext) =>
  ctx.quiet ? undefined : (line: string) => console.error(`baselines: ${line}`);

function tableRows(table: BaselineTable): ExtraRow[] {
  return table.rows.map((r) => ({
    method: BASELINE_NAMES[r.method],
    length: r.length,
    top1: r.top1,
    top5: r.top5,
    [`mAP@${table.R}`]: r.mAP ?? Number.NaN,
  }));
}

/**
 * The no-learning rows of issue 10 on the run's own cached teacher features and k-NN protocol:
 * residual k-means (one stage per symbol, prefix l = sum of its first l centroids) and product
 * quantization (l codebooks over l slices for length l), both with the student's vocabulary as
 * centroids per codebook and the run's seed; plus mAP@1000 for each and for the teacher's features.
 * The teacher row has length 0 (continuous features, no code). Runs in this thread.
 */
export async function baselineRows(ctx: ExtraRowContext): Promise<ExtraRow[]> {
  if (!ctx.config.eval.baselines) return [];
  const table = await codeBaselines({
    ...baselineOptions(ctx),
    trainFeatures: cleanPooled(ctx.train),
    trainLabels: ctx.train.labels,
    testFeatures: cleanPooled(ctx.test),
    testLabels: ctx.test.labels,
    onProgress: progress(ctx),
  });
  return tableRows(table);
}

/**
 * The methods each baseline worker computes: on the cpu preset's CIFAR-10 features the teacher and
 * residual k-means took 20 + 172 s, product quantization 132 s (one core each).
 */
export const BASELINE_GROUPS: BaselineMethod[][] = [['teacher', 'residual-kmeans'], ['product-quantization']];

function shared(x: Float32Array | Int32Array): SharedArrayBuffer {
  const buf = new SharedArrayBuffer(x.byteLength);
  new Uint8Array(buf).set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  return buf;
}

/**
 * The same rows as {@link baselineRows}, each group of methods in its own worker thread (own wasm
 * backend), so they run beside the student's evaluation on the other cores. Start it before scoring
 * the student and await it after. The rows are identical to the in-thread ones (same backend, same
 * seed, same order).
 */
export function baselineRowsInWorkers(
  ctx: ExtraRowContext,
  groups: BaselineMethod[][] = BASELINE_GROUPS,
): Promise<ExtraRow[]> {
  if (!ctx.config.eval.baselines) return Promise.resolve([]);
  const script = builtWorkerScript('baseline-worker');
  const base = {
    backend: 'wasm',
    trainFeatures: shared(cleanPooled(ctx.train)),
    testFeatures: shared(cleanPooled(ctx.test)),
    trainLabels: shared(ctx.train.labels),
    testLabels: shared(ctx.test.labels),
  };
  const say = progress(ctx);
  const one = (methods: BaselineMethod[], k: number) =>
    new Promise<BaselineTable>((resolve, reject) => {
      const data: BaselineWorkerData = { ...base, options: { ...baselineOptions(ctx), methods } };
      const w = new Worker(script, { workerData: data });
      let done = false;
      const what = `baseline worker ${k + 1}/${groups.length} (${methods.join(', ')})`;
      w.on('message', (m: BaselineWorkerReply) => {
        if (m.type === 'progress') say?.(m.line);
        else if (m.type === 'error') {
          done = true;
          reject(new Error(`${what}: ${m.message}`));
        } else {
          done = true;
          resolve(m.table);
        }
        if (done) void w.terminate();
      });
      w.on('error', (e) => {
        done = true;
        reject(new Error(`${what}: ${e.message}`));
      });
      w.on('exit', (code) => {
        if (!done) reject(new Error(`${what} exited with code ${code}`));
      });
    });
  return Promise.all(groups.map(one)).then((tables) => tables.flatMap(tableRows));
}

/** The student's row beside the baselines: its k-NN accuracies at `length` and the mAP@R of its embeddings. */
export function studentMapRow(
  length: number,
  knn: { top1: number; top5: number },
  map: { mAP: number; R: number },
): ExtraRow {
  return { method: 'student', length, top1: knn.top1, top5: knn.top5, [`mAP@${map.R}`]: map.mAP };
}

const COLOURS: Record<string, string> = {
  [BASELINE_NAMES['residual-kmeans']]: '#ff7f0e',
  [BASELINE_NAMES['product-quantization']]: '#9467bd',
};

/** Plot series of the code baselines among `extra` rows (accuracy vs length), dashed beside the student. */
export function baselineSeries(extra: ExtraRow[]): Series[] {
  return Object.entries(COLOURS)
    .map(([method, colour]) => ({
      label: method,
      points: extra.filter((x) => x.method === method).map((x) => [x.length, x.top1] as [number, number]),
      colour,
      dashed: true,
    }))
    .filter((s) => s.points.length > 0);
}
