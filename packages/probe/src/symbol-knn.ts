import { parseConfig } from '@symseq/nn';
import { z } from 'zod';
import { labelSchema, prefixOf, type SymbolMatrix, symbolSchema, toLabels, toSymbolMatrix } from './inputs';
import { checkSizes, voteOptionsSchema } from './knn';
import { type KnnResult, VoteTally } from './weighted-vote';

const symbolKnnInputSchema = voteOptionsSchema
  .extend({
    trainSymbols: symbolSchema,
    trainLabels: labelSchema,
    testSymbols: symbolSchema,
    testLabels: labelSchema,
    numClasses: z.number().int().positive(),
    /** How many leading symbols of each sequence are compared (default: all). */
    prefixLength: z.number().int().positive().optional(),
    /**
     * `position`: the prefix as concatenated one-hot vectors, so cosine = fraction of positions whose
     * symbols agree. `bag`: counts of each symbol in the prefix (order ignored), cosine of the counts.
     */
    representation: z.enum(['position', 'bag']).default('position'),
  })
  .strict();

export type SymbolKnnInput = z.input<typeof symbolKnnInputSchema>;

/**
 * Weighted k-NN (the DINO vote of `knnClassify`) on raw symbol sequences, with no learned embedding:
 * a prefix is a one-hot concatenation (or a bag of symbols) and similarity is the cosine of those
 * vectors. The vectors are never built: an inverted index (symbol → training rows) counts shared
 * symbols, so a query costs O(N + matches) in plain JS and 10,000 queries against 50,000 sequences
 * take seconds, with no tensors at all.
 *
 * Similarities take few distinct values, so ties are common: equal similarities (compared exactly,
 * as rationals) keep the lower training index, as tf.topk does in `knnClassify`.
 */
export async function symbolKnnClassify(input: SymbolKnnInput): Promise<KnnResult> {
  const cfg = parseConfig(symbolKnnInputSchema, input, 'symbolKnnClassify options');
  const trainLabels = toLabels(cfg.trainLabels, 'symbolKnnClassify trainLabels', cfg.numClasses);
  const testLabels = toLabels(cfg.testLabels, 'symbolKnnClassify testLabels', cfg.numClasses);
  checkSizes(trainLabels.length, testLabels.length, cfg.k, 'symbolKnnClassify');
  const trainAll = toSymbolMatrix(cfg.trainSymbols, 'symbolKnnClassify trainSymbols', trainLabels.length);
  const testAll = toSymbolMatrix(cfg.testSymbols, 'symbolKnnClassify testSymbols', testLabels.length);
  if (trainAll.length !== testAll.length) {
    throw new Error(
      `symbolKnnClassify: testSymbols have length ${testAll.length}, trainSymbols have length ${trainAll.length}`,
    );
  }
  const l = cfg.prefixLength ?? trainAll.length;
  const train = prefixOf(trainAll, l, 'symbolKnnClassify');
  const test = prefixOf(testAll, l, 'symbolKnnClassify');
  const search = cfg.representation === 'position' ? positionSearch(train, cfg.k) : bagSearch(train, cfg.k);
  const tally = new VoteTally(trainLabels, testLabels, cfg);
  for (let q = 0; q < test.rows; q++) {
    const { neighbours, similarities } = search(test.data.subarray(q * l, (q + 1) * l));
    tally.add(q, neighbours, similarities);
  }
  return tally.result();
}

type Search = (query: Int32Array) => { neighbours: Int32Array; similarities: Float64Array };

/** Training rows holding each key, in ascending row order. */
function invertedIndex(rows: number, keysOf: (i: number) => Iterable<number>): Map<number, number[]> {
  const index = new Map<number, number[]>();
  for (let i = 0; i < rows; i++) {
    for (const key of keysOf(i)) {
      let list = index.get(key);
      if (!list) {
        list = [];
        index.set(key, list);
      }
      list.push(i);
    }
  }
  return index;
}

/**
 * Position one-hot: similarity = matches / l. Counts matches through per-position indexes, finds the
 * count level τ at which the k-th neighbour sits from a histogram, then takes rows above τ and the
 * lowest-index rows at τ in one ascending scan.
 */
function positionSearch(train: SymbolMatrix, k: number): Search {
  const { rows: n, length: l } = train;
  // key = position · 2^24 + symbol keeps one map for all positions
  const index = invertedIndex(n, function* (i) {
    for (let p = 0; p < l; p++) yield p * 2 ** 24 + train.data[i * l + p];
  });
  const matches = new Uint8Array(n);
  const hist = new Int32Array(l + 1);
  const touched: number[] = [];
  return (query) => {
    for (const i of touched) matches[i] = 0;
    touched.length = 0;
    hist.fill(0);
    hist[0] = n;
    for (let p = 0; p < l; p++) {
      const list = index.get(p * 2 ** 24 + query[p]);
      if (!list) continue;
      for (const i of list) {
        if (matches[i] === 0) touched.push(i);
        hist[matches[i]]--;
        matches[i]++;
        hist[matches[i]]++;
      }
    }
    let above = 0;
    let tau = l;
    while (above + hist[tau] < k) above += hist[tau--];
    // rows with more than τ matches, then the first (k − above) rows with exactly τ, by index
    const byLevel: number[][] = Array.from({ length: l + 1 }, () => []);
    let atTau = k - above;
    let remaining = k;
    for (let i = 0; i < n && remaining > 0; i++) {
      const m = matches[i];
      if (m > tau || (m === tau && atTau > 0)) {
        if (m === tau) atTau--;
        byLevel[m].push(i);
        remaining--;
      }
    }
    const neighbours = new Int32Array(k);
    const similarities = new Float64Array(k);
    let j = 0;
    for (let m = l; m >= 0; m--) {
      for (const i of byLevel[m]) {
        neighbours[j] = i;
        similarities[j++] = m / l;
      }
    }
    return { neighbours, similarities };
  };
}

/**
 * Bag of symbols: similarity = dot(counts) / (‖counts_q‖ ‖counts_t‖). Ranked exactly by the
 * rational dot² / (‖q‖² ‖t‖²); rows sharing no symbol have similarity 0 and fill up by index.
 */
function bagSearch(train: SymbolMatrix, k: number): Search {
  const { rows: n, length: l } = train;
  const countsOf = (seq: ArrayLike<number>) => {
    const c = new Map<number, number>();
    for (let p = 0; p < seq.length; p++) c.set(seq[p], (c.get(seq[p]) ?? 0) + 1);
    return c;
  };
  const trainCounts = Array.from({ length: n }, (_, i) => countsOf(train.data.subarray(i * l, (i + 1) * l)));
  const norm2 = Int32Array.from(trainCounts, (c) => [...c.values()].reduce((a, v) => a + v * v, 0));
  // symbol → rows holding it and how often, as typed arrays for the inner loop
  const byRow = invertedIndex(n, (i) => trainCounts[i].keys());
  const index = new Map<number, { rows: Int32Array; counts: Int32Array }>();
  for (const [sym, rows] of byRow) {
    index.set(sym, {
      rows: Int32Array.from(rows),
      counts: Int32Array.from(rows, (i) => trainCounts[i].get(sym)!),
    });
  }
  const dot = new Int32Array(n);
  const touched: number[] = [];
  // a better b: larger dot²/norm2 (shared query norm cancels), then lower index
  const better = (a: number, b: number) => {
    const d = dot[a] * dot[a] * norm2[b] - dot[b] * dot[b] * norm2[a];
    return d > 0 || (d === 0 && a < b);
  };
  return (query) => {
    for (const i of touched) dot[i] = 0;
    touched.length = 0;
    const qc = countsOf(query);
    let qNorm2 = 0;
    for (const [s, c] of qc) {
      qNorm2 += c * c;
      const entry = index.get(s);
      if (!entry) continue;
      for (let j = 0; j < entry.rows.length; j++) {
        const i = entry.rows[j];
        if (dot[i] === 0) touched.push(i);
        dot[i] += c * entry.counts[j];
      }
    }
    // best k touched rows, kept sorted by insertion (k is small)
    const best: number[] = [];
    for (const i of touched) {
      if (best.length === k && !better(i, best[k - 1])) continue;
      let j = best.length === k ? k - 1 : best.length;
      while (j > 0 && better(i, best[j - 1])) {
        best[j] = best[j - 1];
        j--;
      }
      best[j] = i;
    }
    for (let i = 0; i < n && best.length < k; i++) if (dot[i] === 0) best.push(i);
    const neighbours = Int32Array.from(best);
    const similarities = Float64Array.from(best, (i) => dot[i] / Math.sqrt(qNorm2 * norm2[i]));
    return { neighbours, similarities };
  };
}
