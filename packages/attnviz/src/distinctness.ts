import { parseConfig } from '@symseq/nn';
import { z } from 'zod';
import type { SymbolMaps } from './attention-maps';
import { checkSymbolMaps, dot, type MapSimilarity, unitMaps } from './map-vectors';

const optionsSchema = z
  .object({
    /** Cosine of the maps (default; 0 = disjoint support) or Pearson correlation. */
    similarity: z.enum(['cosine', 'pearson']).default('cosine'),
    /** Bins of the histogram over [−1, 1]. */
    bins: z.number().int().positive().default(20),
  })
  .strict();

export type DistinctnessOptions = z.input<typeof optionsSchema>;

export interface DistinctnessResult {
  similarity: MapSimilarity;
  /**
   * Per image: the mean similarity over all pairs of its per-symbol maps (1 = every symbol looks at
   * the same place). NaN when fewer than two of its maps have a direction (e.g. all-zero maps).
   */
  perImage: Float64Array;
  /** [position a][position b]: mean over images of the similarity of the maps at a and b (1 on the diagonal). */
  pairs: number[][];
  /** Summary of `perImage` over the images that have a value. */
  count: number;
  mean: number;
  quantiles: { p10: number; p25: number; p50: number; p75: number; p90: number };
  /** Histogram of `perImage`: `counts[i]` values in [edges[i], edges[i + 1]) (the last bin includes 1). */
  histogram: { edges: number[]; counts: number[] };
}

/**
 * Do an image's symbols look at different places? For each image, the mean pairwise similarity of
 * its L per-symbol maps, and the distribution of that number over a set of images. With the default
 * cosine similarity on non-negative maps, identical maps give 1 and maps on disjoint regions give 0.
 */
export function symbolDistinctness(maps: SymbolMaps, options: DistinctnessOptions = {}): DistinctnessResult {
  const cfg = parseConfig(optionsSchema, options, 'symbolDistinctness options');
  checkSymbolMaps(maps, 'symbolDistinctness maps');
  const L = maps.symbols;
  const unit = unitMaps(maps, cfg.similarity);
  const perImage = new Float64Array(maps.batch);
  const pairSum = Array.from({ length: L }, () => new Float64Array(L));
  const pairCount = Array.from({ length: L }, () => new Float64Array(L));
  for (let b = 0; b < maps.batch; b++) {
    let sum = 0;
    let n = 0;
    for (let i = 0; i < L; i++) {
      const zi = unit[b * L + i];
      if (!zi) continue;
      for (let j = i + 1; j < L; j++) {
        const zj = unit[b * L + j];
        if (!zj) continue;
        const s = dot(zi, zj);
        sum += s;
        n++;
        pairSum[i][j] += s;
        pairCount[i][j]++;
      }
    }
    perImage[b] = n > 0 ? sum / n : Number.NaN;
  }
  const pairs = Array.from({ length: L }, (_, i) =>
    Array.from({ length: L }, (_, j) => {
      if (i === j) return 1;
      const [a, c] = i < j ? [i, j] : [j, i];
      return pairCount[a][c] > 0 ? pairSum[a][c] / pairCount[a][c] : Number.NaN;
    }),
  );
  const values = Array.from(perImage)
    .filter((v) => !Number.isNaN(v))
    .sort((a, b) => a - b);
  const edges = Array.from({ length: cfg.bins + 1 }, (_, i) => -1 + (2 * i) / cfg.bins);
  const counts = Array.from({ length: cfg.bins }, () => 0);
  for (const v of values) counts[Math.min(cfg.bins - 1, Math.max(0, Math.floor(((v + 1) / 2) * cfg.bins)))]++;
  return {
    similarity: cfg.similarity,
    perImage,
    pairs,
    count: values.length,
    mean: values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN,
    quantiles: {
      p10: quantile(values, 0.1),
      p25: quantile(values, 0.25),
      p50: quantile(values, 0.5),
      p75: quantile(values, 0.75),
      p90: quantile(values, 0.9),
    },
    histogram: { edges, counts },
  };
}

/** The q-quantile of sorted values, linear between order statistics (numpy's default). NaN when empty. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
