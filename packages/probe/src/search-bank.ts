import { l2Normalize } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { type FeatureInput, toFeatureTensor } from './inputs';
import { ranges } from './weighted-vote';

/**
 * The database a k-NN or retrieval pass searches. Dense: L2-normalised rows in blocks of
 * `bankChunkSize`. Distinct: when many rows are copies of one another — the decoded embeddings of short
 * discrete codes: 128 distinct rows among 50,000 at one symbol of 128 — the distinct rows once and, per
 * distinct row, its bank rows; a query's neighbours are then read off its similarities to the distinct
 * rows (one small matMul and top-k) instead of a similarity per bank row. The values are the same (each
 * is the dot product of the same two vectors), and the walk keeps tf.topk's order (similarity, then
 * bank position), so the ranking and its tie order are unchanged.
 */
export type SearchBank =
  | {
      /** [start, end) bank rows of each block. */
      blocks: Array<[number, number]>;
      /** The normalised rows of each block. */
      rows: tf.Tensor2D[];
      distinct?: undefined;
    }
  | {
      /** Distinct normalised rows [U, D] and, per distinct row, its bank rows in ascending order. */
      distinct: { rows: tf.Tensor2D; members: Int32Array[] };
    };

/** Below this share of distinct rows the bank is searched through its distinct rows. */
export const DISTINCT_SHARE = 0.5;

/**
 * Builds the search bank of `x` ([n, D] tensor or row-major Float32Array), in the order `order`
 * gives when present (bank row i = input row order[i]). Host arrays are checked for repeated rows
 * (bit-equal); tensors are searched densely (reading them back would cost a sync). The caller disposes
 * the bank with {@link disposeBank}.
 */
export function searchBank(
  x: FeatureInput,
  n: number,
  what: string,
  bankChunkSize: number,
  order?: Int32Array,
): SearchBank {
  const repeats = x instanceof Float32Array && n > 0 ? distinctRows(x, n, order) : undefined;
  if (x instanceof Float32Array && repeats) {
    // Only the distinct rows go to the backend, gathered here from the host array.
    const d = x.length / n;
    const u = repeats.first.length;
    const host = new Float32Array(u * d);
    repeats.first.forEach((row, i) => {
      host.set(x.subarray(row * d, (row + 1) * d), i * d);
    });
    const rows = tf.tidy(() => l2Normalize(toFeatureTensor(host, u, what)) as tf.Tensor2D);
    return { distinct: { rows, members: membersOf(repeats.index, u) } };
  }
  const blocks = ranges(n, bankChunkSize);
  return tf.tidy(() => {
    const t = toFeatureTensor(x, n, what);
    const bank = l2Normalize(order ? tf.gather(t, order) : t) as tf.Tensor2D;
    const rows =
      blocks.length === 1
        ? [bank]
        : blocks.map(([s, e]) => tf.slice(bank, [s, 0], [e - s, -1]) as tf.Tensor2D);
    return { blocks, rows };
  });
}

/** Feature size D of the bank's rows. */
export function bankDim(bank: SearchBank): number {
  return (bank.distinct ? bank.distinct.rows : bank.rows[0]).shape[1];
}

/**
 * The search bank of `bank` and the L2-normalised `queries` [nq, D] of one k-NN or retrieval call,
 * checking that both have the same D. Names: the calling function and its two fields, for errors.
 */
export function bankAndQueries(
  bank: { x: FeatureInput; n: number; name: string; order?: Int32Array },
  queries: { x: FeatureInput; n: number; name: string },
  fn: string,
  bankChunkSize: number,
): { bank: SearchBank; queries: tf.Tensor2D } {
  const b = searchBank(bank.x, bank.n, `${fn} ${bank.name}`, bankChunkSize, bank.order);
  try {
    const q = tf.tidy(() => {
      const t = toFeatureTensor(queries.x, queries.n, `${fn} ${queries.name}`);
      const dim = bankDim(b);
      if (t.shape[1] !== dim) {
        throw new Error(`${fn}: ${queries.name} have ${t.shape[1]} dimensions, ${bank.name} have ${dim}`);
      }
      return l2Normalize(t) as tf.Tensor2D;
    });
    return { bank: b, queries: q };
  } catch (e) {
    disposeBank(b);
    throw e;
  }
}

export function disposeBank(bank: SearchBank): void {
  if (bank.distinct) bank.distinct.rows.dispose();
  else tf.dispose(bank.rows);
}

/**
 * Distinct rows of a row-major [n, D] array (in `order` when given): `index[i]` is bank row i's
 * distinct row, `first[u]` the input row holding distinct row u. Undefined when more than `share`
 * of the rows are distinct (it stops counting there), or D is 0.
 */
export function distinctRows(
  x: Float32Array,
  n: number,
  order?: Int32Array,
  share = DISTINCT_SHARE,
): { index: Int32Array; first: Int32Array } | undefined {
  const d = x.length / n;
  if (!Number.isInteger(d) || d === 0) return undefined;
  const words = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const limit = Math.floor(n * share);
  const buckets = new Map<number, number[]>();
  const index = new Int32Array(n);
  const first: number[] = [];
  const same = (a: number, b: number) => {
    for (let j = 0; j < d; j++) if (words[a * d + j] !== words[b * d + j]) return false;
    return true;
  };
  for (let i = 0; i < n; i++) {
    const row = order ? order[i] : i;
    let h = 0x811c9dc5;
    for (let j = row * d, end = j + d; j < end; j++) h = Math.imul(h ^ words[j], 0x01000193);
    let list = buckets.get(h);
    if (!list) {
      list = [];
      buckets.set(h, list);
    }
    let u = -1;
    for (const cand of list) {
      if (same(first[cand], row)) {
        u = cand;
        break;
      }
    }
    if (u < 0) {
      if (first.length >= limit) return undefined;
      u = first.length;
      first.push(row);
      list.push(u);
    }
    index[i] = u;
  }
  return { index, first: Int32Array.from(first) };
}

/** Bank rows of each distinct row, ascending: the inverse of `index`. */
function membersOf(index: Int32Array, u: number): Int32Array[] {
  const counts = new Int32Array(u);
  for (const v of index) counts[v]++;
  const members = Array.from(counts, (c) => new Int32Array(c));
  const fill = new Int32Array(u);
  for (let i = 0; i < index.length; i++) members[index[i]][fill[index[i]]++] = i;
  return members;
}

/**
 * Top-k of a bank of distinct rows, without expanding the similarities to every bank row: the top
 * min(U, k) distinct rows of each query (tf.topk), then their bank rows in order of similarity and,
 * among equal similarities, of bank position — the order tf.topk gives on the expanded row. If a
 * query's walk reaches the last distinct row fetched while more exist (a later one could tie with
 * it), the block is fetched again with all U. `values`/`neighbours` as in knn.ts `nearest`.
 */
export async function nearestDistinct(
  distinct: NonNullable<SearchBank['distinct']>,
  qT: tf.Tensor2D,
  k: number,
): Promise<{ values: Float32Array; neighbours: Int32Array }> {
  const u = distinct.rows.shape[0];
  const rows = qT.shape[1];
  const sims = tf.matMul(distinct.rows, qT);
  try {
    for (let ku = Math.min(u, k); ; ku = u) {
      const top = tf.tidy(() => tf.topk(tf.transpose(sims), ku, true));
      const [tv, ti] = (await Promise.all([top.values.data(), top.indices.data()])) as [
        Float32Array,
        Int32Array,
      ];
      tf.dispose([top.values, top.indices]);
      const out = walkGroups(distinct.members, tv, ti, rows, ku, k, ku < u);
      if (out) return out;
    }
  } finally {
    sims.dispose();
  }
}

/** The k nearest bank rows per query from its top `ku` distinct rows; undefined if `mayMiss` and a walk needed the last one. */
function walkGroups(
  members: Int32Array[],
  tv: Float32Array,
  ti: Int32Array,
  rows: number,
  ku: number,
  k: number,
  mayMiss: boolean,
): { values: Float32Array; neighbours: Int32Array } | undefined {
  const values = new Float32Array(rows * k);
  const neighbours = new Int32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    let filled = 0;
    for (let g = 0; g < ku && filled < k; ) {
      // distinct rows g..h-1 share one similarity: their bank rows merge by position
      const v = tv[r * ku + g];
      let h = g + 1;
      while (h < ku && tv[r * ku + h] === v) h++;
      if (h === ku && mayMiss) return undefined;
      const lists = [];
      for (let j = g; j < h; j++) lists.push(members[ti[r * ku + j]]);
      const at = new Int32Array(lists.length);
      while (filled < k) {
        let best = -1;
        for (let j = 0; j < lists.length; j++) {
          if (at[j] < lists[j].length && (best < 0 || lists[j][at[j]] < lists[best][at[best]])) best = j;
        }
        if (best < 0) break;
        values[r * k + filled] = v;
        neighbours[r * k + filled] = lists[best][at[best]++];
        filled++;
      }
      g = h;
    }
  }
  return { values, neighbours };
}
