import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ConsistencyStats,
  type DistinctnessResult,
  type FaithfulnessResult,
  occlusionFaithfulness,
  type SymbolMaps,
  symbolAttentionMaps,
  symbolConsistencyStats,
  symbolDistinctness,
} from '@symseq/attnviz';
import {
  createProgress,
  type FeatureCache,
  type ImageDataset,
  writeFileAtomic,
  writeJsonAtomic,
} from '@symseq/data';
import type { Student } from '@symseq/decoder';
import { type PrefixDepthStats, prefixTreeStats, ResidualKMeans } from '@symseq/probe';
import type { Teacher } from '@symseq/vit-teacher';
import * as tf from '@tensorflow/tfjs-core';
import { forEachBatch } from './batches';
import { encodeAll } from './evaluation';
import { cleanPooled } from './features';
import { datasetImages, encodeImages } from './inference';
import { accuracyVsLengthSvg } from './plot';

/** Symbols, per-symbol attention maps and labels of a set of dataset images. */
export interface EncodedPool {
  indices: number[];
  labels: Int32Array;
  /** [n, L] */
  symbols: Int32Array;
  maps: SymbolMaps;
}

/** Encodes dataset images `indices` in batches through the shared inference path (`encodeImages`). */
export async function encodePool(
  student: Student,
  teacher: Teacher,
  ds: ImageDataset,
  indices: number[],
  opts: { layer?: number; batchSize?: number; quiet?: boolean; label?: string } = {},
): Promise<EncodedPool> {
  const grid = teacher.dims.grid;
  const bs = opts.batchSize ?? 200;
  const symbols: Int32Array[] = [];
  const maps: Float32Array[] = [];
  let length = 0;
  await forEachBatch(indices, bs, { label: opts.label ?? 'attention', quiet: opts.quiet }, async (idx) => {
    const batch = datasetImages(ds, idx);
    const e = await encodeImages(student, teacher, batch, { layer: opts.layer });
    batch.dispose();
    length = e.length;
    symbols.push(e.symbols);
    maps.push(symbolAttentionMaps(e.attention, { grid }).data);
  });
  return {
    indices,
    labels: Int32Array.from(indices, (i) => ds.labels[i]),
    symbols: concat(symbols, Int32Array),
    maps: {
      batch: indices.length,
      symbols: length,
      height: grid[0],
      width: grid[1],
      data: concat(maps, Float32Array),
    },
  };
}

function concat<T extends Int32Array | Float32Array>(parts: T[], Kind: { new (n: number): T }): T {
  const out = new Kind(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** The deletion test on a pool: occluded copies of its images are re-run through teacher + student. */
export async function poolFaithfulness(
  student: Student,
  teacher: Teacher,
  ds: ImageDataset,
  pool: EncodedPool,
  opts: { area?: number; seed?: number; layer?: number; quiet?: boolean } = {},
): Promise<FaithfulnessResult> {
  const images = pool.indices.map((i) => {
    const img = ds.image(i);
    return { width: img.width, height: img.height, data: Float32Array.from(img.data, (v) => v / 255) };
  });
  const L = pool.maps.symbols;
  const bar = createProgress({
    label: 'occlusion',
    total: images.length * L * 2,
    unit: 'img',
    quiet: opts.quiet,
  });
  const result = await occlusionFaithfulness(
    {
      images,
      maps: pool.maps,
      symbols: pool.symbols,
      rerun: async (batch) => {
        const { width, height } = batch[0];
        const data = new Float32Array(batch.length * width * height * 3);
        batch.forEach((b, i) => {
          data.set(b.data, i * width * height * 3);
        });
        const x = tf.tensor4d(data, [batch.length, height, width, 3]);
        const e = await encodeImages(student, teacher, x, { layer: opts.layer });
        x.dispose();
        bar.increment(batch.length);
        return e.symbols;
      },
    },
    { area: opts.area ?? 0.25, seed: opts.seed ?? 0, batchSize: 200 },
  );
  bar.stop();
  return result;
}

/** Prefix-tree numbers of the student's test-set symbols and, for comparison, of residual k-means codes. */
export async function prefixComparison(
  student: Student,
  train: FeatureCache,
  test: FeatureCache,
  opts: { codebookSize: number; length: number; kmeansRows?: number; seed?: number; quiet?: boolean },
): Promise<{ student: PrefixDepthStats[]; kmeans: PrefixDepthStats[]; kmeansRows: number }> {
  const L = opts.length;
  const enc = await encodeAll(student, test, [L], { quiet: opts.quiet, label: 'encode test' });
  const depth = Math.min(8, L);
  const studentStats = prefixTreeStats({ data: enc.symbols, shape: [test.count, L] }, test.labels, {
    maxDepth: depth,
    seed: opts.seed ?? 0,
  });
  // Residual k-means on the teacher's pooled features, the student's size (L stages × V centroids),
  // fitted on an evenly spaced subset of the training images to keep it to a minute or so.
  const pooled = cleanPooled(train);
  const d = pooled.length / train.count;
  const rows = Math.min(train.count, opts.kmeansRows ?? 10_000);
  const stride = train.count / rows;
  const fitRows = new Float32Array(rows * d);
  for (let i = 0; i < rows; i++) {
    const r = Math.floor(i * stride);
    fitRows.set(pooled.subarray(r * d, (r + 1) * d), i * d);
  }
  const rkm = ResidualKMeans.fit({
    trainFeatures: fitRows,
    rows,
    stages: depth,
    codebookSize: opts.codebookSize,
    seed: opts.seed ?? 0,
  });
  const codes = rkm.encode(cleanPooled(test), test.count);
  const kmeans = prefixTreeStats({ data: codes.data, shape: [codes.rows, codes.length] }, test.labels, {
    maxDepth: depth,
    seed: opts.seed ?? 0,
  });
  return { student: studentStats, kmeans, kmeansRows: rows };
}

export interface Interpretability {
  grid: [number, number];
  classes: readonly string[];
  imagesPerClass: number;
  distinctness: DistinctnessResult;
  consistency: ConsistencyStats;
  faithfulness?: FaithfulnessResult & { imagesPerClass: number };
  prefix?: { student: PrefixDepthStats[]; kmeans: PrefixDepthStats[]; kmeansRows: number };
}

/** Distinctness and consistency (with intervals) of a pool. */
export function poolStats(
  pool: EncodedPool,
  seed: number,
): Pick<Interpretability, 'distinctness' | 'consistency'> {
  return {
    distinctness: symbolDistinctness(pool.maps),
    consistency: symbolConsistencyStats(pool.maps, pool.labels, pool.symbols, { seed }),
  };
}

const f2 = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(2));
const f3 = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(3));
const pct = (v: number) => (Number.isNaN(v) ? '–' : `${(100 * v).toFixed(1)}%`);
const interval = (ci: [number, number], f = f2) => `[${f(ci[0])}, ${f(ci[1])}]`;

/** The interpretability section of a run's report, as Markdown. */
export function interpretabilityMarkdown(r: Interpretability): string {
  const { distinctness: d, consistency: c } = r;
  const L = c.perClassPosition[0]?.length ?? 0;
  const out: string[] = [
    '## Interpretability',
    '',
    `Attention of each symbol on the teacher's ${r.grid[0]}×${r.grid[1]} token grid (last decoder layer, mean over heads, min-max per map), ${r.imagesPerClass} test images per class. Intervals: ${Math.round(100 * c.level)}% bootstrap (images resampled); baselines: shuffled labels / shuffled symbol ids.`,
    '',
    `**Distinctness** (per image, mean cosine similarity of its ${L} symbol maps; 1 = every symbol looks at the same place, 0 = disjoint regions): mean ${f3(d.mean)}, median ${f3(d.quantiles.p50)}, 10th–90th percentile ${f3(d.quantiles.p10)}–${f3(d.quantiles.p90)} over ${d.count} images.`,
    '',
    "**Consistency per class** (mean over positions of the mean pairwise Pearson correlation of a class's maps at one position), most consistent first:",
    '',
    '| rank | class | score | 95% CI | shuffled labels | shuffled range | score − shuffled |',
    '|---:|---|---:|---:|---:|---:|---:|',
    ...c.ranking.map((k, i) => {
      const e = c.perClass[k];
      return `| ${i + 1} | ${r.classes[k] ?? k} | ${f3(e.score)} | ${interval(e.ci, f3)} | ${f3(e.baseline)} | ${interval(e.baselineRange, f3)} | ${f3(e.score - e.baseline)} |`;
    }),
    '',
  ];
  const bird = r.classes.indexOf('bird');
  const ship = r.classes.indexOf('ship');
  if (bird >= 0 && ship >= 0) {
    const b = c.perClass[bird];
    const s = c.perClass[ship];
    const separated = b.ci[0] > s.ci[1] || s.ci[0] > b.ci[1];
    const verdict =
      b.score > s.score
        ? `birds are more consistent than ships (${f3(b.score)} vs ${f3(s.score)}), as in the paper${separated ? '' : ', but their intervals overlap'}`
        : `birds are not more consistent than ships here (${f3(b.score)} vs ${f3(s.score)}), unlike the paper${separated ? '' : '; their intervals overlap'}`;
    out.push(
      `Birds vs ships: ${verdict} (ranks ${c.ranking.indexOf(bird) + 1} and ${c.ranking.indexOf(ship) + 1} of ${c.ranking.length}).`,
      '',
    );
  }
  out.push(
    'Per position (mean over classes; in parentheses the shuffled-label baseline):',
    '',
    `| | ${Array.from({ length: L }, (_, t) => `P${t + 1}`).join(' | ')} |`,
    `|---|${Array.from({ length: L }, () => '---:').join('|')}|`,
    `| class consistency | ${Array.from({ length: L }, (_, t) => {
      const col = c.perClassPosition.map((row) => row[t]);
      const m = (f: (e: (typeof col)[number]) => number) => {
        const v = col.map(f).filter((x) => !Number.isNaN(x));
        return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
      };
      return `${f2(m((e) => e.score))} (${f2(m((e) => e.baseline))})`;
    }).join(' | ')} |`,
    `| distinctness to P1 | ${d.pairs[0].map((v) => f2(v)).join(' | ')} |`,
    '',
  );
  const symbols = [...c.perSymbol].filter((s) => !Number.isNaN(s.score)).sort((a, b) => b.n - a.n);
  out.push(
    `**Consistency per symbol id** (where does a symbol look whenever it is written; baseline: symbol ids shuffled among images within each position): ${symbols.length} symbols written at least twice; weighted by uses, ${f3(c.symbolMean.score)} against ${f3(c.symbolMean.baseline)} shuffled. ${symbols.filter((s) => s.ci[0] > s.baselineRange[1]).length} of them lie above their shuffled range. The 10 most used:`,
    '',
    '| symbol | uses | positions (1…L) | score | 95% CI | shuffled |',
    '|---:|---:|---|---:|---:|---:|',
    ...symbols
      .slice(0, 10)
      .map(
        (s) =>
          `| ${s.symbol} | ${s.n} | ${s.positions.join(' ')} | ${f3(s.score)} | ${interval(s.ci, f3)} | ${f3(s.baseline)} |`,
      ),
    '',
  );
  if (r.faithfulness) {
    const f = r.faithfulness;
    out.push(
      `**Faithfulness** (deletion test: occlude the ${f.cells} of ${f.grid[0] * f.grid[1]} grid cells symbol t attends to most, or ${f.cells} random cells, with the image's mean colour; re-run teacher + student; how often does symbol t change? The decoder is autoregressive, so a change of an earlier symbol can carry over: the right-hand columns count only tests whose symbols before t stayed), ${f.imagesPerClass} test images per class, ${f.attended.n} tests each:`,
      '',
      '| occluded region | symbol changed | 95% CI | changed, earlier symbols kept | 95% CI | tests with earlier symbols kept |',
      '|---|---:|---:|---:|---:|---:|',
      `| most attended | ${pct(f.attended.rate)} | ${interval(f.attended.ci, pct)} | ${pct(f.attendedPrefixKept.rate)} | ${interval(f.attendedPrefixKept.ci, pct)} | ${f.attendedPrefixKept.n} |`,
      `| random, same area | ${pct(f.random.rate)} | ${interval(f.random.ci, pct)} | ${pct(f.randomPrefixKept.rate)} | ${interval(f.randomPrefixKept.ci, pct)} | ${f.randomPrefixKept.n} |`,
      '',
      `| position | ${f.perPosition.map((p) => `P${p.position + 1}`).join(' | ')} |`,
      `|---|${f.perPosition.map(() => '---:').join('|')}|`,
      `| most attended | ${f.perPosition.map((p) => pct(p.attended)).join(' | ')} |`,
      `| random | ${f.perPosition.map((p) => pct(p.random)).join(' | ')} |`,
      '',
    );
  }
  if (r.prefix) {
    const row = (x: PrefixDepthStats) =>
      `${x.distinctPrefixes} | ${pct(x.purity)} | ${pct(x.chancePurity)} | ${x.gain >= 0 ? '+' : ''}${(100 * x.gain).toFixed(1)} | ${f3(x.nmi)}`;
    out.push(
      `**Prefix tree of the test set** (images sharing a prefix form a group; purity = share of images in their group's majority class; chance = the same groups with shuffled labels; gain = purity minus that of one symbol less, in points). Residual k-means: the same number of stages and centroids, fitted on ${r.prefix.kmeansRows} training images' pooled teacher features.`,
      '',
      '| depth | student prefixes | purity | chance | gain | NMI | k-means prefixes | purity | chance | gain | NMI |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...r.prefix.student.map((x, i) => `| ${x.depth} | ${row(x)} | ${row(r.prefix!.kmeans[i])} |`),
      '',
    );
  }
  return out.join('\n');
}

const BEGIN = '<!-- symseq attn: interpretability -->';
const END = '<!-- /symseq attn: interpretability -->';

/** JSON-ready copy: typed arrays become plain arrays, NaN becomes null (as JSON.stringify writes it). */
function plain(x: unknown): unknown {
  if (ArrayBuffer.isView(x)) return Array.from(x as unknown as ArrayLike<number>);
  if (Array.isArray(x)) return x.map(plain);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
  return x;
}

/**
 * Writes `interpretability.md` and `.json` into `out`, and puts the Markdown into the run's
 * report.md between markers (replacing an earlier one; `eval` rewrites the report, `attn` adds it again).
 */
export async function writeInterpretability(
  out: string,
  runDir: string,
  r: Interpretability,
): Promise<string> {
  const md = interpretabilityMarkdown(r);
  await writeFileAtomic(join(out, 'interpretability.md'), `${md}\n`);
  await writeJsonAtomic(join(out, 'interpretability.json'), plain(r));
  const report = join(runDir, 'report.md');
  if (existsSync(report)) {
    const text = readFileSync(report, 'utf8');
    const i = text.indexOf(BEGIN);
    const j = text.indexOf(END);
    const base = i >= 0 && j > i ? text.slice(0, i) + text.slice(j + END.length).replace(/^\n+/, '') : text;
    await writeFileAtomic(report, `${base.replace(/\n*$/, '\n\n')}${BEGIN}\n${md}\n${END}\n`);
  }
  return md;
}

/** The prefix-tree purity curve (student and residual k-means, each with its shuffled-label chance) as SVG. */
export function prefixPuritySvg(prefix: NonNullable<Interpretability['prefix']>, title: string): string {
  const pts = (rows: PrefixDepthStats[], f: (x: PrefixDepthStats) => number): [number, number][] =>
    rows.map((x) => [x.depth, 100 * f(x)]);
  return accuracyVsLengthSvg(
    [
      { label: 'student', points: pts(prefix.student, (x) => x.purity), colour: '#1f77b4' },
      {
        label: 'student, chance',
        points: pts(prefix.student, (x) => x.chancePurity),
        colour: '#1f77b4',
        dashed: true,
      },
      { label: 'residual k-means', points: pts(prefix.kmeans, (x) => x.purity), colour: '#ff7f0e' },
      {
        label: 'k-means, chance',
        points: pts(prefix.kmeans, (x) => x.chancePurity),
        colour: '#ff7f0e',
        dashed: true,
      },
    ],
    title,
    'class purity of prefix groups (%)',
  );
}
