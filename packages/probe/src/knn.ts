import { parseConfig } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { featureSchema, labelSchema, toLabels } from './inputs';
import { bankAndQueries, disposeBank, nearestDistinct, type SearchBank } from './search-bank';
import { type KnnResult, ranges, VoteTally } from './weighted-vote';

/** k, T and predictions: the options every k-NN probe shares. */
export const voteOptionsSchema = z
  .object({
    /** Number of neighbours (DINO: 20). */
    k: z.number().int().positive().default(20),
    /** Temperature of the exp(similarity / T) vote weights (DINO: 0.07). */
    T: z.number().positive().default(0.07),
    /** Also return the top-1 prediction of every query. */
    returnPredictions: z.boolean().default(false),
  })
  .strict();

export const knnOptionsSchema = voteOptionsSchema
  .extend({
    /** Test queries per block: memory is about chunkSize × bankChunkSize floats. */
    chunkSize: z.number().int().positive().default(256),
    /** Training rows per block; larger banks are searched block by block and the top-k merged. */
    bankChunkSize: z.number().int().positive().default(8192),
  })
  .strict();

export type KnnOptions = z.input<typeof knnOptionsSchema>;

const knnInputSchema = knnOptionsSchema
  .extend({
    trainFeatures: featureSchema,
    trainLabels: labelSchema,
    testFeatures: featureSchema,
    testLabels: labelSchema,
    numClasses: z.number().int().positive(),
  })
  .strict();

export type KnnInput = z.input<typeof knnInputSchema>;

/**
 * Weighted k-NN classification as DINO evaluates features (facebookresearch/dino eval_knn.py):
 * rows are L2-normalised, similarity is the cosine, the k nearest training rows (tf.topk) vote
 * with weight exp(sim / T), and top-1 / top-5 accuracies are returned in percent.
 *
 * Features are `[N, D]` / `[M, D]` tensors or row-major Float32Arrays (D from the label counts).
 * Work is blocked over test queries and over the bank, so peak memory is the normalised features
 * plus one `chunkSize × bankChunkSize` similarity block. Equal similarities keep the lower training
 * index (tf.topk's rule, kept across bank blocks). Input tensors are not disposed.
 */
export async function knnClassify(input: KnnInput): Promise<KnnResult> {
  const cfg = parseConfig(knnInputSchema, input, 'knnClassify options');
  const trainLabels = toLabels(cfg.trainLabels, 'knnClassify trainLabels', cfg.numClasses);
  const testLabels = toLabels(cfg.testLabels, 'knnClassify testLabels', cfg.numClasses);
  checkSizes(trainLabels.length, testLabels.length, cfg.k, 'knnClassify');

  const { bank, queries } = bankAndQueries(
    { x: cfg.trainFeatures, n: trainLabels.length, name: 'trainFeatures' },
    { x: cfg.testFeatures, n: testLabels.length, name: 'testFeatures' },
    'knnClassify',
    cfg.bankChunkSize,
  );
  const tally = new VoteTally(trainLabels, testLabels, cfg);
  try {
    for (const [qs, qe] of ranges(testLabels.length, cfg.chunkSize)) {
      const { values, neighbours } = await nearest(bank, queries, qs, qe, cfg.k);
      for (let r = 0; r < qe - qs; r++) {
        tally.add(
          qs + r,
          neighbours.subarray(r * cfg.k, (r + 1) * cfg.k),
          values.subarray(r * cfg.k, (r + 1) * cfg.k),
        );
      }
    }
  } finally {
    queries.dispose();
    disposeBank(bank);
  }
  return tally.result();
}

/**
 * Top-k similarities and training indices of queries `[qs, qe)`, `[rows · k]` row-major. A bank of
 * distinct rows is searched by `nearestDistinct`; in a dense one each bank block's top-k become candidates, concatenated in bank order so that tf.topk's lower-position tie
 * rule still means lower training index; a second tf.topk picks the final k.
 */
export async function nearest(
  bank: SearchBank,
  queries: tf.Tensor2D,
  qs: number,
  qe: number,
  k: number,
): Promise<{ values: Float32Array; neighbours: Int32Array }> {
  const rows = qe - qs;
  const qT = tf.tidy(() => tf.transpose(tf.slice(queries, [qs, 0], [rows, -1]))) as tf.Tensor2D;
  if (bank.distinct) {
    try {
      return await nearestDistinct(bank.distinct, qT, k);
    } finally {
      qT.dispose();
    }
  }
  const { blocks } = bank;
  // Bank rows @ transposed queries, then a transpose of the small block: on wasm, queries @ bankᵀ
  // with a 50,000-wide bankᵀ was measured ~2.5× slower (256 queries, D 768).
  const blockValues: tf.Tensor[] = [];
  const blockIndices: tf.Tensor[] = [];
  const widths: number[] = [];
  try {
    for (let c = 0; c < blocks.length; c++) {
      const kc = Math.min(k, blocks[c][1] - blocks[c][0]);
      const r = tf.tidy(() => tf.topk(tf.transpose(tf.matMul(bank.rows[c], qT)), kc, true));
      blockValues.push(r.values);
      blockIndices.push(r.indices);
      widths.push(kc);
    }
    if (blocks.length === 1) {
      const [values, idx] = await Promise.all([blockValues[0].data(), blockIndices[0].data()]);
      return { values: values as Float32Array, neighbours: idx as Int32Array };
    }
    const merged = tf.tidy(() => tf.topk(tf.concat(blockValues, 1), k, true));
    const [values, pos, ...idx] = await Promise.all([
      merged.values.data(),
      merged.indices.data(),
      ...blockIndices.map((t) => t.data()),
    ]);
    tf.dispose([merged.values, merged.indices]);
    const starts = widths.map((_, c) => widths.slice(0, c).reduce((a, b) => a + b, 0));
    const neighbours = new Int32Array(rows * k);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < k; j++) {
        let p = pos[r * k + j];
        let c = 0;
        while (c + 1 < widths.length && p >= starts[c + 1]) c++;
        p -= starts[c];
        neighbours[r * k + j] = blocks[c][0] + idx[c][r * widths[c] + p];
      }
    }
    return { values: values as Float32Array, neighbours };
  } finally {
    qT.dispose();
    tf.dispose([...blockValues, ...blockIndices]);
  }
}

export function checkSizes(numTrain: number, numTest: number, k: number, what: string): void {
  if (numTrain === 0) throw new Error(`${what}: the training set is empty`);
  if (numTest === 0) throw new Error(`${what}: the test set is empty`);
  if (k > numTrain) throw new Error(`${what}: k = ${k} exceeds the number of training samples (${numTrain})`);
}
