import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { accuracyVsLength, formatLengthTable, knnClassify, symbolKnnClassify } from '../src';

// 8-symbol sequences over 6 symbols: the class is written in symbols 0 and 3 (noisy), the rest is noise.
function problem(n: number, seed: number) {
  let s = seed;
  const rand = (m: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 16) % m;
  };
  const labels = new Int32Array(n);
  const symbols = new Int32Array(n * 8);
  for (let i = 0; i < n; i++) {
    labels[i] = rand(3);
    for (let p = 0; p < 8; p++) symbols[i * 8 + p] = rand(6);
    if (rand(4) > 0) symbols[i * 8] = labels[i];
    if (rand(4) > 0) symbols[i * 8 + 3] = labels[i] + 3;
  }
  return { labels, symbols };
}

describe('accuracyVsLength', () => {
  const train = problem(120, 1);
  const test = problem(40, 2);

  it('runs the symbolic probe per prefix length and equals direct calls', async () => {
    const rows = await accuracyVsLength({
      featurize: () => ({ trainSymbols: train.symbols, testSymbols: test.symbols }),
      trainLabels: train.labels,
      testLabels: test.labels,
      numClasses: 3,
      knn: { k: 10 },
    });
    expect(rows.map((r) => r.length)).toEqual([1, 2, 4, 8]);
    for (const row of rows) {
      const direct = await symbolKnnClassify({
        trainSymbols: train.symbols,
        trainLabels: train.labels,
        testSymbols: test.symbols,
        testLabels: test.labels,
        numClasses: 3,
        k: 10,
        prefixLength: row.length,
      });
      expect(row.top1).toBe(direct.top1);
      expect(row.top5).toBe(direct.top5);
    }
    // symbol 0 alone carries the class most of the time: well above chance (33%)
    expect(rows[0].top1).toBeGreaterThan(55);
    const table = formatLengthTable(rows);
    expect(table.split('\n')).toHaveLength(6);
    expect(table).toContain(`| 1 | ${rows[0].top1.toFixed(2)} |`);
  });

  it('runs the feature probe and disposes the tensors featurize made', async () => {
    const seen: number[] = [];
    const embed = (m: Int32Array, n: number, l: number) =>
      tf.tidy(() => {
        // one-hot of the first l symbols, flattened: a stand-in for an encoder's features
        const oneHot = new Float32Array(n * l * 6);
        for (let i = 0; i < n; i++) for (let p = 0; p < l; p++) oneHot[(i * l + p) * 6 + m[i * 8 + p]] = 1;
        return tf.tensor2d(oneHot, [n, l * 6]);
      });
    const before = tf.memory().numTensors;
    const rows = await accuracyVsLength({
      lengths: [1, 4],
      featurize: (l) => {
        seen.push(l);
        return { trainFeatures: embed(train.symbols, 120, l), testFeatures: embed(test.symbols, 40, l) };
      },
      trainLabels: train.labels,
      testLabels: test.labels,
      numClasses: 3,
      knn: { k: 10 },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(seen).toEqual([1, 4]);
    const direct = await knnClassify({
      trainFeatures: embed(train.symbols, 120, 4),
      trainLabels: train.labels,
      testFeatures: embed(test.symbols, 40, 4),
      testLabels: test.labels,
      numClasses: 3,
      k: 10,
    });
    expect(rows[1]).toEqual({ length: 4, top1: direct.top1, top5: direct.top5 });
  });

  it('rejects bad lengths', async () => {
    const base = {
      featurize: () => ({ trainSymbols: train.symbols, testSymbols: test.symbols }),
      trainLabels: train.labels,
      testLabels: test.labels,
      numClasses: 3,
    };
    await expect(accuracyVsLength({ ...base, lengths: [0] })).rejects.toThrow(
      /length 0 must be an integer ≥ 1/,
    );
    await expect(accuracyVsLength({ ...base, lengths: [9] })).rejects.toThrow(
      /prefixLength 9 must be an integer in \[1, 8\]/,
    );
  });
});
