import { parseConfig, Rng } from '@symseq/nn';
import { z } from 'zod';
import { normalizedMutualInfo, purity } from './information';
import { type LabelInput, prefixOf, type SymbolInput, toLabels, toSymbolMatrix } from './inputs';
import { jointCodes } from './symbol-stats';

/** One node of the prefix tree: the samples whose sequences start with `prefix`. */
export interface PrefixNode {
  /** The prefix's symbols (empty at the root). */
  prefix: number[];
  depth: number;
  /** Indices of the samples sharing the prefix, ascending. */
  members: number[];
  /** `classCounts[c]`: members of class c (only when labels are given). */
  classCounts?: number[];
  /** One child per next symbol, largest first (then by symbol id). */
  children: PrefixNode[];
}

/**
 * The prefix tree of a set of integer sequences (a student's symbols, residual k-means codes…):
 * the root holds every sample, its children group them by the first symbol, theirs by the second,
 * down to `maxDepth` (default the sequence length). With labels, each node counts its classes.
 */
export function prefixTree(
  symbols: SymbolInput,
  opts: { labels?: LabelInput; maxDepth?: number; numClasses?: number } = {},
): PrefixNode {
  const classes = opts.labels ? toLabels(opts.labels, 'prefixTree labels', opts.numClasses) : undefined;
  const m = toSymbolMatrix(symbols, 'prefixTree symbols', classes?.length);
  const maxDepth = opts.maxDepth ?? m.length;
  if (!Number.isInteger(maxDepth) || maxDepth < 0 || maxDepth > m.length) {
    throw new Error(`prefixTree: maxDepth ${maxDepth} must be an integer in [0, ${m.length}]`);
  }
  let numClasses = opts.numClasses ?? 0;
  if (classes) for (const c of classes) numClasses = Math.max(numClasses, c + 1);
  const node = (prefix: number[], members: number[]): PrefixNode => {
    const out: PrefixNode = { prefix, depth: prefix.length, members, children: [] };
    if (classes) {
      out.classCounts = new Array(numClasses).fill(0);
      for (const i of members) out.classCounts[classes[i]]++;
    }
    if (prefix.length < maxDepth) {
      const groups = new Map<number, number[]>();
      for (const i of members) {
        const s = m.data[i * m.length + prefix.length];
        const g = groups.get(s);
        if (g) g.push(i);
        else groups.set(s, [i]);
      }
      out.children = [...groups]
        .sort((a, b) => b[1].length - a[1].length || a[0] - b[0])
        .map(([s, g]) => node([...prefix, s], g));
    }
    return out;
  };
  return node(
    [],
    Array.from({ length: m.rows }, (_, i) => i),
  );
}

const statsSchema = z
  .object({
    /** Deepest prefix measured (default min(8, sequence length)). */
    maxDepth: z.number().int().positive().optional(),
    /** Seed of the label shuffles behind `chancePurity`. */
    seed: z.number().int().default(0),
    /** Label shuffles averaged into `chancePurity`. */
    chanceRepeats: z.number().int().positive().default(5),
  })
  .strict();

export type PrefixStatsOptions = z.input<typeof statsSchema>;

export interface PrefixDepthStats {
  depth: number;
  /** Distinct prefixes of this length. */
  distinctPrefixes: number;
  /** Sample-weighted mean class purity of the groups sharing a prefix: Σ_groups max_c n_gc / N. */
  purity: number;
  /** purity minus that of one symbol less (depth 0: one group, purity = the largest class's share). */
  gain: number;
  /**
   * The purity of the same groups with the labels shuffled: what splitting into groups of these
   * sizes gives by itself (it rises to 1 as the groups shrink to single samples).
   */
  chancePurity: number;
  /** Fraction of samples alone in their group. */
  singletons: number;
  /** Normalised mutual information of the groups with the classes. */
  nmi: number;
}

/**
 * Compositionality of sequences, depth by depth: for each prefix length 1…maxDepth, how many
 * distinct prefixes there are, how pure in class the groups sharing one are, and what each extra
 * symbol adds. Works for any integer codes.
 */
export function prefixTreeStats(
  symbols: SymbolInput,
  labels: LabelInput,
  options: PrefixStatsOptions = {},
): PrefixDepthStats[] {
  const cfg = parseConfig(statsSchema, options, 'prefixTreeStats options');
  const classes = toLabels(labels, 'prefixTreeStats labels');
  const m = toSymbolMatrix(symbols, 'prefixTreeStats symbols', classes.length);
  const maxDepth = cfg.maxDepth ?? Math.min(8, m.length);
  if (maxDepth > m.length) {
    throw new Error(`prefixTreeStats: maxDepth ${maxDepth} exceeds the sequence length ${m.length}`);
  }
  const rng = new Rng(cfg.seed);
  const shuffled = Array.from({ length: cfg.chanceRepeats }, () =>
    Int32Array.from(rng.permutation(classes.length), (i) => classes[i]),
  );
  const counts = new Map<number, number>();
  for (const c of classes) counts.set(c, (counts.get(c) ?? 0) + 1);
  let previous = Math.max(...counts.values()) / classes.length;
  const out: PrefixDepthStats[] = [];
  for (let depth = 1; depth <= maxDepth; depth++) {
    const codes = jointCodes(prefixOf(m, depth, 'prefixTreeStats maxDepth'));
    const sizes = new Map<number, number>();
    for (const c of codes) sizes.set(c, (sizes.get(c) ?? 0) + 1);
    let singletons = 0;
    for (const c of codes) if (sizes.get(c) === 1) singletons++;
    const p = purity(classes, codes);
    out.push({
      depth,
      distinctPrefixes: sizes.size,
      purity: p,
      gain: p - previous,
      chancePurity: shuffled.reduce((a, s) => a + purity(s, codes), 0) / shuffled.length,
      singletons: singletons / classes.length,
      nmi: normalizedMutualInfo(classes, codes),
    });
    previous = p;
  }
  return out;
}
