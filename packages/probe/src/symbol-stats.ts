import { entropyOfCounts, normalizedMutualInfo, purity } from './information';
import {
  type LabelInput,
  prefixOf,
  type SymbolInput,
  type SymbolMatrix,
  toLabels,
  toSymbolMatrix,
} from './inputs';

export interface CodeUsage {
  /** How often each symbol occurs (length = vocabulary size). */
  counts: Int32Array;
  /** Symbols that occur at least once. */
  used: number;
  /** used / vocabulary size. */
  usedFraction: number;
  /** Entropy of the symbol distribution, in nats. */
  entropy: number;
  /** exp(entropy): the effective number of symbols in use. */
  perplexity: number;
}

export interface SymbolUsage {
  vocabSize: number;
  numSequences: number;
  length: number;
  /** Usage at each position of the sequence. */
  perPosition: Array<CodeUsage & { position: number }>;
  /** Usage over all positions pooled. */
  overall: CodeUsage;
  /**
   * How many different symbols each sequence uses: `mean` over the sequences, and `histogram[d - 1]`
   * = sequences with exactly d distinct symbols (d = 1..length). A code that repeats itself
   * (`75 111 63 106 75 111 63 75`) shows up here even when every position's perplexity is high.
   */
  distinctPerSequence: { mean: number; histogram: Int32Array };
}

/**
 * How the vocabulary is used: a histogram, entropy and perplexity of the symbols at each position
 * and over all positions. `vocabSize` defaults to the largest symbol + 1.
 */
export function symbolUsage(symbols: SymbolInput, opts: { vocabSize?: number } = {}): SymbolUsage {
  const m = toSymbolMatrix(symbols, 'symbolUsage symbols');
  let maxSymbol = 0;
  for (const s of m.data) maxSymbol = Math.max(maxSymbol, s);
  const vocabSize = opts.vocabSize ?? maxSymbol + 1;
  if (!Number.isInteger(vocabSize) || vocabSize < 1) {
    throw new Error(`symbolUsage: vocabSize must be a positive integer, got ${vocabSize}`);
  }
  if (maxSymbol >= vocabSize)
    throw new Error(`symbolUsage: symbol ${maxSymbol} is outside the vocabulary [0, ${vocabSize})`);
  const perPosition = Array.from({ length: m.length }, (_, position) => {
    const counts = new Int32Array(vocabSize);
    for (let i = 0; i < m.rows; i++) counts[m.data[i * m.length + position]]++;
    return { position, ...usageOf(counts) };
  });
  const all = new Int32Array(vocabSize);
  for (const s of m.data) all[s]++;
  return {
    vocabSize,
    numSequences: m.rows,
    length: m.length,
    perPosition,
    overall: usageOf(all),
    distinctPerSequence: distinctPerSequence(m),
  };
}

function distinctPerSequence(m: SymbolMatrix): { mean: number; histogram: Int32Array } {
  const histogram = new Int32Array(m.length);
  let total = 0;
  const seen = new Set<number>();
  for (let i = 0; i < m.rows; i++) {
    seen.clear();
    for (let p = 0; p < m.length; p++) seen.add(m.data[i * m.length + p]);
    histogram[seen.size - 1]++;
    total += seen.size;
  }
  return { mean: m.rows ? total / m.rows : Number.NaN, histogram };
}

function usageOf(counts: Int32Array): CodeUsage {
  let used = 0;
  for (const c of counts) if (c > 0) used++;
  const entropy = entropyOfCounts(counts);
  return { counts, used, usedFraction: used / counts.length, entropy, perplexity: Math.exp(entropy) };
}

export interface ClassAgreement {
  /** Normalised mutual information with the classes (sklearn's arithmetic-mean NMI). */
  nmi: number;
  /** Fraction of samples whose code's majority class is their class. */
  purity: number;
  /** Distinct codes observed. */
  distinctCodes: number;
}

export interface SymbolClassStats {
  /** The symbol at each single position, as a clustering of the samples. */
  perPosition: Array<ClassAgreement & { position: number }>;
  /** The whole prefix of each length, as one joint code. */
  perPrefix: Array<ClassAgreement & { length: number }>;
}

/**
 * How much the symbols say about the classes: NMI and purity of the symbol at each position, and of
 * each prefix taken as a joint code (default prefix lengths 1, 2, 4, 8, clipped to the sequence length).
 */
export function symbolClassStats(
  symbols: SymbolInput,
  labels: LabelInput,
  opts: { lengths?: number[] } = {},
): SymbolClassStats {
  const classes = toLabels(labels, 'symbolClassStats labels');
  const m = toSymbolMatrix(symbols, 'symbolClassStats symbols', classes.length);
  const lengths = opts.lengths ?? [1, 2, 4, 8].filter((l) => l <= m.length);
  const perPosition = Array.from({ length: m.length }, (_, position) => {
    const code = new Int32Array(m.rows);
    for (let i = 0; i < m.rows; i++) code[i] = m.data[i * m.length + position];
    return { position, ...agreement(classes, code) };
  });
  const perPrefix = lengths.map((length) => ({
    length,
    ...agreement(classes, jointCodes(prefixOf(m, length, 'symbolClassStats lengths'))),
  }));
  return { perPosition, perPrefix };
}

function agreement(classes: Int32Array, code: Int32Array): ClassAgreement {
  return {
    nmi: normalizedMutualInfo(classes, code),
    purity: purity(classes, code),
    distinctCodes: new Set(code).size,
  };
}

/** One integer id per distinct row (ids in order of first appearance). */
export function jointCodes(m: SymbolMatrix): Int32Array {
  const ids = new Map<string, number>();
  const out = new Int32Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    const key = m.data.subarray(i * m.length, (i + 1) * m.length).join(',');
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size;
      ids.set(key, id);
    }
    out[i] = id;
  }
  return out;
}
