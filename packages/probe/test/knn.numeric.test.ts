import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { knnClassify } from '../src';
import fixture from './fixtures/knn_reference.json';

interface Case {
  k: number;
  T: number;
  numClasses: number;
  dim: number;
  trainFeatures: number[];
  trainLabels: number[];
  testFeatures: number[];
  testLabels: number[];
  top1: number;
  top5: number;
  predictions: number[];
}
const cases = fixture as Record<string, Case>;

/** Unit vectors at the given angles (degrees), scaled so normalisation matters. */
function atAngles(degrees: number[], scale: number[]): Float32Array {
  const out = new Float32Array(degrees.length * 2);
  degrees.forEach((d, i) => {
    out[2 * i] = scale[i] * Math.cos((d * Math.PI) / 180);
    out[2 * i + 1] = scale[i] * Math.sin((d * Math.PI) / 180);
  });
  return out;
}

function randomProblem(seed: number, nTrain: number, nTest: number, dim: number, numClasses: number) {
  let s = seed;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
  const trainFeatures = Float32Array.from({ length: nTrain * dim }, next);
  const testFeatures = Float32Array.from({ length: nTest * dim }, next);
  const trainLabels = Int32Array.from({ length: nTrain }, (_, i) => (i * 7) % numClasses);
  const testLabels = Int32Array.from({ length: nTest }, (_, i) => (i * 3) % numClasses);
  return { trainFeatures, testFeatures, trainLabels, testLabels, numClasses };
}

describe('knnClassify against DINO eval_knn.py (torch fixture)', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: top-1, top-5 and predictions match`, async () => {
      const r = await knnClassify({
        trainFeatures: Float32Array.from(c.trainFeatures),
        trainLabels: c.trainLabels,
        testFeatures: Float32Array.from(c.testFeatures),
        testLabels: c.testLabels,
        numClasses: c.numClasses,
        k: c.k,
        T: c.T,
        returnPredictions: true,
      });
      expect(r.top1).toBeCloseTo(c.top1, 10);
      expect(r.top5).toBeCloseTo(c.top5, 10);
      expect(Array.from(r.predictions!)).toEqual(c.predictions);
      expect(r.total).toBe(c.testLabels.length);
    });
  }

  it('accepts tensors as well as Float32Arrays, and leaves them alive', async () => {
    const c = cases.k20_T007_10classes;
    const train = tf.tensor2d(c.trainFeatures, [c.trainLabels.length, c.dim]);
    const test = tf.tensor2d(c.testFeatures, [c.testLabels.length, c.dim]);
    const r = await knnClassify({
      trainFeatures: train,
      trainLabels: tf.tensor1d(c.trainLabels, 'int32'),
      testFeatures: test,
      testLabels: Int32Array.from(c.testLabels),
      numClasses: c.numClasses,
      returnPredictions: true,
    });
    expect(Array.from(r.predictions!)).toEqual(c.predictions);
    expect(train.isDisposed).toBe(false);
    tf.dispose([train, test]);
  });
});

describe('knnClassify by hand', () => {
  // Train: unit directions 0°, 30° (class 0), 90° (1), 120° (2), 200° (3); k = 3, T = 0.5.
  // q0 at 10° (class 0): neighbours 0°, 30°, 90° → c0 = e^(2cos10°) + e^(2cos20°) = 13.72, c1 = 1.42 → 0 ✓.
  // q1 at 100° (class 2): 90°, 120°, 30° → c1 = e^(2cos10°) = 7.17, c2 = e^(2cos20°) = 6.55,
  //   c0 = e^(2cos70°) = 1.98 → predicts 1 ✗, class 2 is 2nd of the first min(5, k) = 3 ✓.
  // q2 at 250° (class 1): 200°, 0°, 120° → c3 = 3.62, c0 = 0.50, c2 = 0.28, c1 = 0 (4th) → ✗ and ✗.
  const trainFeatures = atAngles([0, 30, 90, 120, 200], [1, 3, 0.5, 2, 7]);
  const testFeatures = atAngles([10, 100, 250], [4, 0.25, 1]);
  const base = {
    trainFeatures,
    trainLabels: [0, 0, 1, 2, 3],
    testFeatures,
    testLabels: [0, 2, 1],
    numClasses: 4,
  };

  it('predicts 0, 1, 3 with top-1 1/3 and top-5 2/3', async () => {
    const r = await knnClassify({ ...base, k: 3, T: 0.5, returnPredictions: true });
    expect(Array.from(r.predictions!)).toEqual([0, 1, 3]);
    expect(r.top1).toBeCloseTo(100 / 3, 10);
    expect(r.top5).toBeCloseTo(200 / 3, 10);
  });

  it('with k = 1 the vote is plain nearest neighbour', async () => {
    const r = await knnClassify({ ...base, k: 1, returnPredictions: true });
    expect(Array.from(r.predictions!)).toEqual([0, 1, 3]);
    // top-5 looks at min(5, k) = 1 class only, as eval_knn.py does
    expect(r.top5).toBeCloseTo(100 / 3, 10);
  });
});

describe('knnClassify chunking and memory', () => {
  const p = randomProblem(11, 300, 70, 24, 10);

  it('gives the same result however queries and bank are chunked', async () => {
    const whole = await knnClassify({ ...p, returnPredictions: true, chunkSize: 1000 });
    for (const [chunkSize, bankChunkSize] of [
      [7, 1000],
      [16, 50],
      [70, 13], // bank chunks smaller than k = 20
      [1, 299],
    ]) {
      const r = await knnClassify({ ...p, returnPredictions: true, chunkSize, bankChunkSize });
      expect(Array.from(r.predictions!)).toEqual(Array.from(whole.predictions!));
      expect(r.top1).toBe(whole.top1);
      expect(r.top5).toBe(whole.top5);
    }
    // sanity: the data are random, so accuracy is near chance, not degenerate
    expect(whole.top1).toBeGreaterThan(0);
    expect(whole.top1).toBeLessThan(40);
  });

  it('keeps tf.memory().numTensors flat across calls', async () => {
    const train = tf.tensor2d(p.trainFeatures, [300, 24]);
    await knnClassify({ ...p, trainFeatures: train, chunkSize: 9, bankChunkSize: 40 });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await knnClassify({ ...p, trainFeatures: train, chunkSize: 9, bankChunkSize: 40 });
      await knnClassify({ ...p, chunkSize: 32 });
    }
    expect(tf.memory().numTensors).toBe(before);
    train.dispose();
  });
});

describe('knnClassify input errors', () => {
  const p = randomProblem(3, 30, 5, 4, 3);
  it('names the field and what was expected', async () => {
    await expect(knnClassify({ ...p, trainFeatures: tf.zeros([30, 4, 1]) })).rejects.toThrow(
      /trainFeatures: expected a \[30, D\] tensor, got shape \[30, 4, 1\]/,
    );
    await expect(knnClassify({ ...p, testFeatures: new Float32Array(5 * 3) })).rejects.toThrow(
      /testFeatures have 3 dimensions, trainFeatures have 4/,
    );
    await expect(knnClassify({ ...p, trainFeatures: new Float32Array(31) })).rejects.toThrow(
      /trainFeatures: 31 values cannot be split into 30 rows/,
    );
    await expect(knnClassify({ ...p, testLabels: [0, 1, 2, 3, 0] })).rejects.toThrow(
      /testLabels: entry 3 is 3, expected a class in \[0, 3\)/,
    );
    await expect(knnClassify({ ...p, k: 31 })).rejects.toThrow(
      /k = 31 exceeds the number of training samples \(30\)/,
    );
    await expect(knnClassify({ ...p, topk: 5 } as never)).rejects.toThrow(/topk: unknown key/);
    await expect(knnClassify({ ...p, T: 0 })).rejects.toThrow(/T:/);
  });
});
