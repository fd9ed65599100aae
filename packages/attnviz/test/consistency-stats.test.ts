import { Rng } from '@symseq/nn';
import { describe, expect, it } from 'vitest';
import { symbolConsistencyStats } from '../src';
import { makeMaps, pearson } from './maps-fixture';

describe('symbolConsistencyStats', () => {
  it('identical maps: every score, interval and baseline is 1', () => {
    const maps = makeMaps(12, 2, 16, (_b, t, i) => Math.cos(i * (t + 1)));
    const labels = Array.from({ length: 12 }, (_, i) => i % 3);
    const symbols = Array.from({ length: 24 }, (_, k) => (k % 2) * 5);
    const r = symbolConsistencyStats(maps, labels, symbols, { bootstrap: 20, baselineRepeats: 5 });
    for (const row of r.perClassPosition) {
      for (const e of row) {
        expect(e.score).toBeCloseTo(1, 10);
        expect(e.ci[0]).toBeCloseTo(1, 10);
        expect(e.ci[1]).toBeCloseTo(1, 10);
        expect(e.baseline).toBeCloseTo(1, 10);
        expect(e.n).toBe(4);
      }
    }
    expect(r.perSymbol.map((s) => s.symbol)).toEqual([0, 5]);
    expect(r.perSymbol.map((s) => s.positions)).toEqual([
      [12, 0],
      [0, 12],
    ]);
    for (const s of r.perSymbol) expect(s.score).toBeCloseTo(1, 10);
  });

  it('scores are the brute-force mean pairwise Pearson correlation of each group', () => {
    const rng = new Rng(4);
    const maps = makeMaps(7, 2, 8, () => rng.uniform());
    const labels = [0, 0, 1, 0, 1, 1, 0];
    const symbols = [3, 1, 3, 2, 1, 2, 3, 3, 1, 1, 3, 2, 1, 2];
    const r = symbolConsistencyStats(maps, labels, symbols, { bootstrap: 10, baselineRepeats: 3 });
    const m = (b: number, t: number) => maps.data.subarray((b * 2 + t) * 8, (b * 2 + t + 1) * 8);
    const meanPairs = (list: Float32Array[]) => {
      let s = 0;
      let n = 0;
      for (let i = 0; i < list.length; i++)
        for (let j = i + 1; j < list.length; j++) {
          s += pearson(list[i], list[j]);
          n++;
        }
      return s / n;
    };
    for (let c = 0; c < 2; c++) {
      const byPos = [0, 1].map((t) => meanPairs(labels.flatMap((l, b) => (l === c ? [m(b, t)] : []))));
      for (const t of [0, 1]) expect(r.perClassPosition[c][t].score).toBeCloseTo(byPos[t], 10);
      expect(r.perClass[c].score).toBeCloseTo((byPos[0] + byPos[1]) / 2, 10);
    }
    for (const s of r.perSymbol) {
      const occ: Float32Array[] = [];
      symbols.forEach((v, k) => {
        if (v === s.symbol) occ.push(m(Math.floor(k / 2), k % 2));
      });
      expect(s.n).toBe(occ.length);
      expect(s.score).toBeCloseTo(meanPairs(occ), 10);
    }
  });

  it('bootstrap resamples count pairs of distinct images only: two images give the interval [r, r]', () => {
    // A resample of two images is both (score r) or one twice (no distinct pair: left out). Were a
    // duplicate counted as a pair with itself, half the resamples would score 1.
    const maps = makeMaps(2, 1, 8, (b, _t, i) => (b === 0 ? i : (i * 5) % 8));
    const r = symbolConsistencyStats(maps, [0, 0], [1, 1], { bootstrap: 50 });
    const want = pearson(
      Array.from({ length: 8 }, (_, i) => i),
      Array.from({ length: 8 }, (_, i) => (i * 5) % 8),
    );
    const e = r.perClassPosition[0][0];
    expect(e.score).toBeCloseTo(want, 10);
    expect(e.ci[0]).toBeCloseTo(want, 10);
    expect(e.ci[1]).toBeCloseTo(want, 10);
    expect(r.perSymbol[0].ci[1]).toBeCloseTo(want, 10);
  });

  it('ranks a consistent class above a noisy one above a random one, and the intervals say so', () => {
    // class 0: a fixed blob + small noise; class 1: the blob + large noise; class 2: noise only
    const rng = new Rng(11);
    const labels = Array.from({ length: 90 }, (_, i) => i % 3);
    // signal variance of the blob (2 of 16 cells at height 2) is 0.4375: expected correlations
    // 0.4375 / (0.4375 + σ²) ≈ 0.98, 0.30 and 0
    const maps = makeMaps(90, 1, 16, (b, _t, i) => {
      const c = labels[b];
      const blob = c < 2 && (i === 5 || i === 6) ? 2 : 0;
      return blob + [0.1, 1, 1][c] * rng.normal();
    });
    const r = symbolConsistencyStats(maps, labels, new Array(90).fill(0), { seed: 2 });
    expect(r.ranking).toEqual([0, 1, 2]);
    const [c0, c1, c2] = r.perClassPosition.map((row) => row[0]);
    expect(c0.ci[0]).toBeGreaterThan(c0.baselineRange[1]);
    expect(c0.ci[0]).toBeGreaterThan(c1.ci[1]);
    expect(c0.score).toBeCloseTo(0.4375 / 0.4475, 1);
    expect(c1.score).toBeGreaterThan(0.2);
    expect(c1.score).toBeLessThan(0.4);
    // the random class: its interval holds 0, the expected correlation of independent maps
    expect(c2.ci[0]).toBeLessThan(0);
    expect(c2.ci[1]).toBeGreaterThan(0);
    expect(c2.ci[0]).toBeLessThan(c2.score);
    expect(c2.ci[1]).toBeGreaterThan(c2.score);
  });

  it('a symbol that always looks at its own region beats its position-preserving shuffled baseline', () => {
    // symbol s (0..3) looks at cell 4s; which symbol an image writes at each position is random
    const rng = new Rng(8);
    const symbols = Array.from({ length: 80 * 2 }, () => rng.int(4));
    const maps = makeMaps(
      80,
      2,
      16,
      (b, t, i) => (i === 4 * symbols[b * 2 + t] ? 1 : 0) + 0.3 * rng.uniform(),
    );
    const r = symbolConsistencyStats(maps, new Array(80).fill(0), symbols, { seed: 1 });
    for (const s of r.perSymbol) {
      expect(s.ci[0]).toBeGreaterThan(0.5);
      expect(s.baselineRange[1]).toBeLessThan(0.3);
    }
    expect(r.symbolMean.score).toBeGreaterThan(r.symbolMean.baseline + 0.4);
    // class consistency of a single class of mixed symbols is low: no class-specific region
    expect(r.perClass[0].score).toBeLessThan(0.35);
  });

  it('seeded: the same seed gives the same intervals, another seed others', () => {
    const rng = new Rng(3);
    const maps = makeMaps(20, 1, 8, () => rng.uniform());
    const labels = Array.from({ length: 20 }, (_, i) => i % 2);
    const symbols = Array.from({ length: 20 }, (_, i) => i % 3);
    const a = symbolConsistencyStats(maps, labels, symbols, { seed: 5, bootstrap: 30 });
    const b = symbolConsistencyStats(maps, labels, symbols, { seed: 5, bootstrap: 30 });
    const c = symbolConsistencyStats(maps, labels, symbols, { seed: 6, bootstrap: 30 });
    expect(a).toEqual(b);
    expect(c.perClassPosition[0][0].ci).not.toEqual(a.perClassPosition[0][0].ci);
    expect(c.perClassPosition[0][0].score).toBe(a.perClassPosition[0][0].score);
  });

  it('rejects mismatched labels and symbols', () => {
    const maps = makeMaps(2, 2, 4, (_b, _t, i) => i);
    expect(() => symbolConsistencyStats(maps, [0], [0, 0, 0, 0])).toThrow(/1 labels for 2 images/);
    expect(() => symbolConsistencyStats(maps, [0, 1], [0, 0, 0])).toThrow(
      /3 symbols, expected 2 images × 2 positions = 4/,
    );
    expect(() => symbolConsistencyStats(maps, [0, 1], [0, 0, 0.5, 0])).toThrow(/symbol 2 is 0.5/);
    expect(() => symbolConsistencyStats(maps, [0, 1], [0, 0, 0, 0], { level: 1 })).toThrow(/level/);
  });
});
