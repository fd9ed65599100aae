import { parseConfig, Rng } from '@symseq/nn';
import { z } from 'zod';
import { featureSchema, labelSchema, toLabels } from './inputs';
import { nearest, voteOptionsSchema } from './knn';
import { bankAndQueries, disposeBank } from './search-bank';
import { type KnnResult, ranges, VoteTally } from './weighted-vote';

const retrievalInputSchema = z
  .object({
    /** Query embeddings (e.g. the test images) [Q, D]. */
    queryFeatures: featureSchema,
    queryLabels: labelSchema,
    /** Database embeddings (e.g. the training images) [N, D]. */
    databaseFeatures: featureSchema,
    databaseLabels: labelSchema,
    /** Depth of the ranking (mAP@R); the deep-hashing literature uses 1000 on CIFAR-10 at 59,000 items, some the whole database. */
    R: z.number().int().positive().default(1000),
    /**
     * Ties: database items with equal similarity are ranked by their position in this permutation of
     * 0…N−1 (earlier first). Default: a permutation drawn from `seed`, so ties break at random but
     * reproducibly, not by the database's (often class-sorted) order.
     */
    tieOrder: z.array(z.number().int().nonnegative()).or(z.instanceof(Int32Array)).optional(),
    seed: z.number().int().default(0),
    /** Queries per block. */
    chunkSize: z.number().int().positive().default(256),
    /** Database rows per block. */
    bankChunkSize: z.number().int().positive().default(8192),
    /**
     * Also the weighted k-NN vote (knnClassify's), from the same similarity pass: the first k of each
     * ranking. Its ties follow `tieOrder` too (knnClassify keeps the lower database index).
     */
    knn: voteOptionsSchema.extend({ numClasses: z.number().int().positive() }).optional(),
  })
  .strict();

export type RetrievalInput = z.input<typeof retrievalInputSchema>;

export interface RetrievalResult {
  /** Mean average precision over the top R, in percent (0–100). */
  mAP: number;
  R: number;
  /** Number of queries. */
  queries: number;
  /** The k-NN result, when `knn` was given. */
  knn?: KnnResult;
}

/**
 * mAP@R retrieval: each query ranks the database by cosine similarity of the embeddings (rows are
 * L2-normalised), an item is relevant when its label equals the query's, and
 * AP@R = (1 / hits) · Σ_{r ≤ R, item r relevant} (relevant items in the first r) / r, with
 * hits the relevant items in the top R. A query with no hit in the top R scores 0, and the mean is
 * over all queries: DeepHash-pytorch's `CalcTopMap`, the usual protocol for CIFAR-10 hashing results.
 * Equal similarities are ordered by `tieOrder` (see there); this matters for discrete codes, whose
 * decoded embeddings repeat. Input tensors are not disposed.
 */
export async function retrievalMap(input: RetrievalInput): Promise<RetrievalResult> {
  const cfg = parseConfig(retrievalInputSchema, input, 'retrievalMap options');
  const queryLabels = toLabels(cfg.queryLabels, 'retrievalMap queryLabels');
  const databaseLabels = toLabels(cfg.databaseLabels, 'retrievalMap databaseLabels');
  const n = databaseLabels.length;
  if (queryLabels.length === 0) throw new Error('retrievalMap: there are no queries');
  if (cfg.R > n) throw new Error(`retrievalMap: R = ${cfg.R} exceeds the database size (${n})`);
  if (cfg.knn && cfg.knn.k > n) {
    throw new Error(`retrievalMap: k = ${cfg.knn.k} exceeds the database size (${n})`);
  }
  const depth = Math.max(cfg.R, cfg.knn?.k ?? 0);
  const order = cfg.tieOrder
    ? Int32Array.from(cfg.tieOrder)
    : Int32Array.from(new Rng(cfg.seed).permutation(n));
  checkPermutation(order, n, 'retrievalMap');
  // The database in tie order: tf.topk keeps the lower position among equal values (knn.ts `nearest`).
  const rankedLabels = Int32Array.from(order, (i) => databaseLabels[i]);
  const { bank, queries } = bankAndQueries(
    { x: cfg.databaseFeatures, n, name: 'databaseFeatures', order },
    { x: cfg.queryFeatures, n: queryLabels.length, name: 'queryFeatures' },
    'retrievalMap',
    cfg.bankChunkSize,
  );
  const tally = cfg.knn
    ? new VoteTally(
        rankedLabels,
        toLabels(queryLabels, 'retrievalMap queryLabels', cfg.knn.numClasses),
        cfg.knn,
      )
    : undefined;
  let sum = 0;
  try {
    for (const [qs, qe] of ranges(queryLabels.length, cfg.chunkSize)) {
      const { values, neighbours } = await nearest(bank, queries, qs, qe, depth);
      for (let r = 0; r < qe - qs; r++) {
        const at = r * depth;
        if (tally && cfg.knn) {
          const k = cfg.knn.k;
          tally.add(qs + r, neighbours.subarray(at, at + k), values.subarray(at, at + k));
        }
        sum += averagePrecision(rankedLabels, neighbours, at, cfg.R, queryLabels[qs + r]);
      }
    }
  } finally {
    queries.dispose();
    disposeBank(bank);
  }
  const result: RetrievalResult = {
    mAP: (100 * sum) / queryLabels.length,
    R: cfg.R,
    queries: queryLabels.length,
  };
  if (tally) result.knn = tally.result();
  return result;
}

/**
 * AP@R of one ranking: `neighbours[at …]` are positions into `rankedLabels`; 0 when nothing relevant
 * is in the top R (DeepHash-pytorch's `CalcTopMap`).
 */
export function averagePrecision(
  rankedLabels: Int32Array,
  neighbours: ArrayLike<number>,
  at: number,
  R: number,
  truth: number,
): number {
  let hits = 0;
  let precisions = 0;
  for (let j = 0; j < R; j++) {
    if (rankedLabels[neighbours[at + j]] === truth) {
      hits++;
      precisions += hits / (j + 1);
    }
  }
  return hits > 0 ? precisions / hits : 0;
}

export function checkPermutation(order: Int32Array, n: number, what: string): void {
  if (order.length !== n) {
    throw new Error(`${what}: tieOrder has ${order.length} entries, expected one per database item (${n})`);
  }
  const seen = new Uint8Array(n);
  for (const i of order) {
    if (i < 0 || i >= n || seen[i]) throw new Error(`${what}: tieOrder must be a permutation of 0…${n - 1}`);
    seen[i] = 1;
  }
}
