import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { codeBaselines, formatBaselineTable } from '../src';

/** `perClass` noisy copies of one direction per class (4 classes in 8 dimensions), noise ±`noise`. */
function clusters(perClass: number, noise: number, offset: number) {
  const n = 4 * perClass;
  const x = new Float32Array(n * 8);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    labels[i] = c;
    for (let j = 0; j < 8; j++) {
      const wobble = noise * Math.sin(1.7 * (i + offset) + 2.3 * j); // deterministic, |·| ≤ noise
      x[i * 8 + j] = (j === 2 * c || j === 2 * c + 1 ? 1 : 0) + wobble;
    }
  }
  return { x, labels };
}

describe('codeBaselines', () => {
  it('gives 100 % top-1 and mAP to every code when each class is one tight cluster (hand-known)', async () => {
    const train = clusters(30, 0.01, 0);
    const test = clusters(5, 0.01, 1000);
    const before = tf.memory().numTensors;
    const table = await codeBaselines({
      trainFeatures: train.x,
      trainLabels: train.labels,
      testFeatures: tf.tensor2d(test.x, [20, 8]),
      testLabels: test.labels,
      numClasses: 4,
      lengths: [1, 2, 4],
      codebookSize: 4,
      k: 5,
      mapR: 1000, // capped at the 120 training images
    });
    expect(table.R).toBe(120);
    expect(table.rows.map((r) => [r.method, r.length])).toEqual([
      ['teacher', 0],
      ['residual-kmeans', 1],
      ['residual-kmeans', 2],
      ['residual-kmeans', 4],
      ['product-quantization', 1],
      ['product-quantization', 2],
      ['product-quantization', 4],
    ]);
    for (const r of table.rows) {
      expect(r.top1, `${r.method} ${r.length}`).toBe(100);
      expect(r.mAP, `${r.method} ${r.length}`).toBeCloseTo(100, 4);
    }
    expect(tf.memory().numTensors).toBe(before + 1); // the test tensor passed in
  });

  it('separates codes by size: one centroid per class pair at length 1 loses half the classes', async () => {
    // V = 2 centroids for 4 classes: a 1-symbol code can tell apart at most 2 groups, so top-1 ≤ 50 %
    // (k-NN among tied codes votes for the class with the largest share); the continuous teacher is 100.
    const train = clusters(30, 0.01, 0);
    const test = clusters(5, 0.01, 1000);
    const table = await codeBaselines({
      trainFeatures: train.x,
      trainLabels: train.labels,
      testFeatures: test.x,
      testLabels: test.labels,
      numClasses: 4,
      lengths: [1],
      codebookSize: 2,
      k: 5,
      mapR: 0,
      methods: ['teacher', 'residual-kmeans'],
    });
    expect(table.rows.find((r) => r.method === 'teacher')?.top1).toBe(100);
    expect(table.rows.find((r) => r.method === 'residual-kmeans')?.top1).toBeLessThanOrEqual(50);
    expect(table.rows.every((r) => r.mAP === undefined)).toBe(true);
    expect(table.rows.some((r) => r.method === 'product-quantization')).toBe(false);
  });

  it('names mismatched inputs', async () => {
    const train = clusters(5, 0.01, 0);
    await expect(
      codeBaselines({
        trainFeatures: train.x,
        trainLabels: train.labels,
        testFeatures: new Float32Array(12),
        testLabels: [0, 1, 2],
        numClasses: 4,
        codebookSize: 2,
      }),
    ).rejects.toThrow('codeBaselines: testFeatures have 4 dimensions, trainFeatures have 8');
    await expect(
      codeBaselines({
        trainFeatures: train.x,
        trainLabels: train.labels,
        testFeatures: train.x,
        testLabels: train.labels,
        numClasses: 4,
        codebookSize: 0,
      }),
    ).rejects.toThrow(/codeBaselines options.*codebookSize/s);
  });
});

describe('formatBaselineTable', () => {
  it('prints student, baselines and the teacher per length, mAP in parentheses', () => {
    const md = formatBaselineTable(
      {
        R: 1000,
        seconds: { teacher: 1, 'residual-kmeans': 2, 'product-quantization': 3 },
        rows: [
          { method: 'teacher', length: 0, top1: 77.4, top5: 95, mAP: 60.123 },
          { method: 'residual-kmeans', length: 1, top1: 47.77, top5: 80, mAP: 30 },
          { method: 'residual-kmeans', length: 8, top1: 55.06, top5: 85, mAP: 40.5 },
          { method: 'product-quantization', length: 8, top1: 54.46, top5: 84, mAP: 41 },
        ],
      },
      [
        { length: 1, top1: 40.4 },
        { length: 8, top1: 48.2, mAP: 20 },
      ],
    );
    expect(md).toBe(
      [
        '| k-NN top-1 % (mAP@1000 %) | 1 symbols | 8 symbols |',
        '|---|---:|---:|',
        '| student | 40.40 | 48.20 (20.00) |',
        '| residual k-means | 47.77 (30.00) | 55.06 (40.50) |',
        '| product quantization | – | 54.46 (41.00) |',
        '| teacher (continuous) | 77.40 (60.12) | 77.40 (60.12) |',
      ].join('\n'),
    );
  });
});
