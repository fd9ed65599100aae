import { parseConfig, Rng } from '@symseq/nn';
import { z } from 'zod';
import type { Codes } from './code-baselines';
import { labelSchema, toLabels } from './inputs';
import { voteOptionsSchema } from './knn';
import { averagePrecision, checkPermutation, type RetrievalResult } from './retrieval-map';
import { VoteTally } from './weighted-vote';

/**
 * Search over codes whose embedding is a sum of codewords, e = Σ_t B_t[c_t] (residual k-means: the
 * stages' centroids; product quantization: each slice's centroid in its own columns), through the
 * Gram matrices of the codebooks instead of the D-dimensional embeddings: e(a)·e(b) =
 * Σ_{s,t} G_st[a_s, b_t] with G_st = B_s B_tᵀ. For a query, T_t[j] = Σ_s G_st[a_s, j] is a small
 * table (length × V values), and its similarity to a database code is `length` table look-ups,
 * against D multiply-adds for the embeddings (768 for MobileNet's pooled feature; 8 look-ups at 8
 * symbols). Product quantization's slices are orthogonal (G_st = 0 for s ≠ t), so its tables need
 * only the diagonal blocks. The symmetric distance computation of product quantization (Jégou et
 * al., 2011), here for cosine similarity.
 */
export interface CodeGram {
  /** Positions (code length) the Gram covers. */
  readonly length: number;
  /** Codewords per position. */
  readonly V: number;
  /** Block s·length + t: [V · V] row-major dot products of position s's codewords with position t's; null when orthogonal. */
  readonly blocks: readonly (Float64Array | null)[];
}

/** Gram of the first `length` residual stages (codebooks [V · D] row-major), in float64. */
export function residualGram(
  codebooks: readonly Float32Array[],
  V: number,
  D: number,
  length: number,
): CodeGram {
  if (length > codebooks.length) {
    throw new Error(`residualGram: length ${length} exceeds the ${codebooks.length} stages`);
  }
  const blocks: (Float64Array | null)[] = new Array(length * length).fill(null);
  for (let s = 0; s < length; s++) {
    for (let t = s; t < length; t++) {
      const g = dotBlock(codebooks[s], codebooks[t], V, D);
      blocks[s * length + t] = g;
      if (t !== s) blocks[t * length + s] = transposed(g, V);
    }
  }
  return { length, V, blocks };
}

/** Gram of product quantization's slice codebooks (slice j: [V · width_j]): only diagonal blocks. */
export function productGram(
  codebooks: readonly Float32Array[],
  widths: readonly number[],
  V: number,
): CodeGram {
  const length = codebooks.length;
  const blocks: (Float64Array | null)[] = new Array(length * length).fill(null);
  for (let t = 0; t < length; t++)
    blocks[t * length + t] = dotBlock(codebooks[t], codebooks[t], V, widths[t]);
  return { length, V, blocks };
}

const codeRetrievalSchema = z
  .object({
    queryLabels: labelSchema,
    databaseLabels: labelSchema,
    /** Depth of mAP@R; 0 measures only the k-NN vote. */
    R: z.number().int().nonnegative().default(1000),
    /** Ties rank by position in this permutation of the database (see `retrievalMap`); default from `seed`. */
    tieOrder: z.array(z.number().int().nonnegative()).or(z.instanceof(Int32Array)).optional(),
    seed: z.number().int().default(0),
    knn: voteOptionsSchema.extend({ numClasses: z.number().int().positive() }).optional(),
  })
  .strict();

export type CodeRetrievalOptions = z.input<typeof codeRetrievalSchema>;

/**
 * `retrievalMap` (mAP@R and the weighted k-NN vote, cosine similarity, ties by `tieOrder`) for
 * queries and database given as codes, searched through `gram` (see {@link CodeGram}); only the first
 * `gram.length` symbols of each code count. The similarities are those of the L2-normalised decoded
 * embeddings, computed in float64 (the embedding path computes them in float32: equal codes tie
 * exactly either way, and rankings can differ only where two different codes' similarities agree
 * to float32 rounding).
 */
export function codeRetrieval(
  gram: CodeGram,
  queries: Codes,
  database: Codes,
  options: CodeRetrievalOptions,
): RetrievalResult {
  const cfg = parseConfig(codeRetrievalSchema, options, 'codeRetrieval options');
  const queryLabels = toLabels(cfg.queryLabels, 'codeRetrieval queryLabels', cfg.knn?.numClasses);
  const databaseLabels = toLabels(cfg.databaseLabels, 'codeRetrieval databaseLabels', cfg.knn?.numClasses);
  const n = database.rows;
  const { length: l, V } = gram;
  checkCodes(queries, l, V, queryLabels.length, 'queries');
  checkCodes(database, l, V, n, 'database');
  if (cfg.R > n) throw new Error(`codeRetrieval: R = ${cfg.R} exceeds the database size (${n})`);
  if (cfg.R === 0 && !cfg.knn) throw new Error('codeRetrieval: R = 0 and no knn: nothing to measure');
  const k = cfg.knn?.k ?? 0;
  if (k > n) throw new Error(`codeRetrieval: k = ${k} exceeds the database size (${n})`);
  const depth = Math.max(cfg.R, k);
  const order = cfg.tieOrder
    ? Int32Array.from(cfg.tieOrder)
    : Int32Array.from(new Rng(cfg.seed).permutation(n));
  checkPermutation(order, n, 'codeRetrieval');

  // The database in tie order, its first l symbols per row, and 1/|e| per row.
  const rankedLabels = Int32Array.from(order, (i) => databaseLabels[i]);
  const db = new Int32Array(n * l);
  for (let p = 0; p < n; p++) {
    const src = order[p] * database.length;
    for (let t = 0; t < l; t++) db[p * l + t] = database.data[src + t] + t * V;
  }
  const dbInvNorm = inverseNorms(gram, database, order);
  const queryInvNorm = inverseNorms(gram, queries);

  const tally = cfg.knn
    ? new VoteTally(rankedLabels, queryLabels, { ...cfg.knn, returnPredictions: false })
    : undefined;
  const table = new Float64Array(l * V);
  const sims = new Float64Array(n);
  const scratch = new Float64Array(n);
  const neighbours = new Int32Array(depth);
  const values = new Float64Array(depth);
  let sum = 0;
  for (let q = 0; q < queries.rows; q++) {
    // T_t[j] = Σ_s G_st[a_s, j] / |e(a)|
    table.fill(0);
    for (let s = 0; s < l; s++) {
      const a = queries.data[q * queries.length + s];
      for (let t = 0; t < l; t++) {
        const g = gram.blocks[s * l + t];
        if (!g) continue;
        const row = a * V;
        for (let j = 0; j < V; j++) table[t * V + j] += g[row + j];
      }
    }
    const qn = queryInvNorm[q];
    for (let p = 0; p < n; p++) {
      let dot = 0;
      const base = p * l;
      for (let t = 0; t < l; t++) dot += table[db[base + t]];
      sims[p] = dot * qn * dbInvNorm[p];
    }
    topRanked(sims, scratch, depth, neighbours, values);
    if (tally && cfg.knn) tally.add(q, neighbours.subarray(0, k), values.subarray(0, k));
    if (cfg.R > 0) sum += averagePrecision(rankedLabels, neighbours, 0, cfg.R, queryLabels[q]);
  }
  const result: RetrievalResult = {
    mAP: cfg.R > 0 ? (100 * sum) / queries.rows : Number.NaN,
    R: cfg.R,
    queries: queries.rows,
  };
  if (tally) result.knn = tally.result();
  return result;
}

/**
 * The `depth` largest of `sims`, ordered by value (descending) then position (ascending): tf.topk's
 * order, which the embedding path uses. `scratch` (same length) is working space.
 *
 * A threshold from a strided sample of the similarities keeps the candidates to about twice `depth`
 * in one pass (a full selection runs only when the sample guessed too high); the candidates are
 * ordered by a numeric sort of their values, and equal values take their positions in ascending order.
 */
export function topRanked(
  sims: Float64Array,
  scratch: Float64Array,
  depth: number,
  outIndex: Int32Array,
  outValue: Float64Array,
): void {
  const n = sims.length;
  let threshold = sampledThreshold(sims, depth);
  let count = 0;
  for (let p = 0; p < n; p++) if (sims[p] >= threshold) count++;
  if (count < depth) {
    scratch.set(sims);
    threshold = kthLargest(scratch, depth);
    count = 0;
    for (let p = 0; p < n; p++) if (sims[p] >= threshold) count++;
  }
  // Candidates (every value ≥ the depth-th largest is among them), in ascending position.
  const positions = new Int32Array(count);
  const values = new Float64Array(count);
  let c = 0;
  for (let p = 0; p < n; p++) {
    if (sims[p] >= threshold) {
      positions[c] = p;
      values[c++] = sims[p];
    }
  }
  values.sort(); // ascending: the r-th largest is values[count - 1 - r]
  // A candidate of value v goes to the next free slot among v's run of equal values: runs are found
  // by binary search, and `taken[start]` counts the slots used in the run starting there.
  const taken = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    const v = sims[positions[k]];
    // First rank r (from the largest) with values[count - 1 - r] === v: the lowest index i with
    // values[i] ≥ v among ascending values gives the run's last rank; its first rank is found the same way.
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (values[mid] > v) hi = mid - 1;
      else lo = mid;
    }
    // values[lo] is the last (highest index) element equal to v: rank count - 1 - lo is its first.
    const start = count - 1 - lo;
    const at = start + taken[start]++;
    if (at < depth) {
      outIndex[at] = positions[k];
      outValue[at] = v;
    }
  }
}

/**
 * A value expected to have a little over 2·depth similarities at or above it, read off every
 * (n / 4096)-th similarity; −∞ when the sample is too small to say.
 */
function sampledThreshold(sims: Float64Array, depth: number): number {
  const n = sims.length;
  const stride = Math.max(1, Math.floor(n / 4096));
  const m = Math.floor(n / stride);
  const rank = Math.ceil(((2 * depth) / n) * m) + 8;
  if (rank >= m) return Number.NEGATIVE_INFINITY;
  const sample = new Float64Array(m);
  for (let i = 0; i < m; i++) sample[i] = sims[i * stride];
  sample.sort();
  return sample[m - 1 - rank];
}

/** The k-th largest value of `a` (1-based k); reorders `a`. Quickselect, median-of-three pivots. */
function kthLargest(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1; // index in descending order
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    const x = a[lo];
    const y = a[mid];
    const z = a[hi];
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z)); // median of three
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
        i++;
        j--;
      }
    }
    // [lo, j] ≥ pivot ≥ [i, hi]; between them, values equal to the pivot.
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return pivot;
  }
  return a[target];
}

function dotBlock(a: Float32Array, b: Float32Array, V: number, D: number): Float64Array {
  const out = new Float64Array(V * V);
  for (let i = 0; i < V; i++) {
    const ai = i * D;
    for (let j = 0; j < V; j++) {
      const bj = j * D;
      let s = 0;
      for (let d = 0; d < D; d++) s += a[ai + d] * b[bj + d];
      out[i * V + j] = s;
    }
  }
  return out;
}

function transposed(g: Float64Array, V: number): Float64Array {
  const out = new Float64Array(V * V);
  for (let i = 0; i < V; i++) for (let j = 0; j < V; j++) out[j * V + i] = g[i * V + j];
  return out;
}

/** 1 / |e(c)| for each row of `codes` (in `order` when given): |e|² = Σ_{s,t} G_st[c_s, c_t]. */
function inverseNorms(gram: CodeGram, codes: Codes, order?: Int32Array): Float64Array {
  const { length: l, V } = gram;
  const out = new Float64Array(codes.rows);
  for (let p = 0; p < codes.rows; p++) {
    const base = (order ? order[p] : p) * codes.length;
    let sq = 0;
    for (let s = 0; s < l; s++) {
      const a = codes.data[base + s];
      for (let t = 0; t < l; t++) {
        const g = gram.blocks[s * l + t];
        if (g) sq += g[a * V + codes.data[base + t]];
      }
    }
    // A zero embedding has no direction; l2Normalize leaves it zero, so its similarities are 0.
    out[p] = sq > 0 ? 1 / Math.sqrt(sq) : 0;
  }
  return out;
}

function checkCodes(codes: Codes, length: number, V: number, rows: number, what: string): void {
  if (codes.rows !== rows) {
    throw new Error(`codeRetrieval: ${what} have ${codes.rows} codes but ${rows} labels`);
  }
  if (codes.length < length) {
    throw new Error(`codeRetrieval: ${what} codes have ${codes.length} symbols, the Gram covers ${length}`);
  }
  if (codes.data.length !== codes.rows * codes.length) {
    throw new Error(
      `codeRetrieval: ${what} codes hold ${codes.data.length} values, expected ${codes.rows} × ${codes.length}`,
    );
  }
  for (let i = 0; i < codes.rows; i++) {
    for (let t = 0; t < length; t++) {
      const c = codes.data[i * codes.length + t];
      if (!(c >= 0 && c < V)) {
        throw new Error(
          `codeRetrieval: ${what} code ${i} has symbol ${c} at position ${t}, expected 0…${V - 1}`,
        );
      }
    }
  }
}
