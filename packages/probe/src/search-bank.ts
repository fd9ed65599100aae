import { l2Normalize } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { type FeatureInput, toFeatureTensor } from './inputs';
import { ranges } from './weighted-vote';

/**
 * The database a k-NN or retrieval pass searches: L2-normalised rows in blocks of `bankChunkSize`.
 * When many rows are copies of one another — the decoded embeddings of short discrete codes: 128
 * distinct rows among 50,000 at one symbol of 128 — it keeps the distinct rows once and, per block, the
 * map from bank row to distinct row; a block's similarities are then gathered from one small matMul
 * instead of computed row by row. The values are the same (each is the dot product of the same two
 * vectors), so the ranking and its tie order are unchanged.
 */
export interface SearchBank {
  /** [start, end) bank rows of each block. */
  blocks: Array<[number, number]>;
  /** The normalised rows of each block (dense bank). */
  rows?: tf.Tensor2D[];
  /** Distinct normalised rows [U, D] and, per block, each row's index among them. */
  distinct?: { rows: tf.Tensor2D; of: tf.Tensor1D[] };
}

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
  const blocks = ranges(n, bankChunkSize);
  const repeats = x instanceof Float32Array && n > 0 ? distinctRows(x, n, order) : undefined;
  return tf.tidy(() => {
    const t = toFeatureTensor(x, n, what);
    if (repeats) {
      const rows = l2Normalize(tf.gather(t, repeats.first)) as tf.Tensor2D;
      const of = blocks.map(([s, e]) => tf.tensor1d(repeats.index.subarray(s, e), 'int32'));
      return { blocks, distinct: { rows, of } };
    }
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
  return (bank.distinct?.rows ?? (bank.rows as tf.Tensor2D[])[0]).shape[1];
}

export function disposeBank(bank: SearchBank): void {
  if (bank.rows) tf.dispose(bank.rows);
  if (bank.distinct) tf.dispose([bank.distinct.rows, ...bank.distinct.of]);
}

/** Bank rows @ transposed queries of one block, [block rows, queries]. `distinctSims`: distinct rows @ qT. */
export function blockSimilarities(
  bank: SearchBank,
  c: number,
  qT: tf.Tensor2D,
  distinctSims?: tf.Tensor2D,
): tf.Tensor2D {
  if (bank.distinct) {
    if (!distinctSims) throw new Error('blockSimilarities: a bank of distinct rows needs their similarities');
    return tf.gather(distinctSims, bank.distinct.of[c]) as tf.Tensor2D;
  }
  return tf.matMul((bank.rows as tf.Tensor2D[])[c], qT);
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
