import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { usageStats } from '../src';

describe('usageStats', () => {
  test('histogram and perplexity of a hand case', () => {
    // p = [1/2, 1/4, 1/4, 0]: H = 1.5 ln 2, perplexity 2^1.5
    const s = usageStats(tf.tensor1d([0, 0, 1, 2], 'int32'), 4);
    expect(s.histogram).toEqual([2, 1, 1, 0]);
    expect(s.perplexity).toBeCloseTo(2 ** 1.5, 12);
    expect(s.usedCodes).toBe(3);
    expect(s.total).toBe(4);
  });

  test('uniform usage gives perplexity = numCodes, one code gives 1; any shape', () => {
    expect(usageStats(tf.tensor2d([0, 1, 2, 3, 4, 5, 6, 7], [2, 4], 'int32'), 8).perplexity).toBeCloseTo(
      8,
      12,
    );
    expect(usageStats([3, 3, 3], 5).perplexity).toBe(1);
    expect(usageStats([], 5).perplexity).toBe(0);
  });

  test('bad indices give clear errors', () => {
    expect(() => usageStats([0, 4], 4)).toThrow('usageStats: index 4 at position 1 is outside [0, 4)');
    expect(() => usageStats(tf.tensor1d([0, 1]), 4)).toThrow(/int32/);
    expect(() => usageStats([0], 0)).toThrow(/numCodes/);
  });
});
