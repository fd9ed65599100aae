import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { knnClassify, retrievalMap } from '../src';
import { DISTINCT_SHARE, distinctRows } from '../src/search-bank';

/** A bank of `n` rows copied from `distinct` random rows (as decoded short codes are), and queries. */
function repeatedBank(seed: number, n: number, distinct: number, dim: number, queries: number) {
  let s = seed;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
  const codebook = Float32Array.from({ length: distinct * dim }, next);
  const code = Int32Array.from({ length: n }, () => Math.floor((next() + 0.5) * distinct) % distinct);
  const bank = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) bank.set(codebook.subarray(code[i] * dim, (code[i] + 1) * dim), i * dim);
  // A code's class is code % 4, except every third row: k-NN has to vote among copies.
  const labels = Int32Array.from(code, (c, i) => (c + (i % 3 === 0 ? 1 : 0)) % 4);
  // Queries: noisy copies of codebook rows, labelled by their code's class.
  const qCode = Int32Array.from({ length: queries }, (_, i) => (i * 7) % distinct);
  const q = Float32Array.from(
    { length: queries * dim },
    (_, j) => codebook[qCode[Math.floor(j / dim)] * dim + (j % dim)] + 0.3 * next(),
  );
  const qLabels = Int32Array.from(qCode, (c) => c % 4);
  return { bank, labels, q, qLabels, code };
}

describe('distinctRows', () => {
  it('maps each row to its first copy, in the given order', () => {
    // rows: a b a c b a (dim 2)
    const x = Float32Array.from([1, 2, 3, 4, 1, 2, 5, 6, 3, 4, 1, 2]);
    const r = distinctRows(x, 6, undefined, 1);
    expect(Array.from(r?.index ?? [])).toEqual([0, 1, 0, 2, 1, 0]);
    expect(Array.from(r?.first ?? [])).toEqual([0, 1, 3]);
    const order = Int32Array.from([3, 0, 1, 5, 2, 4]); // c a b a a b
    const o = distinctRows(x, 6, order, 1);
    expect(Array.from(o?.index ?? [])).toEqual([0, 1, 2, 1, 1, 2]);
    expect(Array.from(o?.first ?? [])).toEqual([3, 0, 1]);
  });

  it('tells rows apart that differ in one bit, and gives up when most rows are distinct', () => {
    const x = Float32Array.from([1, 2, 1, 2, 1, 2, 1, 2]);
    x[7] = 2 + 2 ** -22; // the last row's second value, one ulp above 2
    expect(Array.from(distinctRows(x, 4)?.index ?? [])).toEqual([0, 0, 0, 1]);
    expect(DISTINCT_SHARE).toBe(0.5);
    const mostlyDistinct = Float32Array.from([1, 0, 2, 0, 3, 0, 1, 0]); // 3 of 4 distinct
    expect(distinctRows(mostlyDistinct, 4)).toBeUndefined();
  });
});

describe('searching through distinct rows gives the dense search', () => {
  // A Float32Array bank with repeats is searched through its distinct rows; the same bank as a tensor
  // is searched row by row. Both must rank identically, ties included.
  for (const [name, bankChunkSize] of [
    ['one block', 8192],
    ['several blocks', 700],
  ] as const) {
    it(`knnClassify, ${name}: same predictions and accuracies`, async () => {
      const { bank, labels, q, qLabels } = repeatedBank(3, 3000, 40, 24, 300);
      const opts = { numClasses: 4, k: 20, T: 0.07, returnPredictions: true, bankChunkSize } as const;
      const fast = await knnClassify({
        ...opts,
        trainFeatures: bank,
        trainLabels: labels,
        testFeatures: q,
        testLabels: qLabels,
      });
      const dense = tf.tensor2d(bank, [3000, 24]);
      const slow = await knnClassify({
        ...opts,
        trainFeatures: dense,
        trainLabels: labels,
        testFeatures: q,
        testLabels: qLabels,
      });
      dense.dispose();
      expect(Array.from(fast.predictions ?? [])).toEqual(Array.from(slow.predictions ?? []));
      expect(fast.top1).toBe(slow.top1);
      expect(fast.top5).toBe(slow.top5);
      expect(fast.top1).toBeGreaterThan(30); // the codes carry the labels: not a chance-level problem
    });

    it(`retrievalMap with k-NN, ${name}: same mAP and votes`, async () => {
      const { bank, labels, q, qLabels } = repeatedBank(5, 2500, 64, 16, 200);
      const opts = {
        R: 400,
        seed: 2,
        bankChunkSize,
        knn: { k: 20, T: 0.07, numClasses: 4, returnPredictions: true },
      };
      const fast = await retrievalMap({
        ...opts,
        databaseFeatures: bank,
        databaseLabels: labels,
        queryFeatures: q,
        queryLabels: qLabels,
      });
      const dense = tf.tensor2d(bank, [2500, 16]);
      const slow = await retrievalMap({
        ...opts,
        databaseFeatures: dense,
        databaseLabels: labels,
        queryFeatures: q,
        queryLabels: qLabels,
      });
      dense.dispose();
      expect(fast.mAP).toBe(slow.mAP);
      expect(Array.from(fast.knn?.predictions ?? [])).toEqual(Array.from(slow.knn?.predictions ?? []));
      expect(fast.knn?.top1).toBe(slow.knn?.top1);
    });
  }

  it('ties among copies break by bank position: one distinct row, the first k rows vote', async () => {
    // Every bank row is the same vector; labels 0 for the first 20 rows, 1 for the rest: all 20
    // neighbours are tied, and the lower-index rule picks rows 0..19, so every query gets class 0.
    const bank = new Float32Array(500 * 3).fill(1);
    const labels = Int32Array.from({ length: 500 }, (_, i) => (i < 20 ? 0 : 1));
    const q = Float32Array.from({ length: 10 * 3 }, (_, i) => (i % 3) + 1);
    const r = await knnClassify({
      trainFeatures: bank,
      trainLabels: labels,
      testFeatures: q,
      testLabels: new Int32Array(10),
      numClasses: 2,
      k: 20,
      bankChunkSize: 128,
    });
    expect(r.top1).toBe(100);
  });

  /** retrievalMap on the bank as a Float32Array (distinct rows) and as a tensor (dense), R = k = depth. */
  async function bothWays(bank: Float32Array, labels: Int32Array, q: Float32Array, depth: number) {
    const d = bank.length / labels.length;
    const opts = {
      databaseLabels: labels,
      queryFeatures: q,
      queryLabels: new Int32Array(q.length / d),
      R: depth,
      tieOrder: Int32Array.from(labels, (_, i) => i),
      knn: { k: depth, T: 0.07, numClasses: 3, returnPredictions: true },
    };
    const dense = tf.tensor2d(bank, [labels.length, d]);
    const slow = await retrievalMap({ ...opts, databaseFeatures: dense });
    dense.dispose();
    return { fast: await retrievalMap({ ...opts, databaseFeatures: bank }), slow };
  }

  it('distinct rows with equal similarity merge their bank rows by position', async () => {
    // rows a = (1, 0) and b = (0, 1) alternate; the query (1, 1) is equally close to both, so the
    // ranking is bank order a b a b …, labels 0 1 0 1 …: AP@3 = (1 + 2/3) / 2, not 1 (a's rows first).
    const bank = Float32Array.from({ length: 20 }, (_, j) => ((j >> 1) % 2 === j % 2 ? 1 : 0));
    const labels = Int32Array.from({ length: 10 }, (_, i) => i % 2);
    const { fast, slow } = await bothWays(bank, labels, Float32Array.from([1, 1]), 3);
    expect(fast.mAP).toBeCloseTo((100 * (1 + 2 / 3)) / 2, 4);
    expect(fast.mAP).toBe(slow.mAP);
    expect(Array.from(fast.knn?.predictions ?? [])).toEqual(Array.from(slow.knn?.predictions ?? []));
  });

  it('fetches all distinct rows when the first k are single rows and more exist', async () => {
    // 3 single rows near the query and one row copied 5 times (4 distinct of 8): the top 3 distinct
    // rows are the singles, so the walk reaches the last fetched one and has to look further.
    const rows = [
      [1, 0.1],
      [1, 0.2],
      [1, 0.3],
      [0, 1],
    ];
    const at = [3, 0, 3, 1, 3, 3, 2, 3];
    const bank = Float32Array.from(at.flatMap((r) => rows[r]));
    const labels = Int32Array.from(at, (r) => (r === 3 ? 2 : r));
    for (const depth of [3, 4, 6]) {
      const { fast, slow } = await bothWays(bank, labels, Float32Array.from([1, 0.15]), depth);
      expect(fast.mAP, `depth ${depth}`).toBe(slow.mAP);
      expect(fast.knn?.top1, `depth ${depth}`).toBe(slow.knn?.top1);
    }
  });

  it('leaves no tensors behind, and frees the bank when the queries are refused', async () => {
    const { bank, labels, q, qLabels } = repeatedBank(7, 600, 10, 8, 50);
    const before = tf.memory().numTensors;
    await knnClassify({
      trainFeatures: bank,
      trainLabels: labels,
      testFeatures: q,
      testLabels: qLabels,
      numClasses: 4,
    });
    await retrievalMap({
      databaseFeatures: bank,
      databaseLabels: labels,
      queryFeatures: q,
      queryLabels: qLabels,
      R: 100,
    });
    expect(tf.memory().numTensors).toBe(before);
    const wrongDim = new Float32Array(50 * 7);
    await expect(
      knnClassify({
        trainFeatures: bank,
        trainLabels: labels,
        testFeatures: wrongDim,
        testLabels: qLabels,
        numClasses: 4,
      }),
    ).rejects.toThrow('knnClassify: testFeatures have 7 dimensions, trainFeatures have 8');
    await expect(
      retrievalMap({
        databaseFeatures: bank,
        databaseLabels: labels,
        queryFeatures: wrongDim,
        queryLabels: qLabels,
        R: 10,
      }),
    ).rejects.toThrow('retrievalMap: queryFeatures have 7 dimensions, databaseFeatures have 8');
    expect(tf.memory().numTensors).toBe(before);
  });
});
