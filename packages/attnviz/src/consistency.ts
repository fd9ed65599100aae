import { parseConfig, Rng } from '@symseq/nn';
import { z } from 'zod';
import type { SymbolMaps } from './attention-maps';
import { unitMaps } from './map-vectors';

const optionsSchema = z
  .object({
    /** Seed of the label permutations of the baseline. */
    seed: z.number().int().default(0),
    /** Label permutations averaged into the baseline. */
    baselineRepeats: z.number().int().positive().default(10),
  })
  .strict();

export type ConsistencyOptions = z.input<typeof optionsSchema>;

export interface ConsistencyResult {
  /** [class][position]: mean pairwise Pearson correlation of that class's maps (NaN under 2 maps). */
  score: number[][];
  /** [class][position]: the same with labels randomly permuted (group sizes kept), averaged over repeats. */
  baseline: number[][];
  /** Per position, the mean of `score` over classes that have a value. */
  meanScore: number[];
  /** Per position, the mean of `baseline` over classes. */
  meanBaseline: number[];
  /** Images of each class. */
  classSizes: number[];
}

/**
 * Does a symbol position look at the same region across the images of a class? For each class and
 * position, the mean over all pairs of that class's images of the Pearson correlation between their
 * maps. The baseline repeats this with the labels permuted (a seeded `Rng`), so each "class" is a
 * random set of images of the same size: a score well above its baseline means class-specific regions.
 *
 * Every pair is used: with z_i the standardised map of image i (unit length), the mean pairwise
 * correlation of a group is (‖Σ z_i‖² − n) / (n(n − 1)). Constant maps (no correlation defined) are
 * left out of their group.
 */
export function symbolRegionConsistency(
  maps: SymbolMaps,
  labels: ArrayLike<number>,
  options: ConsistencyOptions = {},
): ConsistencyResult {
  const cfg = parseConfig(optionsSchema, options, 'symbolRegionConsistency options');
  if (labels.length !== maps.batch) {
    throw new Error(`symbolRegionConsistency: ${labels.length} labels for ${maps.batch} images`);
  }
  let numClasses = 0;
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0) {
      throw new Error(`symbolRegionConsistency: label ${i} is ${c}, expected an integer ≥ 0`);
    }
    numClasses = Math.max(numClasses, c + 1);
  }
  const hw = maps.height * maps.width;
  const z = unitMaps(maps, 'pearson');
  const score = groupCorrelation(z, maps.symbols, hw, Array.from(labels), numClasses);
  const rng = new Rng(cfg.seed);
  const baseline = score.map((row) => row.map(() => 0));
  for (let r = 0; r < cfg.baselineRepeats; r++) {
    const perm = rng.permutation(labels.length).map((i) => labels[i]);
    const s = groupCorrelation(z, maps.symbols, hw, perm, numClasses);
    for (let c = 0; c < numClasses; c++) {
      for (let t = 0; t < maps.symbols; t++) baseline[c][t] += s[c][t] / cfg.baselineRepeats;
    }
  }
  const classSizes = Array.from({ length: numClasses }, () => 0);
  for (let i = 0; i < labels.length; i++) classSizes[labels[i]]++;
  return {
    score,
    baseline,
    meanScore: columnMeans(score, maps.symbols),
    meanBaseline: columnMeans(baseline, maps.symbols),
    classSizes,
  };
}

function groupCorrelation(
  z: Array<Float64Array | null>,
  symbols: number,
  hw: number,
  labels: number[],
  numClasses: number,
): number[][] {
  const out: number[][] = [];
  for (let c = 0; c < numClasses; c++) {
    const row: number[] = [];
    for (let t = 0; t < symbols; t++) {
      const sum = new Float64Array(hw);
      let n = 0;
      for (let b = 0; b < labels.length; b++) {
        if (labels[b] !== c) continue;
        const zb = z[b * symbols + t];
        if (!zb) continue;
        n++;
        for (let i = 0; i < hw; i++) sum[i] += zb[i];
      }
      let sq = 0;
      for (const v of sum) sq += v * v;
      row.push(n < 2 ? Number.NaN : (sq - n) / (n * (n - 1)));
    }
    out.push(row);
  }
  return out;
}

function columnMeans(table: number[][], columns: number): number[] {
  return Array.from({ length: columns }, (_, t) => {
    const vals = table.map((row) => row[t]).filter((v) => !Number.isNaN(v));
    return vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : Number.NaN;
  });
}
