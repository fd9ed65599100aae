import { Rng } from '@symseq/nn';
import { describe, expect, it } from 'vitest';
import { symbolRegionConsistency } from '../src';
import { makeMaps as fixtureMaps, pearson } from './maps-fixture';

const makeMaps = (
  batch: number,
  symbols: number,
  hw: number,
  fill: (b: number, t: number, i: number) => number,
) => fixtureMaps(batch, symbols, hw, fill, 8);

describe('symbolRegionConsistency', () => {
  it('identical maps score 1 (and so does their baseline)', () => {
    const maps = makeMaps(12, 3, 64, (_b, t, i) => Math.sin(i * (t + 1) * 0.3));
    const labels = Array.from({ length: 12 }, (_, i) => i % 3);
    const r = symbolRegionConsistency(maps, labels);
    for (const row of [...r.score, ...r.baseline]) for (const v of row) expect(v).toBeCloseTo(1, 6);
    expect(r.classSizes).toEqual([4, 4, 4]);
  });

  it('independent random maps score ≈ 0', () => {
    const rng = new Rng(5);
    const maps = makeMaps(60, 2, 64, () => rng.normal());
    const labels = Array.from({ length: 60 }, (_, i) => i % 2);
    const r = symbolRegionConsistency(maps, labels, { seed: 1 });
    // each class: 435 pairs of 64-pixel maps, sd of the mean ≈ 1/√64/√435 ≈ 0.006
    for (const row of [...r.score, ...r.baseline])
      for (const v of row) expect(Math.abs(v)).toBeLessThan(0.04);
  });

  it('equals the mean of brute-force pairwise Pearson correlations', () => {
    const rng = new Rng(9);
    const maps = makeMaps(9, 2, 16, (b, t, i) => rng.uniform() + (b % 2 === 0 && i === t ? 3 : 0));
    const labels = [0, 1, 0, 1, 0, 1, 0, 2, 2];
    const r = symbolRegionConsistency(maps, labels);
    const hw = 16;
    const m = (b: number, t: number) => maps.data.subarray((b * 2 + t) * hw, (b * 2 + t + 1) * hw);
    for (let c = 0; c < 3; c++) {
      const members = labels.flatMap((l, b) => (l === c ? [b] : []));
      for (let t = 0; t < 2; t++) {
        let sum = 0;
        let pairs = 0;
        for (let i = 0; i < members.length; i++) {
          for (let j = i + 1; j < members.length; j++) {
            sum += pearson(m(members[i], t), m(members[j], t));
            pairs++;
          }
        }
        expect(r.score[c][t]).toBeCloseTo(sum / pairs, 10);
      }
    }
  });

  it('class-specific regions score well above the shuffled baseline; seeded and deterministic', () => {
    // class c's maps peak on pixel block c (plus noise): same class → same region
    const rng = new Rng(2);
    const labels = Array.from({ length: 40 }, (_, i) => i % 4);
    const maps = makeMaps(
      40,
      1,
      64,
      (b, _t, i) => rng.uniform() * 0.5 + (Math.floor(i / 16) === labels[b] ? 1 : 0),
    );
    const a = symbolRegionConsistency(maps, labels, { seed: 3 });
    const b = symbolRegionConsistency(maps, labels, { seed: 3 });
    const c = symbolRegionConsistency(maps, labels, { seed: 4 });
    expect(a).toEqual(b);
    expect(c.meanBaseline[0]).not.toBe(a.meanBaseline[0]);
    expect(a.meanScore[0]).toBeGreaterThan(0.6);
    expect(a.meanBaseline[0]).toBeLessThan(0.2);
    for (let k = 0; k < 4; k++) expect(a.score[k][0]).toBeGreaterThan(a.baseline[k][0] + 0.4);
  });

  it('classes with fewer than two usable maps give NaN; constant maps are left out', () => {
    const maps = makeMaps(4, 1, 16, (b, _t, i) => (b === 3 ? 0.5 : i === b ? 1 : 0));
    const r = symbolRegionConsistency(maps, [0, 0, 1, 1]);
    expect(r.score[0][0]).toBeCloseTo(-1 / 15, 10); // two different one-hot maps on 16 pixels
    expect(r.score[1][0]).toBeNaN(); // image 3 is constant
    expect(r.meanScore[0]).toBeCloseTo(-1 / 15, 10);
  });

  it('rejects bad labels', () => {
    const maps = makeMaps(2, 1, 8, (_b, _t, i) => i);
    expect(() => symbolRegionConsistency(maps, [0])).toThrow(/1 labels for 2 images/);
    expect(() => symbolRegionConsistency(maps, [0, -1])).toThrow(/label 1 is -1, expected an integer ≥ 0/);
    expect(() => symbolRegionConsistency(maps, [0, 0], { repeats: 3 } as never)).toThrow(
      /repeats: unknown key/,
    );
  });
});
