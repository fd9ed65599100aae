import { parseConfig } from '@symseq/nn';
import type * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { type Codes, ProductQuantizer, ResidualKMeans } from './code-baselines';
import { type CodeGram, codeRetrieval, productGram, residualGram } from './code-search';
import { featureSchema, labelSchema, toFeatureTensor, toLabels } from './inputs';
import { knnClassify } from './knn';
import { retrievalMap } from './retrieval-map';
import { DISTINCT_SHARE } from './search-bank';
import type { KnnResult } from './weighted-vote';

export type BaselineMethod = 'teacher' | 'residual-kmeans' | 'product-quantization';

export interface BaselineRow {
  method: BaselineMethod;
  /** Code length (symbols); 0 for the teacher's continuous features. */
  length: number;
  /** Weighted k-NN accuracies in percent. */
  top1: number;
  top5: number;
  /** mAP@R in percent, when retrieval was measured. */
  mAP?: number;
}

export interface BaselineTable {
  rows: BaselineRow[];
  /** R of the mAP@R column (0: not measured). */
  R: number;
  /** Wall seconds per method: fitting, encoding, k-NN and retrieval. */
  seconds: Record<BaselineMethod, number>;
}

const baselineInputSchema = z
  .object({
    /** Pooled teacher features of the training images [N, D] (the k-NN bank). */
    trainFeatures: featureSchema,
    trainLabels: labelSchema,
    testFeatures: featureSchema,
    testLabels: labelSchema,
    numClasses: z.number().int().positive(),
    /** Code lengths to report (the student's prefix lengths). */
    lengths: z.array(z.number().int().positive()).min(1).default([1, 2, 4, 8]),
    /** Centroids per codebook: the student's vocabulary. */
    codebookSize: z.number().int().positive(),
    seed: z.number().int().default(0),
    /** Lloyd iterations per codebook. */
    iters: z.number().int().nonnegative().default(10),
    /** k-NN vote (DINO: k 20, T 0.07). */
    k: z.number().int().positive().default(20),
    T: z.number().positive().default(0.07),
    /** Depth of mAP@R (capped at the training-set size); 0 skips retrieval. */
    mapR: z.number().int().nonnegative().default(1000),
    methods: z
      .array(z.enum(['teacher', 'residual-kmeans', 'product-quantization']))
      .default(['teacher', 'residual-kmeans', 'product-quantization']),
    /**
     * How code rows are searched: `codes` through the codebooks' Gram matrices (a few table look-ups
     * per pair, see `codeRetrieval`), `embeddings` through the decoded D-dimensional embeddings (a
     * similarity pass over the database's distinct rows when they are few, else dense), `auto` the
     * first when at least half the database's codes are distinct, else the second (the faster of the
     * two in `bench/code-search.mjs`). Same rankings up to float32 rounding of near-equal similarities.
     */
    search: z.enum(['auto', 'codes', 'embeddings']).default('auto'),
    /** Called with a short line as each method finishes (progress for long runs). */
    onProgress: z.function().args(z.string()).returns(z.void()).optional(),
  })
  .strict();

export type BaselineInput = z.input<typeof baselineInputSchema>;

/**
 * The no-learning rows of an accuracy-vs-length report, on the same features and probe as the student:
 * the teacher ceiling (k-NN on the features themselves), residual k-means with max(lengths) stages
 * (length l = the sum of the first l centroids), and, per length l, product quantization with l
 * codebooks over l slices (a code of exactly l symbols, so every length gets the best PQ of its size).
 * Every code has `codebookSize` centroids per position, like the student's vocabulary. Each row gets
 * weighted k-NN top-1/top-5 and mAP@R (test images query the training images), both from one
 * similarity pass in which equal similarities rank in a permutation drawn from `seed` (decoded codes
 * repeat, and the database order is often class-sorted).
 */
export async function codeBaselines(input: BaselineInput): Promise<BaselineTable> {
  const cfg = parseConfig(baselineInputSchema, input, 'codeBaselines options');
  const trainLabels = toLabels(cfg.trainLabels, 'codeBaselines trainLabels', cfg.numClasses);
  const testLabels = toLabels(cfg.testLabels, 'codeBaselines testLabels', cfg.numClasses);
  const nTrain = trainLabels.length;
  const nTest = testLabels.length;
  // Host copies once: the quantizers and probes below read them many times.
  const train = hostRows(cfg.trainFeatures, nTrain, 'codeBaselines trainFeatures');
  const test = hostRows(cfg.testFeatures, nTest, 'codeBaselines testFeatures');
  if (train.length / nTrain !== test.length / nTest) {
    throw new Error(
      `codeBaselines: testFeatures have ${test.length / nTest} dimensions, trainFeatures have ${train.length / nTrain}`,
    );
  }
  const R = Math.min(cfg.mapR, nTrain);
  const lengths = [...cfg.lengths].sort((a, b) => a - b);
  const common = { codebookSize: cfg.codebookSize, seed: cfg.seed, iters: cfg.iters };
  const rows: BaselineRow[] = [];
  const seconds: Record<BaselineMethod, number> = {
    teacher: 0,
    'residual-kmeans': 0,
    'product-quantization': 0,
  };

  // k-NN and mAP@R from one similarity pass (retrievalMap's knn option); ties in a seeded order.
  const probe = async (method: BaselineMethod, length: number, trainX: Float32Array, testX: Float32Array) => {
    const vote = { k: cfg.k, T: cfg.T, numClasses: cfg.numClasses };
    if (R === 0) {
      const knn = await knnClassify({
        trainLabels,
        testLabels,
        testFeatures: testX,
        trainFeatures: trainX,
        ...vote,
      });
      rows.push({ method, length, top1: knn.top1, top5: knn.top5 });
      return;
    }
    const r = await retrievalMap({
      queryFeatures: testX,
      queryLabels: testLabels,
      databaseFeatures: trainX,
      databaseLabels: trainLabels,
      R,
      seed: cfg.seed,
      knn: vote,
      // One block for banks up to 65,536 rows: on wasm one top-1000 over 50,000 columns took 50 ms
      // for 256 queries, seven 8,192-wide ones plus their merge 187 ms.
      bankChunkSize: 65536,
    });
    const knn = r.knn as KnnResult;
    rows.push({ method, length, top1: knn.top1, top5: knn.top5, mAP: r.mAP });
  };
  /** Whether length l's rows are searched through the codes (see `search`). */
  const viaCodes = (codes: Codes, l: number) =>
    cfg.search === 'codes' ||
    (cfg.search === 'auto' && distinctPrefixes(codes, l) >= DISTINCT_SHARE * codes.rows);
  /** The same row as `probe` on the decoded embeddings, searched through the codes. */
  const probeCodes = (method: BaselineMethod, gram: CodeGram, trainCodes: Codes, testCodes: Codes) => {
    const r = codeRetrieval(gram, testCodes, trainCodes, {
      queryLabels: testLabels,
      databaseLabels: trainLabels,
      R,
      seed: cfg.seed,
      // Without retrieval the embedding path is knnClassify, whose ties keep the lower index.
      ...(R === 0 && { tieOrder: Int32Array.from({ length: nTrain }, (_, i) => i) }),
      knn: { k: cfg.k, T: cfg.T, numClasses: cfg.numClasses },
    });
    const knn = r.knn as KnnResult;
    rows.push({ method, length: gram.length, top1: knn.top1, top5: knn.top5, ...(R > 0 && { mAP: r.mAP }) });
  };
  const timed = async (method: BaselineMethod, run: () => Promise<void>) => {
    if (!cfg.methods.includes(method)) return;
    const t0 = performance.now();
    await run();
    seconds[method] = (performance.now() - t0) / 1000;
    cfg.onProgress?.(`${method}: ${seconds[method].toFixed(1)} s`);
  };

  await timed('teacher', () => probe('teacher', 0, train, test));
  await timed('residual-kmeans', async () => {
    const rkm = ResidualKMeans.fit({
      ...common,
      stages: lengths[lengths.length - 1],
      trainFeatures: train,
      rows: nTrain,
    });
    const [codesTrain, codesTest] = [rkm.encode(train, nTrain), rkm.encode(test, nTest)];
    for (const l of lengths) {
      if (viaCodes(codesTrain, l)) {
        const gram = residualGram(rkm.codebooks, rkm.codebookSize, rkm.dim, l);
        probeCodes('residual-kmeans', gram, codesTrain, codesTest);
      } else await probe('residual-kmeans', l, rkm.decode(codesTrain, l), rkm.decode(codesTest, l));
    }
  });
  await timed('product-quantization', async () => {
    for (const l of lengths) {
      const pq = ProductQuantizer.fit({ ...common, codebooks: l, trainFeatures: train, rows: nTrain });
      const [codesTrain, codesTest] = [pq.encode(train, nTrain), pq.encode(test, nTest)];
      if (viaCodes(codesTrain, l)) {
        const gram = productGram(
          pq.codebooks,
          pq.slices.map(([a, b]) => b - a),
          pq.codebookSize,
        );
        probeCodes('product-quantization', gram, codesTrain, codesTest);
      } else await probe('product-quantization', l, pq.decode(codesTrain), pq.decode(codesTest));
    }
  });
  return { rows, R, seconds };
}

function hostRows(x: tf.Tensor | Float32Array, rows: number, what: string): Float32Array {
  if (x instanceof Float32Array) {
    if (x.length === 0 || x.length % rows !== 0) {
      throw new Error(`${what}: ${x.length} values cannot be split into ${rows} rows (one per label)`);
    }
    return x;
  }
  const t = toFeatureTensor(x, rows, what);
  const out = t.dataSync() as Float32Array;
  t.dispose();
  return out;
}

const METHOD_NAMES: Record<BaselineMethod, string> = {
  teacher: 'teacher (continuous)',
  'residual-kmeans': 'residual k-means',
  'product-quantization': 'product quantization',
};

/**
 * Markdown: one row per method, one column per length (top-1 %, with mAP@R in parentheses when
 * measured); `student` rows (top-1 per length, optional mAP) are listed first when given.
 */
export function formatBaselineTable(
  table: BaselineTable,
  student?: Array<{ length: number; top1: number; mAP?: number }>,
): string {
  const lengths = [...new Set([...table.rows, ...(student ?? [])].map((r) => r.length))]
    .filter((l) => l > 0)
    .sort((a, b) => a - b);
  const line = (
    name: string,
    rows: Array<{ length: number; top1: number; mAP?: number }>,
    everyLength = false,
  ) => {
    const cells = lengths.map((l) => {
      const r = everyLength ? rows[0] : rows.find((x) => x.length === l);
      if (!r) return '–';
      return r.mAP === undefined ? r.top1.toFixed(2) : `${r.top1.toFixed(2)} (${r.mAP.toFixed(2)})`;
    });
    return `| ${name} | ${cells.join(' | ')} |`;
  };
  const lines = [
    `| k-NN top-1 %${table.R > 0 ? ` (mAP@${table.R} %)` : ''} | ${lengths.map((l) => `${l} symbols`).join(' | ')} |`,
    `|---|${lengths.map(() => '---:').join('|')}|`,
  ];
  if (student) lines.push(line('student', student));
  for (const method of ['residual-kmeans', 'product-quantization'] as const) {
    const rows = table.rows.filter((r) => r.method === method);
    if (rows.length > 0) lines.push(line(METHOD_NAMES[method], rows));
  }
  const teacher = table.rows.filter((r) => r.method === 'teacher');
  if (teacher.length > 0) lines.push(line(METHOD_NAMES.teacher, teacher, true));
  return lines.join('\n');
}

/** Distinct prefixes of `length` symbols among the codes. */
function distinctPrefixes(codes: Codes, length: number): number {
  const seen = new Set<string>();
  for (let i = 0; i < codes.rows; i++) {
    const at = i * codes.length;
    seen.add(codes.data.subarray(at, at + length).join(','));
  }
  return seen.size;
}
