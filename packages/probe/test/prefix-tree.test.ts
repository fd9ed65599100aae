import { describe, expect, it } from 'vitest';
import { prefixTree, prefixTreeStats } from '../src';

// six sequences of two symbols and their classes, worked by hand below
const SEQ = [
  [1, 2],
  [1, 2],
  [1, 3],
  [2, 5],
  [2, 5],
  [2, 6],
];
const LABELS = [0, 0, 1, 1, 1, 0];

describe('prefixTreeStats', () => {
  it('matches a hand computation of distinct prefixes, purity, gain and singletons', () => {
    const r = prefixTreeStats(SEQ, LABELS, { chanceRepeats: 3 });
    expect(r.map((d) => d.depth)).toEqual([1, 2]);
    // depth 1: {1: classes 0 0 1}, {2: 1 1 0} → (2 + 2) / 6; depth 0 (one group) has purity 3/6
    expect(r[0].distinctPrefixes).toBe(2);
    expect(r[0].purity).toBeCloseTo(4 / 6, 12);
    expect(r[0].gain).toBeCloseTo(4 / 6 - 3 / 6, 12);
    expect(r[0].singletons).toBe(0);
    // depth 2: {1 2: 0 0}, {1 3: 1}, {2 5: 1 1}, {2 6: 0} → all pure; two samples alone
    expect(r[1].distinctPrefixes).toBe(4);
    expect(r[1].purity).toBe(1);
    expect(r[1].gain).toBeCloseTo(2 / 6, 12);
    expect(r[1].singletons).toBeCloseTo(2 / 6, 12);
    // groups of sizes 2,1,2,1 are pure for any labels only if each pair shares a class: chance < 1
    expect(r[1].chancePurity).toBeGreaterThanOrEqual(4 / 6);
    expect(r[1].chancePurity).toBeLessThanOrEqual(1);
    expect(r[0].nmi).toBeGreaterThan(0);
  });

  it('codes that copy the class are pure at depth 1; codes independent of it stay near chance', () => {
    const n = 400;
    const labels = Array.from({ length: n }, (_, i) => i % 4);
    const copy = labels.map((c, i) => [c + 10, i % 3]);
    const r = prefixTreeStats(copy, labels);
    expect(r[0].purity).toBe(1);
    expect(r[0].nmi).toBeCloseTo(1, 12);
    expect(r[0].gain).toBeCloseTo(0.75, 12);
    // i % 5 is independent of i % 4 over 400 samples: every group holds 20 of each class
    const independent = labels.map((_, i) => [i % 5, 0]);
    const q = prefixTreeStats(independent, labels, { maxDepth: 1 });
    expect(q).toHaveLength(1);
    expect(q[0].purity).toBeCloseTo(0.25, 12);
    expect(q[0].gain).toBeCloseTo(0, 12);
    expect(q[0].nmi).toBeCloseTo(0, 12);
  });

  it('names bad input', () => {
    expect(() => prefixTreeStats(SEQ, LABELS, { maxDepth: 3 })).toThrow(
      /maxDepth 3 exceeds the sequence length 2/,
    );
    expect(() => prefixTreeStats(SEQ, [0, 1])).toThrow(/has 6 rows but there are 2 labels/);
    expect(() => prefixTreeStats([[1, -2]], [0])).toThrow(/position 1 is -2, expected an integer ≥ 0/);
  });
});

describe('prefixTree', () => {
  it('groups by first symbol, then second, largest group first, with class counts that add up', () => {
    const root = prefixTree(SEQ, { labels: LABELS });
    expect(root.members).toEqual([0, 1, 2, 3, 4, 5]);
    expect(root.classCounts).toEqual([3, 3]);
    expect(root.children.map((c) => c.prefix)).toEqual([[1], [2]]);
    expect(root.children.map((c) => c.classCounts)).toEqual([
      [2, 1],
      [1, 2],
    ]);
    const [one, two] = root.children;
    expect(one.children.map((c) => [c.prefix, c.members])).toEqual([
      [
        [1, 2],
        [0, 1],
      ],
      [[1, 3], [2]],
    ]);
    expect(two.children.map((c) => c.members)).toEqual([[3, 4], [5]]);
    expect(two.children[1].children).toEqual([]);
    expect(two.children[1].depth).toBe(2);
  });

  it('stops at maxDepth and works without labels', () => {
    const root = prefixTree(SEQ, { maxDepth: 1 });
    expect(root.classCounts).toBeUndefined();
    expect(root.children.map((c) => c.children.length)).toEqual([0, 0]);
    expect(() => prefixTree(SEQ, { maxDepth: 5 })).toThrow(/maxDepth 5 must be an integer in \[0, 2\]/);
  });
});
