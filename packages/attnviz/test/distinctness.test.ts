import { describe, expect, it } from 'vitest';
import { type SymbolMaps, symbolDistinctness } from '../src';

function maps(rows: number[][][], height: number, width: number): SymbolMaps {
  // rows[b][t] is one map of height · width values
  const batch = rows.length;
  const symbols = rows[0].length;
  return { batch, symbols, height, width, data: Float32Array.from(rows.flat(2)) };
}

describe('symbolDistinctness', () => {
  it('identical maps give 1 for every image, with either similarity', () => {
    const m = [0.1, 0.9, 0.3, 0.5, 0, 1];
    const all = maps(
      [
        [m, m, m],
        [m.map((v) => 2 * v), m.map((v) => 2 * v), m.map((v) => 2 * v)],
      ],
      2,
      3,
    );
    for (const similarity of ['cosine', 'pearson'] as const) {
      const r = symbolDistinctness(all, { similarity });
      expect(Array.from(r.perImage)).toEqual([expect.closeTo(1, 12), expect.closeTo(1, 12)]);
      expect(r.mean).toBeCloseTo(1, 12);
      expect(r.pairs[0][2]).toBeCloseTo(1, 12);
    }
  });

  it('maps on disjoint regions give cosine 0 and Pearson −1/(n − 1) for one-hot maps on n cells', () => {
    const oneHot = (i: number) => Array.from({ length: 16 }, (_, k) => (k === i ? 1 : 0));
    const m = maps([[oneHot(0), oneHot(5), oneHot(15), oneHot(9)]], 4, 4);
    expect(symbolDistinctness(m).perImage[0]).toBe(0);
    // Pearson of two different one-hots on 16 cells: (0 − 1/16) / (1 − 1/16) = −1/15
    expect(symbolDistinctness(m, { similarity: 'pearson' }).perImage[0]).toBeCloseTo(-1 / 15, 12);
  });

  it('matches a hand computation; quantiles, histogram and the per-pair table', () => {
    // image 0: a = [1,0,1,0], b = [1,1,0,0], c = [0,0,0,1] → cos(a,b) = 1/2, cos(a,c) = 0, cos(b,c) = 0
    // image 1: all three equal → 1; image 2: a, b equal, c = 0 (no direction) → only the pair (a,b): 1
    const a = [1, 0, 1, 0];
    const b = [1, 1, 0, 0];
    const c = [0, 0, 0, 1];
    const zero = [0, 0, 0, 0];
    const r = symbolDistinctness(
      maps(
        [
          [a, b, c],
          [b, b, b],
          [a, a, zero],
        ],
        2,
        2,
      ),
      { bins: 4 },
    );
    expect(r.perImage[0]).toBeCloseTo(1 / 6, 12);
    expect(r.perImage[1]).toBeCloseTo(1, 12);
    expect(r.perImage[2]).toBeCloseTo(1, 12);
    expect(r.mean).toBeCloseTo((1 / 6 + 2) / 3, 12);
    // sorted [1/6, 1, 1]: the median is 1; p25 = 1/6 + 0.5 · (1 − 1/6)
    expect(r.quantiles.p50).toBeCloseTo(1, 12);
    expect(r.quantiles.p25).toBeCloseTo(1 / 6 + 0.5 * (5 / 6), 12);
    expect(r.histogram.edges).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(r.histogram.counts).toEqual([0, 0, 1, 2]);
    // pair (0,1): 1/2, 1, 1 → 5/6; pair (0,2): 0 and 1 (image 2 has none) → 1/2
    expect(r.pairs[0][1]).toBeCloseTo(5 / 6, 12);
    expect(r.pairs[1][0]).toBeCloseTo(5 / 6, 12);
    expect(r.pairs[0][2]).toBeCloseTo(0.5, 12);
    expect(r.count).toBe(3);
  });

  it('an image without two usable maps has no value, and bad input is named', () => {
    const r = symbolDistinctness(
      maps(
        [
          [
            [0, 0],
            [1, 0],
          ],
        ],
        1,
        2,
      ),
    );
    expect(r.perImage[0]).toBeNaN();
    expect(r.count).toBe(0);
    expect(r.mean).toBeNaN();
    const bad = { batch: 1, symbols: 2, height: 2, width: 2, data: new Float32Array(7) };
    expect(() => symbolDistinctness(bad)).toThrow(/data has 7 values, expected .* = 8/);
    expect(() => symbolDistinctness(maps([[[1], [1]]], 1, 1), { similarity: 'dot' } as never)).toThrow(
      /similarity/,
    );
  });
});
