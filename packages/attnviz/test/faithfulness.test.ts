import { Rng } from '@symseq/nn';
import { describe, expect, it } from 'vitest';
import { occlusionFaithfulness, type SymbolMaps } from '../src';
import { occludeCells, topCells } from '../src/faithfulness';

const H = 4;
const W = 4;
const SIDE = 12; // pixels per image side: each grid cell is 3×3 pixels

/** RGB float images, 12×12, dark except one bright 3×3 cell per position's "key" cell. */
function images(n: number, keys: (b: number) => number[]) {
  return Array.from({ length: n }, (_, b) => {
    const data = new Float32Array(SIDE * SIDE * 3);
    for (const cell of keys(b)) {
      const r = Math.floor(cell / W);
      const c = cell % W;
      for (let y = 3 * r; y < 3 * r + 3; y++)
        for (let x = 3 * c; x < 3 * c + 3; x++) data.fill(1, (y * SIDE + x) * 3, (y * SIDE + x) * 3 + 3);
    }
    return { width: SIDE, height: SIDE, data };
  });
}

/** Mean brightness of a grid cell of a 12×12 RGB image. */
function cellBrightness(img: { data: ArrayLike<number> }, cell: number): number {
  const r = Math.floor(cell / W);
  const c = cell % W;
  let s = 0;
  for (let y = 3 * r; y < 3 * r + 3; y++)
    for (let x = 3 * c; x < 3 * c + 3; x++) s += img.data[(y * SIDE + x) * 3];
  return s / 9;
}

/** Maps with one peak per (image, position) at `peak(b, t)`. */
function peakMaps(n: number, L: number, peak: (b: number, t: number) => number): SymbolMaps {
  const data = new Float32Array(n * L * H * W);
  for (let b = 0; b < n; b++) for (let t = 0; t < L; t++) data[(b * L + t) * H * W + peak(b, t)] = 1;
  return { batch: n, symbols: L, height: H, width: W, data };
}

describe('occlusionFaithfulness', () => {
  const n = 200;
  const L = 2;
  const rng = new Rng(1);
  // every image has two bright cells, key[b] in ascending order
  const key = Array.from({ length: n }, () => {
    const a = rng.int(16);
    const c = (a + 1 + rng.int(15)) % 16;
    return [Math.min(a, c), Math.max(a, c)];
  });
  const imgs = images(n, (b) => key[b]);
  // The model reads the image alone: symbol t is the index of its t-th bright cell (16 if none).
  const model = (batch: { data: ArrayLike<number> }[]) =>
    batch.flatMap((img) => {
      const bright = Array.from({ length: 16 }, (_, c) => c).filter((c) => cellBrightness(img, c) > 0.5);
      return [bright[0] ?? 16, bright[1] ?? 16];
    });
  const symbols = model(imgs);

  it('attention on the cell that decides the symbol: occluding it always changes the symbol, a random cell rarely', async () => {
    const calls: number[] = [];
    const r = await occlusionFaithfulness(
      {
        images: imgs,
        maps: peakMaps(n, L, (b, t) => key[b][t]),
        symbols,
        rerun: (batch) => {
          calls.push(batch.length);
          return model(batch);
        },
      },
      { area: 1 / 16, fill: 'mean', batchSize: 50, seed: 3 },
    );
    expect(r.cells).toBe(1);
    expect(r.grid).toEqual([4, 4]);
    expect(r.attended.rate).toBe(1);
    expect(r.attended.ci).toEqual([1, 1]);
    // A random cell changes symbol 0 when it is key 0 (p = 1/16) and symbol 1 when it is either key
    // (2/16): 3/32 over 400 tests, sd √(400 · 3/32 · 29/32) ≈ 5.8 tests.
    expect(Math.abs(r.random.rate * 400 - 37.5)).toBeLessThan(17);
    expect(Math.abs(r.perPosition[0].random * 200 - 12.5)).toBeLessThan(11);
    expect(Math.abs(r.perPosition[1].random * 200 - 25)).toBeLessThan(14);
    expect(r.random.ci[0]).toBeLessThan(r.random.rate);
    expect(r.random.ci[1]).toBeGreaterThan(r.random.rate);
    expect(r.random.ci[1]).toBeLessThan(0.2);
    expect(r.perPosition.map((p) => p.attended)).toEqual([1, 1]);
    // Counting only tests whose earlier symbols stayed: the attended cell never touches key 0 when
    // t = 1, so all 400 count and all change. A random cell at t = 1 spoils the prefix when it is
    // key 0 (1/16 of 200 tests) and otherwise changes symbol 1 with probability 1/15: about
    // 200 + 187.5 tests and 12.5 + 12.5 changes.
    expect([r.attendedPrefixKept.rate, r.attendedPrefixKept.n]).toEqual([1, 400]);
    expect(Math.abs(r.randomPrefixKept.n - 387.5)).toBeLessThan(12);
    expect(Math.abs(r.randomPrefixKept.rate * r.randomPrefixKept.n - 25)).toBeLessThan(14);
    // 2 tests × 2 positions × 200 images in batches of ≤ 50
    expect(calls.reduce((a, b) => a + b, 0)).toBe(800);
    expect(Math.max(...calls)).toBe(50);
  });

  it('attention unrelated to what decides the symbol: attended occlusion changes it as often as random', async () => {
    const peaks = new Rng(9);
    const r = await occlusionFaithfulness(
      { images: imgs, maps: peakMaps(n, L, () => peaks.int(16)), symbols, rerun: model },
      { area: 1 / 16, seed: 4 },
    );
    // both ≈ 3/32 (sd of each ≈ 0.015)
    expect(Math.abs(r.attended.rate - 3 / 32)).toBeLessThan(0.05);
    expect(Math.abs(r.random.rate - 3 / 32)).toBeLessThan(0.05);
    expect(Math.abs(r.attended.rate - r.random.rate)).toBeLessThan(0.06);
  });

  it('a student whose symbols ignore the image never changes them', async () => {
    const r = await occlusionFaithfulness(
      {
        images: imgs.slice(0, 20),
        maps: peakMaps(20, L, (b, t) => key[b][t]),
        symbols: new Array(40).fill(7),
        rerun: (batch) => new Array(batch.length * L).fill(7),
      },
      { area: 0.5 },
    );
    expect(r.cells).toBe(8);
    expect(r.attended.rate).toBe(0);
    expect(r.random.rate).toBe(0);
    expect(r.attended.ci).toEqual([0, 0]);
  });

  it('tests only the positions asked for, and names bad input', async () => {
    const rerun = (batch: unknown[]) => new Array(batch.length * L).fill(0);
    const base = {
      images: imgs.slice(0, 3),
      maps: peakMaps(3, L, () => 0),
      symbols: new Array(6).fill(0),
      rerun,
    };
    const r = await occlusionFaithfulness(base, { positions: [1] });
    expect(Array.from(r.changes.attended)).toEqual([-1, 0, -1, 0, -1, 0]);
    await expect(occlusionFaithfulness({ ...base, symbols: [0] })).rejects.toThrow(
      /1 symbols, expected 3 images × 2 positions/,
    );
    await expect(occlusionFaithfulness({ ...base, images: imgs.slice(0, 2) })).rejects.toThrow(
      /2 images for 3 sets of maps/,
    );
    await expect(occlusionFaithfulness(base, { positions: [2] })).rejects.toThrow(/position 2 out of range/);
    await expect(occlusionFaithfulness({ ...base, rerun: () => [0] })).rejects.toThrow(
      /rerun returned 1 symbols for 12 images, expected 24/,
    );
    const tiny = { width: 2, height: 2, data: new Float32Array(12) };
    await expect(occlusionFaithfulness({ ...base, images: [tiny, tiny, tiny] })).rejects.toThrow(
      /images\[0\] is 2×2, smaller than the 4×4 grid/,
    );
  });
});

describe('occludeCells', () => {
  it('paints exactly the pixels of the chosen cells with the mean colour, on grids that do not divide the image', () => {
    // 5 × 7 RGBA image on a 2×3 grid: rows 0–1 | 2–4, columns 0–1 | 2–3 | 4–6
    const W5 = 7;
    const H5 = 5;
    const data = new Uint8Array(W5 * H5 * 4);
    for (let p = 0; p < W5 * H5; p++) data.set([p, 2 * p, 100, 200], 4 * p);
    const out = occludeCells({ width: W5, height: H5, data }, [2, 3], [5], 'mean');
    // mean over all 35 pixels of p is 17, of 2p is 34, of 100 is 100
    for (let y = 0; y < H5; y++) {
      for (let x = 0; x < W5; x++) {
        const p = y * W5 + x;
        const inside = y >= 2 && x >= 4;
        expect(Array.from(out.data.subarray(4 * p, 4 * p + 4))).toEqual(
          inside ? [17, 34, 100, 200] : [p, 2 * p, 100, 200],
        );
      }
    }
    const grey = occludeCells(
      { width: 2, height: 2, data: new Float32Array(12).fill(0.2) },
      [2, 2],
      [0],
      0.5,
    );
    expect(Array.from(grey.data)).toEqual([0.5, 0.5, 0.5, ...new Array(9).fill(expect.closeTo(0.2, 6))]);
    expect(() => occludeCells({ width: 2, height: 2, data: new Float32Array(12) }, [1, 1], [1], 0)).toThrow(
      /cell 1 is outside the 1×1 grid/,
    );
  });

  it('topCells picks the largest values, lower index first on ties', () => {
    expect(topCells([0.1, 0.9, 0.5, 0.9, 0], 3)).toEqual([1, 3, 2]);
  });
});
