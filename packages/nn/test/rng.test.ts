import { describe, expect, test } from 'vitest';
import { Rng } from '../src';

describe('Rng (xoshiro128**)', () => {
  test('matches the reference xoshiro128** sequence from state [1, 2, 3, 4]', () => {
    const r = new Rng(0);
    r.setState([1, 2, 3, 4]);
    // Reference values from the published C implementation (Blackman & Vigna), state {1,2,3,4}.
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([11520, 0, 5927040]);
  });

  test('same seed gives the same stream; different seeds differ; state round-trips', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 5 }, () => a.nextUint32());
    expect(sa).toEqual(Array.from({ length: 5 }, () => b.nextUint32()));
    expect(sa).not.toEqual(Array.from({ length: 5 }, () => c.nextUint32()));
    const st = a.getState();
    const next = a.uniform();
    a.setState(st);
    expect(a.uniform()).toBe(next);
  });

  test('uniform, normal and gumbel have the right moments', () => {
    const r = new Rng(7);
    const n = 200_000;
    const moments = (xs: Float32Array) => {
      let m = 0;
      for (const x of xs) m += x;
      m /= xs.length;
      let v = 0;
      for (const x of xs) v += (x - m) ** 2;
      return [m, v / xs.length];
    };
    const [mu, vu] = moments(r.fill(n, 'uniform'));
    expect(mu).toBeCloseTo(0.5, 2);
    expect(vu).toBeCloseTo(1 / 12, 2);
    const [mn, vn] = moments(r.fill(n, 'normal'));
    expect(Math.abs(mn)).toBeLessThan(0.01);
    expect(vn).toBeCloseTo(1, 1);
    const [mg, vg] = moments(r.fill(n, 'gumbel'));
    expect(mg).toBeCloseTo(0.5772, 1); // Euler–Mascheroni constant
    expect(vg).toBeCloseTo(Math.PI ** 2 / 6, 1);
  });

  test('int covers [0, n) evenly and permutation is a permutation', () => {
    const r = new Rng(1);
    const counts = new Array(5).fill(0);
    for (let i = 0; i < 50_000; i++) counts[r.int(5)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
    expect([...r.permutation(10)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(() => r.int(0)).toThrow(/positive integer/);
    expect(() => new Rng(Number.NaN)).toThrow(/finite/);
  });
});
