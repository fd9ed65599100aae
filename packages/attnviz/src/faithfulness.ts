import { parseConfig, Rng } from '@symseq/nn';
import { z } from 'zod';
import type { SymbolMaps } from './attention-maps';
import { quantile } from './distinctness';
import { channelsOf, type ImageInput } from './image';
import { checkSymbolMaps } from './map-vectors';

/** An image with one region painted over: same size and channels as its source, float values. */
export interface OccludedImage {
  width: number;
  height: number;
  data: Float32Array;
}

/**
 * Re-runs teacher + student on a batch of (occluded) images and returns their symbols, `[n, L]`
 * row-major (n = images.length). The caller owns the model; this module owns the occlusions.
 */
export type SymbolRerun = (images: OccludedImage[]) => Promise<ArrayLike<number>> | ArrayLike<number>;

const optionsSchema = z
  .object({
    /** Fraction of the token grid's cells occluded per test (rounded, at least one cell). */
    area: z.number().gt(0).max(1).default(0.25),
    /** What the occluded pixels become: the image's mean colour, or one value for every channel. */
    fill: z.union([z.literal('mean'), z.number()]).default('mean'),
    /** Positions tested (default all). */
    positions: z.array(z.number().int().nonnegative()).optional(),
    /** Occluded images per `rerun` call. */
    batchSize: z.number().int().positive().default(64),
    /** Seed of the random regions and of the bootstrap. */
    seed: z.number().int().default(0),
    bootstrap: z.number().int().positive().default(500),
    level: z.number().gt(0).lt(1).default(0.95),
  })
  .strict();

export type FaithfulnessOptions = z.input<typeof optionsSchema>;

export interface ChangeRate {
  /** Fraction of tests in which the occluded symbol changed. */
  rate: number;
  /** Bootstrap percentile interval over images. */
  ci: [number, number];
  /** Tests counted. */
  n: number;
}

export interface FaithfulnessResult {
  grid: [number, number];
  /** Cells occluded per test (the same for the attended and the random region). */
  cells: number;
  images: number;
  positions: number[];
  /** Occluding the cells symbol t attends to most: how often symbol t changes. */
  attended: ChangeRate;
  /** Occluding as many cells drawn at random: how often symbol t changes. */
  random: ChangeRate;
  /**
   * The same, counting only tests in which symbols 0 … t − 1 stayed as they were: a change of
   * symbol t there comes from the occlusion itself, not from an earlier symbol that changed.
   */
  attendedPrefixKept: ChangeRate;
  randomPrefixKept: ChangeRate;
  perPosition: Array<{ position: number; attended: number; random: number; n: number }>;
  /** [image · L + t]: 1 changed, 0 unchanged, −1 position not tested. */
  changes: { attended: Int8Array; random: Int8Array };
}

/**
 * A deletion test of the attention maps (in the spirit of RISE): for each image and tested position t,
 * paint over the `area` of the token grid that symbol t attends to most (the top cells of its map),
 * and, separately, the same number of cells drawn at random; re-run the model on both and count how
 * often symbol t changes. Attention that explains the symbol changes it far more often than random
 * occlusion; attention unrelated to what decides the symbol changes it about as often.
 *
 * A grid cell (r, c) covers image rows ⌊r·H/h⌋ … ⌊(r+1)·H/h⌋ − 1 and the matching columns.
 * `symbols` are the unoccluded images' symbols, `[batch, L]` row-major.
 */
export async function occlusionFaithfulness(
  input: { images: ImageInput[]; maps: SymbolMaps; symbols: ArrayLike<number>; rerun: SymbolRerun },
  options: FaithfulnessOptions = {},
): Promise<FaithfulnessResult> {
  const cfg = parseConfig(optionsSchema, options, 'occlusionFaithfulness options');
  const { images, maps, symbols, rerun } = input;
  checkSymbolMaps(maps, 'occlusionFaithfulness maps');
  const L = maps.symbols;
  const grid: [number, number] = [maps.height, maps.width];
  const hw = maps.height * maps.width;
  if (images.length !== maps.batch) {
    throw new Error(`occlusionFaithfulness: ${images.length} images for ${maps.batch} sets of maps`);
  }
  if (symbols.length !== maps.batch * L) {
    throw new Error(
      `occlusionFaithfulness: ${symbols.length} symbols, expected ${maps.batch} images × ${L} positions`,
    );
  }
  const positions = cfg.positions ?? Array.from({ length: L }, (_, t) => t);
  for (const t of positions) {
    if (t >= L) throw new Error(`occlusionFaithfulness: position ${t} out of range [0, ${L})`);
  }
  const cells = Math.max(1, Math.round(cfg.area * hw));
  const rng = new Rng(cfg.seed);
  const attended = new Int8Array(maps.batch * L).fill(-1);
  const random = new Int8Array(maps.batch * L).fill(-1);

  // Tests are queued and run in batches; each remembers which image, position and kind it is.
  // 1 where symbols 0 … t − 1 came out unchanged: then a change of symbol t is its own, not inherited
  // from an earlier symbol through the autoregressive decoder.
  const attendedPrefix = new Int8Array(maps.batch * L).fill(-1);
  const randomPrefix = new Int8Array(maps.batch * L).fill(-1);
  let queue: { image: OccludedImage; b: number; t: number; kind: Int8Array; prefix: Int8Array }[] = [];
  const flush = async () => {
    if (!queue.length) return;
    const batch = queue;
    queue = [];
    const out = await rerun(batch.map((q) => q.image));
    if (out.length !== batch.length * L) {
      throw new Error(
        `occlusionFaithfulness: rerun returned ${out.length} symbols for ${batch.length} images, expected ${batch.length * L}`,
      );
    }
    batch.forEach((q, i) => {
      q.kind[q.b * L + q.t] = out[i * L + q.t] === symbols[q.b * L + q.t] ? 0 : 1;
      let kept = 1;
      for (let k = 0; k < q.t; k++) if (out[i * L + k] !== symbols[q.b * L + k]) kept = 0;
      q.prefix[q.b * L + q.t] = kept;
    });
  };
  for (let b = 0; b < images.length; b++) {
    const image = images[b];
    channelsOf(image, `occlusionFaithfulness images[${b}]`);
    if (image.width < grid[1] || image.height < grid[0]) {
      throw new Error(
        `occlusionFaithfulness: images[${b}] is ${image.width}×${image.height}, smaller than the ${grid[0]}×${grid[1]} grid`,
      );
    }
    for (const t of positions) {
      const map = maps.data.subarray((b * L + t) * hw, (b * L + t + 1) * hw);
      queue.push({
        image: occludeCells(image, grid, topCells(map, cells), cfg.fill),
        b,
        t,
        kind: attended,
        prefix: attendedPrefix,
      });
      queue.push({
        image: occludeCells(image, grid, randomCells(rng, hw, cells), cfg.fill),
        b,
        t,
        kind: random,
        prefix: randomPrefix,
      });
      if (queue.length >= cfg.batchSize) await flush();
    }
  }
  await flush();

  const rate = (kind: Int8Array, only?: Int8Array): ChangeRate => {
    // per image: changed tests and tests, for the bootstrap over images
    const changed = new Float64Array(maps.batch);
    const tests = new Float64Array(maps.batch);
    for (let b = 0; b < maps.batch; b++) {
      for (const t of positions) {
        if (only && only[b * L + t] !== 1) continue;
        tests[b]++;
        changed[b] += kind[b * L + t];
      }
    }
    const total = (w: (b: number) => number) => {
      let c = 0;
      let n = 0;
      for (let b = 0; b < maps.batch; b++) {
        c += w(b) * changed[b];
        n += w(b) * tests[b];
      }
      return n > 0 ? c / n : Number.NaN;
    };
    const boot: number[] = [];
    for (let r = 0; r < cfg.bootstrap; r++) {
      const w = new Float64Array(maps.batch);
      for (let i = 0; i < maps.batch; i++) w[rng.int(maps.batch)]++;
      boot.push(total((b) => w[b]));
    }
    const sorted = boot.filter((v) => !Number.isNaN(v)).sort((a, c) => a - c);
    return {
      rate: total(() => 1),
      ci: [quantile(sorted, (1 - cfg.level) / 2), quantile(sorted, 1 - (1 - cfg.level) / 2)],
      n: tests.reduce((a, v) => a + v, 0),
    };
  };
  const perPosition = positions.map((position) => {
    let a = 0;
    let r = 0;
    for (let b = 0; b < maps.batch; b++) {
      a += attended[b * L + position];
      r += random[b * L + position];
    }
    return { position, attended: a / maps.batch, random: r / maps.batch, n: maps.batch };
  });
  return {
    grid,
    cells,
    images: maps.batch,
    positions,
    attended: rate(attended),
    random: rate(random),
    attendedPrefixKept: rate(attended, attendedPrefix),
    randomPrefixKept: rate(random, randomPrefix),
    perPosition,
    changes: { attended, random },
  };
}

/** Indices of the `k` largest values of a map (ties: lower index first). */
export function topCells(map: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: map.length }, (_, i) => i)
    .sort((a, b) => map[b] - map[a] || a - b)
    .slice(0, k);
}

/** `k` distinct cells of `n`, uniformly at random (a partial Fisher–Yates shuffle). */
function randomCells(rng: Rng, n: number, k: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k);
}

/**
 * A copy of `image` (RGB or RGBA) as floats with the pixels of the given grid cells (row-major
 * indices on an h×w grid) set to `fill`: the image's mean colour per channel, or one value. Alpha,
 * if any, is kept.
 */
export function occludeCells(
  image: ImageInput,
  grid: readonly [number, number],
  cells: readonly number[],
  fill: 'mean' | number,
): OccludedImage {
  const ch = channelsOf(image, 'occludeCells image');
  const { width: W, height: H } = image;
  const [h, w] = grid;
  const data = Float32Array.from(image.data);
  const colour = [0, 0, 0];
  if (fill === 'mean') {
    for (let p = 0; p < W * H; p++) for (let c = 0; c < 3; c++) colour[c] += data[p * ch + c] / (W * H);
  } else colour.fill(fill);
  for (const cell of cells) {
    if (!Number.isInteger(cell) || cell < 0 || cell >= h * w) {
      throw new Error(`occludeCells: cell ${cell} is outside the ${h}×${w} grid`);
    }
    const r = Math.floor(cell / w);
    const c = cell % w;
    const y0 = Math.floor((r * H) / h);
    const y1 = Math.floor(((r + 1) * H) / h);
    const x0 = Math.floor((c * W) / w);
    const x1 = Math.floor(((c + 1) * W) / w);
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) for (let k = 0; k < 3; k++) data[(y * W + x) * ch + k] = colour[k];
    }
  }
  return { width: W, height: H, data };
}
