import { parseConfig, Rng } from '@symseq/nn';
import { z } from 'zod';
import type { SymbolMaps } from './attention-maps';
import { quantile } from './distinctness';
import { checkSymbolMaps, type MapSimilarity, unitMaps } from './map-vectors';

const optionsSchema = z
  .object({
    /** Seed of the bootstrap resamples and of the shuffled baselines. */
    seed: z.number().int().default(0),
    /** Bootstrap resamples per interval. */
    bootstrap: z.number().int().positive().default(200),
    /** Shuffles that make each baseline. */
    baselineRepeats: z.number().int().positive().default(20),
    /** Coverage of the intervals. */
    level: z.number().gt(0).lt(1).default(0.95),
    /** Pearson correlation (default, as `symbolRegionConsistency`) or cosine of the maps. */
    similarity: z.enum(['cosine', 'pearson']).default('pearson'),
  })
  .strict();

export type ConsistencyStatsOptions = z.input<typeof optionsSchema>;

/** A consistency score with its bootstrap interval and its shuffled baseline. */
export interface ConsistencyEstimate {
  /** Mean similarity over all pairs of the group's maps (NaN with fewer than two maps). */
  score: number;
  /** Bootstrap percentile interval of `score` (the group's maps resampled with replacement). */
  ci: [number, number];
  /** Mean of the same statistic over shuffled groups of the same make-up. */
  baseline: number;
  /** Central interval (at `level`) of the shuffled statistic. */
  baselineRange: [number, number];
  /** Maps in the group (maps without a direction, e.g. constant ones, are left out). */
  n: number;
}

export interface SymbolConsistency extends ConsistencyEstimate {
  symbol: number;
  /** How often the symbol is written at each position. */
  positions: number[];
}

export interface ConsistencyStats {
  similarity: MapSimilarity;
  level: number;
  /** [class][position]: do a class's maps at one position look at the same region? Baseline: labels shuffled. */
  perClassPosition: ConsistencyEstimate[][];
  /** Per class, the mean over positions of `perClassPosition` (bootstrap over the class's images). */
  perClass: ConsistencyEstimate[];
  /** Class indices from most to least consistent by score − baseline (classes without a score last). */
  ranking: number[];
  /**
   * Per symbol id that is written at all (ascending id): do the maps of every occurrence of the
   * symbol look at the same region? Baseline: symbol ids shuffled among the images within each
   * position, so a shuffled "symbol" keeps the real one's positions (and their typical maps).
   */
  perSymbol: SymbolConsistency[];
  /** Means over the symbols with a score, weighted by their maps. */
  symbolMean: { score: number; baseline: number };
}

/**
 * Consistency of the symbols' attention with confidence intervals: per class × position, per class,
 * and per symbol id, each against a shuffled baseline. The score of a group of maps is the mean over
 * all pairs of their similarity; with unit vectors z_i and bootstrap counts w_i it is
 * (‖Σ w_i z_i‖² − Σ w_i²) / ((Σ w_i)² − Σ w_i²), i.e. pairs of distinct originals only, so a
 * resample's duplicates do not inflate it. `symbols` is `[batch, L]` row-major, as the maps.
 */
export function symbolConsistencyStats(
  maps: SymbolMaps,
  labels: ArrayLike<number>,
  symbols: ArrayLike<number>,
  options: ConsistencyStatsOptions = {},
): ConsistencyStats {
  const cfg = parseConfig(optionsSchema, options, 'symbolConsistencyStats options');
  checkSymbolMaps(maps, 'symbolConsistencyStats maps');
  const { batch, symbols: L } = maps;
  if (labels.length !== batch) {
    throw new Error(`symbolConsistencyStats: ${labels.length} labels for ${batch} images`);
  }
  if (symbols.length !== batch * L) {
    throw new Error(
      `symbolConsistencyStats: ${symbols.length} symbols, expected ${batch} images × ${L} positions = ${batch * L}`,
    );
  }
  const numClasses = checkIds(labels, 'label') + 1;
  checkIds(symbols, 'symbol');
  const unit = unitMaps(maps, cfg.similarity);
  const rng = new Rng(cfg.seed);
  const interval = (values: number[]): [number, number] => {
    const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
    return [quantile(v, (1 - cfg.level) / 2), quantile(v, 1 - (1 - cfg.level) / 2)];
  };
  const mean = (values: number[]) => {
    const v = values.filter((x) => !Number.isNaN(x));
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
  };

  // Classes: members of each class, then per position its usable maps.
  const classImages = groupBy(Array.from(labels), numClasses);
  const classScores = (groups: number[][]) =>
    groups.map((imgs) => Array.from({ length: L }, (_, t) => pairMean(vectorsOf(unit, imgs, L, t), null)));
  const observed = classScores(classImages);
  const shuffledClass: number[][][] = []; // [repeat][class][position]
  for (let r = 0; r < cfg.baselineRepeats; r++) {
    const perm = rng.permutation(batch).map((i) => labels[i]);
    shuffledClass.push(classScores(groupBy(perm, numClasses)));
  }
  const perClassPosition: ConsistencyEstimate[][] = [];
  const perClass: ConsistencyEstimate[] = [];
  for (let c = 0; c < numClasses; c++) {
    const imgs = classImages[c];
    // One resample of the class's images serves every position, so the per-class mean is coherent.
    const boot: number[][] = Array.from({ length: L }, () => []);
    const bootMean: number[] = [];
    for (let r = 0; r < cfg.bootstrap; r++) {
      const w = resampleCounts(rng, imgs.length);
      const row = Array.from({ length: L }, (_, t) => weightedPairMean(unit, imgs, L, t, w));
      for (let t = 0; t < L; t++) boot[t].push(row[t]);
      bootMean.push(mean(row));
    }
    perClassPosition.push(
      Array.from({ length: L }, (_, t) => {
        const shuffled = shuffledClass.map((s) => s[c][t]);
        return {
          score: observed[c][t],
          ci: interval(boot[t]),
          baseline: mean(shuffled),
          baselineRange: interval(shuffled),
          n: vectorsOf(unit, imgs, L, t).length,
        };
      }),
    );
    const shuffledMean = shuffledClass.map((s) => mean(s[c]));
    perClass.push({
      score: mean(observed[c]),
      ci: interval(bootMean),
      baseline: mean(shuffledMean),
      baselineRange: interval(shuffledMean),
      n: imgs.length,
    });
  }
  const excess = (e: ConsistencyEstimate) => e.score - e.baseline;
  const ranking = Array.from({ length: numClasses }, (_, c) => c).sort((a, b) => {
    const ea = excess(perClass[a]);
    const eb = excess(perClass[b]);
    if (Number.isNaN(ea) || Number.isNaN(eb)) return Number.isNaN(ea) ? (Number.isNaN(eb) ? a - b : 1) : -1;
    return eb - ea || a - b;
  });

  // Symbols: every (image, position) where a symbol is written is one occurrence.
  const occurrencesOf = (column: (b: number, t: number) => number) => {
    const groups = new Map<number, Float64Array[]>();
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < L; t++) {
        const z = unit[b * L + t];
        if (!z) continue;
        const s = column(b, t);
        let g = groups.get(s);
        if (!g) {
          g = [];
          groups.set(s, g);
        }
        g.push(z);
      }
    }
    return groups;
  };
  const symbolGroups = occurrencesOf((b, t) => symbols[b * L + t]);
  const shuffledSymbol = new Map<number, number[]>();
  for (let r = 0; r < cfg.baselineRepeats; r++) {
    const perms = Array.from({ length: L }, () => rng.permutation(batch));
    for (const [s, g] of occurrencesOf((b, t) => symbols[perms[t][b] * L + t])) {
      let list = shuffledSymbol.get(s);
      if (!list) {
        list = [];
        shuffledSymbol.set(s, list);
      }
      list.push(pairMean(g, null));
    }
  }
  const written = [...new Set(Array.from(symbols))].sort((a, b) => a - b);
  const perSymbol = written.map((symbol): SymbolConsistency => {
    const g = symbolGroups.get(symbol) ?? [];
    const boot = Array.from({ length: cfg.bootstrap }, () => pairMean(g, resampleCounts(rng, g.length)));
    const shuffled = shuffledSymbol.get(symbol) ?? [];
    const positions = Array.from({ length: L }, () => 0);
    for (let i = 0; i < symbols.length; i++) if (symbols[i] === symbol) positions[i % L]++;
    return {
      symbol,
      positions,
      score: pairMean(g, null),
      ci: interval(boot),
      baseline: mean(shuffled),
      baselineRange: interval(shuffled),
      n: g.length,
    };
  });
  let sw = 0;
  let ss = 0;
  let sb = 0;
  for (const e of perSymbol) {
    if (Number.isNaN(e.score) || Number.isNaN(e.baseline)) continue;
    sw += e.n;
    ss += e.n * e.score;
    sb += e.n * e.baseline;
  }
  return {
    similarity: cfg.similarity,
    level: cfg.level,
    perClassPosition,
    perClass,
    ranking,
    perSymbol,
    symbolMean: { score: sw ? ss / sw : Number.NaN, baseline: sw ? sb / sw : Number.NaN },
  };
}

/** Largest id, checking every entry is an integer ≥ 0. */
function checkIds(ids: ArrayLike<number>, what: string): number {
  let max = -1;
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i];
    if (!Number.isInteger(v) || v < 0) {
      throw new Error(`symbolConsistencyStats: ${what} ${i} is ${v}, expected an integer ≥ 0`);
    }
    max = Math.max(max, v);
  }
  return max;
}

function groupBy(labels: ArrayLike<number>, count: number): number[][] {
  const out: number[][] = Array.from({ length: count }, () => []);
  for (let i = 0; i < labels.length; i++) out[labels[i]].push(i);
  return out;
}

function vectorsOf(unit: Array<Float64Array | null>, images: number[], L: number, t: number): Float64Array[] {
  const out: Float64Array[] = [];
  for (const b of images) {
    const z = unit[b * L + t];
    if (z) out.push(z);
  }
  return out;
}

/** Bootstrap counts: how often each of n items is drawn in n draws with replacement. */
function resampleCounts(rng: Rng, n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[rng.int(n)]++;
  return w;
}

/** Mean pairwise dot product of unit vectors, pairs of distinct items weighted by w_i w_j (w = all ones if null). */
function pairMean(vectors: Float64Array[], w: Float64Array | null): number {
  if (vectors.length < 2) return Number.NaN;
  const sum = new Float64Array(vectors[0].length);
  let total = 0;
  let squares = 0;
  vectors.forEach((v, i) => {
    const wi = w ? w[i] : 1;
    if (wi === 0) return;
    total += wi;
    squares += wi * wi;
    for (let k = 0; k < v.length; k++) sum[k] += wi * v[k];
  });
  const den = total * total - squares;
  if (!(den > 0)) return Number.NaN;
  let sq = 0;
  for (const x of sum) sq += x * x;
  return (sq - squares) / den;
}

/** pairMean of position t's maps of `images`, with weights over the images (their unusable maps dropped). */
function weightedPairMean(
  unit: Array<Float64Array | null>,
  images: number[],
  L: number,
  t: number,
  w: Float64Array,
): number {
  const vectors: Float64Array[] = [];
  const weights: number[] = [];
  images.forEach((b, i) => {
    const z = unit[b * L + t];
    if (z && w[i] > 0) {
      vectors.push(z);
      weights.push(w[i]);
    }
  });
  return pairMean(vectors, Float64Array.from(weights));
}
