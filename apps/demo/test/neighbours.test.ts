import { describe, expect, it } from 'vitest';
import { nearestByCosine } from '../src/neighbours';

describe('nearestByCosine', () => {
  it('ranks by cosine similarity, computed by hand', () => {
    const query = [1, 0];
    // cosines: [1, 1]/√2 → 0.7071; [0, 2] → 0; [3, 0] → 1; [−1, 1]/√2 → −0.7071; [4, 3]/5 → 0.8
    const bank = [
      [1, 1],
      [0, 2],
      [3, 0],
      [-1, 1],
      [4, 3],
    ];
    const found = nearestByCosine(query, bank, 3);
    expect(found.map((n) => n.index)).toEqual([2, 4, 0]);
    expect(found[0].similarity).toBeCloseTo(1, 12);
    expect(found[1].similarity).toBeCloseTo(0.8, 12);
    expect(found[2].similarity).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('ignores scale, keeps bank order among ties, and gives a zero vector similarity 0', () => {
    const found = nearestByCosine(
      new Float32Array([0, 2, 2]),
      [
        [0, 0, 0],
        [0, 5, 5],
        [0, 1, 1],
        [1, 0, 0],
      ],
      4,
    );
    expect(found.map((n) => n.index)).toEqual([1, 2, 0, 3]);
    expect(found.map((n) => n.similarity)).toEqual([expect.closeTo(1, 6), expect.closeTo(1, 6), 0, 0]);
  });

  it('leaves out the excluded entry (the query itself), however similar', () => {
    const bank = [
      [1, 0],
      [2, 0],
      [1, 1],
    ];
    expect(nearestByCosine([1, 0], bank, 2, 0).map((n) => n.index)).toEqual([1, 2]);
    expect(nearestByCosine([1, 0], bank, 3, 1).map((n) => n.index)).toEqual([0, 2]);
  });

  it('returns at most the bank and rejects mismatched sizes or a bad k', () => {
    expect(nearestByCosine([1], [[2]], 5)).toHaveLength(1);
    expect(() => nearestByCosine([1, 2], [[1, 2], [1]], 1)).toThrow(
      'nearestByCosine: bank vector 1 has 1 values, the query has 2',
    );
    expect(() => nearestByCosine([1], [[1]], 0)).toThrow('k must be a positive integer, got 0');
  });
});
