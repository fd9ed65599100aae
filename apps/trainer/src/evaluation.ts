import type { FeatureCache } from '@symseq/data';
import type { Student } from '@symseq/decoder';
import { Rng } from '@symseq/nn';
import { knnClassify, retrievalMap, symbolClassStats, symbolKnnClassify, symbolUsage } from '@symseq/probe';
import * as tf from '@tensorflow/tfjs-core';
import { BASELINE_NAMES, baselineRows, baselineRowsInWorkers, MAP_R, studentMapRow } from './baselines';
import { forEachBatch } from './batches';
import type { TrainConfig } from './config';
import { defaultWorkers } from './feature-workers';
import { cleanPooled, pooledDimOf } from './features';
import { type RunFacts, resultTable, type TrainingFacts, writeReport } from './report';
import { onHostBackend } from './webgpu-backend';

/** Symbols and symbol-encoder embeddings of every image (clean view), per prefix length. */
export interface Encoded {
  /** [n, L] */
  symbols: Int32Array;
  length: number;
  /** length → [n, d] */
  embeddings: Map<number, Float32Array>;
  dim: number;
}

/** Runs the student in inference mode (hard symbols, no noise) over a feature set. */
export async function encodeAll(
  student: Student,
  f: FeatureCache,
  lengths: number[],
  opts: { batchSize?: number; label?: string; quiet?: boolean } = {},
): Promise<Encoded> {
  const bs = opts.batchSize ?? 500;
  const L = Math.max(...lengths);
  const symbols = new Int32Array(f.count * L);
  const embeddings = new Map<number, Float32Array>();
  let dim = 0;
  const all = Array.from({ length: f.count }, (_, i) => i);
  await forEachBatch(all, bs, { label: opts.label ?? 'encode', quiet: opts.quiet }, async (idx, s) => {
    const out = tf.tidy(() => {
      const tokens = tf.tensor3d(f.tokens(idx, 0), [idx.length, f.tokenCount, f.tokenDim]);
      const o = student.forward(tokens, { mode: 'inference', lengths });
      return { symbols: o.decoder.symbols, emb: o.prefixes.map((p) => p.embedding) };
    });
    symbols.set(await out.symbols.data(), s * L);
    for (let i = 0; i < lengths.length; i++) {
      const e = (await out.emb[i].data()) as Float32Array;
      dim = out.emb[i].shape[1] as number;
      if (!embeddings.has(lengths[i])) embeddings.set(lengths[i], new Float32Array(f.count * dim));
      embeddings.get(lengths[i])!.set(e, s * dim);
    }
    tf.dispose([out.symbols, ...out.emb]);
  });
  return { symbols, length: L, embeddings, dim };
}

export interface LengthResult {
  length: number;
  /** k-NN on the symbol encoder's embedding of the hard prefix. */
  top1: number;
  top5: number;
  /** k-NN on the symbol ids alone (fraction of matching positions), no learned embedding. */
  symbolicTop1: number;
  /** NMI between the prefix (as one joint code) and the classes. */
  nmi: number;
  /** Perplexity of the symbol at this position (the last of the prefix). */
  perplexity: number;
}

/** A further row of the evaluation, e.g. a no-learning baseline at one length. */
export interface ExtraRow {
  /** What produced it, e.g. `residual k-means`. */
  method: string;
  length: number;
  top1: number;
  /** Further named numbers (mAP@1000…), shown as extra columns. */
  [metric: string]: number | string;
}

export interface EvalResult {
  rows: LengthResult[];
  /** Rows from `EXTRA_ROWS` (baselines and other probes), in the order the sources gave them. */
  extra: ExtraRow[];
  /** k-NN on the teacher's own pooled features: the ceiling for this teacher. */
  teacher: { top1: number; top5: number };
  /** Test-set usage: symbols used, perplexity over all positions, mean distinct symbols per full sequence. */
  usage: { used: number; vocab: number; perplexity: number; distinctPerSequence: number; length: number };
  bank: number;
  queries: number;
}

/** The paper's table: k-NN top-1 at each prefix length, bank = train set, queries = test set. */
export async function evaluate(
  student: Student,
  trainSet: FeatureCache,
  test: FeatureCache,
  opts: {
    lengths: number[];
    k: number;
    T: number;
    batchSize?: number;
    quiet?: boolean;
    seed?: number;
    /** mAP@R of the student's embeddings per length, as extra rows (0 or absent: not measured). */
    mapR?: number;
    /**
     * The teacher's k-NN ceiling, already measured on the same features (the baselines' teacher row):
     * taken as is instead of a second 768-d pass over the bank.
     */
    teacher?: Promise<{ top1: number; top5: number } | undefined>;
  },
): Promise<EvalResult> {
  const lengths = [...opts.lengths].sort((a, b) => a - b);
  const numClasses = trainSet.manifest.classes.length;
  // Images with the same symbols have identical embeddings, so k-NN meets large ties, which top-k breaks
  // by bank order. A class-sorted bank (ImageFolder) would then vote for its first class; a seeded
  // shuffle of the bank makes ties break at random, as in the official (unsorted) CIFAR-10 batches.
  // Images are encoded independently, so the encoded bank is permuted rather than the teacher features.
  const order = new Rng((opts.seed ?? 0) + 4242).permutation(trainSet.count);
  const encoded = await encodeAll(student, trainSet, lengths, { ...opts, label: 'encode train' });
  const a: Encoded = {
    ...encoded,
    symbols: permuteRows(encoded.symbols, order, encoded.length),
    embeddings: new Map([...encoded.embeddings].map(([l, e]) => [l, permuteRows(e, order, encoded.dim)])),
  };
  const train = { n: trainSet.count, labels: permuteRows(trainSet.labels, order, 1) };
  const b = await encodeAll(student, test, lengths, { ...opts, label: 'encode test' });
  const vocab = (student.config as { vocabSize: number }).vocabSize;
  const usage = symbolUsage({ data: b.symbols, shape: [test.count, b.length] }, { vocabSize: vocab });
  const stats = symbolClassStats({ data: b.symbols, shape: [test.count, b.length] }, test.labels, {
    lengths,
  });
  const rows: LengthResult[] = [];
  const extra: ExtraRow[] = [];
  for (const length of lengths) {
    const knn = await knnClassify({
      trainFeatures: a.embeddings.get(length)!,
      trainLabels: train.labels,
      testFeatures: b.embeddings.get(length)!,
      testLabels: test.labels,
      numClasses,
      k: opts.k,
      T: opts.T,
    });
    const sym = await symbolKnnClassify({
      trainSymbols: { data: a.symbols, shape: [train.n, a.length] },
      trainLabels: train.labels,
      testSymbols: { data: b.symbols, shape: [test.count, b.length] },
      testLabels: test.labels,
      numClasses,
      k: opts.k,
      T: opts.T,
      prefixLength: length,
    });
    rows.push({
      length,
      top1: knn.top1,
      top5: knn.top5,
      symbolicTop1: sym.top1,
      nmi: stats.perPrefix.find((p) => p.length === length)?.nmi ?? Number.NaN,
      perplexity: usage.perPosition[length - 1]?.perplexity ?? Number.NaN,
    });
    if (opts.mapR) {
      const map = await retrievalMap({
        queryFeatures: b.embeddings.get(length)!,
        queryLabels: test.labels,
        databaseFeatures: a.embeddings.get(length)!,
        databaseLabels: train.labels,
        R: Math.min(opts.mapR, train.n),
        seed: opts.seed ?? 0,
      });
      extra.push(studentMapRow(length, knn, map));
    }
  }
  const teacher =
    (await opts.teacher) ??
    (await knnClassify({
      trainFeatures: permuteRows(cleanPooled(trainSet), order, pooledDimOf(trainSet)),
      trainLabels: train.labels,
      testFeatures: cleanPooled(test),
      testLabels: test.labels,
      numClasses,
      k: opts.k,
      T: opts.T,
    }));
  return {
    rows,
    extra,
    teacher: { top1: teacher.top1, top5: teacher.top5 },
    usage: {
      used: usage.overall.used,
      vocab,
      perplexity: usage.overall.perplexity,
      distinctPerSequence: usage.distinctPerSequence.mean,
      length: usage.length,
    },
    bank: train.n,
    queries: test.count,
  };
}

/** Rows (of `width` values) of `src` in the order `order` gives: row i of the result is row order[i]. */
export function permuteRows<T extends Float32Array | Int32Array>(src: T, order: number[], width: number): T {
  const out = new (src.constructor as new (n: number) => T)(src.length);
  for (let to = 0; to < order.length; to++)
    out.set(src.subarray(order[to] * width, (order[to] + 1) * width), to * width);
  return out;
}

/** What an extra-row source gets: the run's config and the teacher features of both splits. */
export interface ExtraRowContext {
  config: TrainConfig;
  train: FeatureCache;
  test: FeatureCache;
  /** eval.lengths, ascending (never empty). */
  lengths: number[];
  quiet?: boolean;
}

/**
 * Sources of further evaluation rows (baselines, other probes), run after the student's table by
 * `evaluateRun`, for `train` and `eval` alike. Add one by pushing a function here.
 */
export const EXTRA_ROWS: ((ctx: ExtraRowContext) => Promise<ExtraRow[]>)[] = [baselineRows];

/** Data-dependent settings that would fail only after the slow work: checked once the split sizes are known. */
export function checkAgainstData(config: TrainConfig, sizes: { train: number; test: number }): void {
  const problems: string[] = [];
  if (config.eval.k > sizes.train) {
    problems.push(`  eval.k: ${config.eval.k} exceeds the ${sizes.train} training images (the k-NN bank)`);
  }
  if (config.optim.batchSize > sizes.train) {
    problems.push(
      `  optim.batchSize: ${config.optim.batchSize} is larger than the ${sizes.train} training images`,
    );
  }
  if (config.objective.kind === 'dino' && config.objective.prototypes > sizes.train) {
    problems.push(
      `  objective.prototypes: ${config.objective.prototypes} exceeds the ${sizes.train} training images (k-means needs at least one per prototype)`,
    );
  }
  if (sizes.test < 1) problems.push('  data: the test split has no images');
  if (problems.length) throw new Error(`invalid config for this dataset:\n${problems.join('\n')}`);
}

/**
 * The facts every report of a run states, whichever command writes it: backend, teacher, image counts,
 * the command line and the skipped images; `training` adds what train knows (steps, seconds, loss).
 */
export function runFacts(
  run: {
    backend: string;
    teacherId: string;
    train: FeatureCache;
    test: FeatureCache;
    skipped: RunFacts['skipped'];
  },
  training: TrainingFacts = {},
): RunFacts {
  return {
    backend: run.backend,
    teacherId: run.teacherId,
    trainImages: run.train.count,
    testImages: run.test.count,
    ...training,
    command: process.argv.slice(1).join(' '),
    skipped: run.skipped,
  };
}

/** The teacher's k-NN among the baseline rows (undefined when there is none). */
function teacherRow(rows: ExtraRow[]): { top1: number; top5: number } | undefined {
  const r = rows.find((x) => x.method === BASELINE_NAMES.teacher);
  return r && { top1: r.top1, top5: Number(r.top5) };
}

/** Training-set size from which `evaluateRun` computes the baselines in worker threads. */
export const PARALLEL_BASELINES_MIN_IMAGES = 4096;

/**
 * The evaluate-and-report sequence `train` and `eval` share: the k-NN table of the student, the
 * extra rows, then report.md / report.json / accuracy.svg in `out`. Returns the result and the table.
 */
export async function evaluateRun(
  out: string,
  config: TrainConfig,
  student: Student,
  train: FeatureCache,
  test: FeatureCache,
  facts: RunFacts,
  opts: { quiet?: boolean } = {},
): Promise<{ result: EvalResult; table: string }> {
  const lengths = [...config.eval.lengths].sort((a, b) => a - b);
  const ctx: ExtraRowContext = { config, train, test, lengths, quiet: opts.quiet };
  // With more than one core the baselines run in worker threads while this thread scores the student;
  // on small sets the workers' start-up (a backend each) costs more than it saves.
  const parallel =
    defaultWorkers() > 1 && train.count >= PARALLEL_BASELINES_MIN_IMAGES
      ? baselineRowsInWorkers(ctx)
      : undefined;
  parallel?.catch(() => {}); // awaited below; not an unhandled rejection while the student is scored
  const result = await evaluate(student, train, test, {
    lengths: config.eval.lengths,
    k: config.eval.k,
    T: config.eval.temperature,
    batchSize: config.eval.batchSize,
    quiet: opts.quiet,
    mapR: config.eval.baselines ? MAP_R : 0,
    // The workers' teacher row is the same k-NN on the same pooled features (the ceiling, 77.48 %
    // top-1 / 97.92 % top-5 both ways in session 6's run); waiting for it saves a pass over the bank.
    teacher: parallel?.then(teacherRow),
  });
  // The sources read tensors synchronously, which webgpu in Node cannot; they take host data only.
  await onHostBackend(async () => {
    for (const source of EXTRA_ROWS) {
      result.extra.push(...(await (source === baselineRows && parallel ? parallel : source(ctx))));
    }
  });
  await writeReport(out, config, result, facts);
  return { result, table: resultTable(result) };
}
