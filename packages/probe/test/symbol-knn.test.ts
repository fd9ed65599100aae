import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { knnClassify, symbolKnnClassify } from '../src';

// Five training sequences of length 3 and their classes.
const trainSymbols = [
  [1, 2, 3], // t0 class 0
  [1, 2, 4], // t1 class 0
  [5, 2, 3], // t2 class 1
  [5, 6, 7], // t3 class 1
  [1, 6, 7], // t4 class 2
];
const trainLabels = [0, 0, 1, 1, 2];

describe('symbolKnnClassify by hand (position one-hot: similarity = fraction of matching positions)', () => {
  it('full length, k = 3', async () => {
    // q0 [1,2,9]: matches t0 2, t1 2, t2 1, t4 1, t3 0 → t0, t1 and (tie at 1/3, lower index) t2
    //   → c0 = 2e^(2/3T) beats c1 = e^(1/3T) → 0.
    // q1 [5,6,3]: t2 2, t3 2, t0 1 (tie with t4, lower index) → c1 → 1.
    // q2 [1,6,9]: t4 2 (c2), t0 1, t1 1, t3 1 → c2 = e^(2/3T), c0 = 2e^(1/3T); with T = 0.07, c2 wins.
    const r = await symbolKnnClassify({
      trainSymbols,
      trainLabels,
      testSymbols: [
        [1, 2, 9],
        [5, 6, 3],
        [1, 6, 9],
      ],
      testLabels: [0, 1, 0],
      numClasses: 3,
      k: 3,
      returnPredictions: true,
    });
    expect(Array.from(r.predictions!)).toEqual([0, 1, 2]);
    expect(r.top1).toBeCloseTo(200 / 3, 10);
    expect(r.top5).toBe(100);
  });

  it('with a large T the two class-0 votes outweigh one closer class-2 vote', async () => {
    // q2 [1,6,9] again: c2 = e^(2/3T) vs c0 = 2e^(1/3T); with T = 1, 1.948 < 2.791 → class 0.
    const r = await symbolKnnClassify({
      trainSymbols,
      trainLabels,
      testSymbols: [[1, 6, 9]],
      testLabels: [0],
      numClasses: 3,
      k: 3,
      T: 1,
      returnPredictions: true,
    });
    expect(Array.from(r.predictions!)).toEqual([0]);
  });

  it('prefixLength compares only the first symbols', async () => {
    // Prefix 1: q [5,…] matches t2, t3 (class 1); q [1,…] matches t0, t1, t4 → class 0 (2 votes to 1).
    const r = await symbolKnnClassify({
      trainSymbols,
      trainLabels,
      testSymbols: [
        [5, 9, 9],
        [1, 6, 7],
      ],
      testLabels: [1, 2],
      numClasses: 3,
      k: 3,
      prefixLength: 1,
      returnPredictions: true,
    });
    expect(Array.from(r.predictions!)).toEqual([1, 0]);
    expect(r.top1).toBe(50);
  });

  it('breaks equal similarities toward the lower training index', async () => {
    // [9,6,7] matches t3 (class 1) and t4 (class 2) in two positions each: k = 1 takes t3.
    const r = await symbolKnnClassify({
      trainSymbols,
      trainLabels,
      testSymbols: [[9, 6, 7]],
      testLabels: [1],
      numClasses: 3,
      k: 1,
      returnPredictions: true,
    });
    expect(Array.from(r.predictions!)).toEqual([1]);
  });
});

describe('symbolKnnClassify bag of symbols', () => {
  it('ignores order and weighs repeated symbols', async () => {
    // q [3,3,5] counts {3:2, 5:1}, ‖q‖ = √5. Against t2 [5,2,3]: dot 3 → 3/√15 = 0.775 (best);
    // t0 [1,2,3]: 2/√15; t3 [5,6,7]: 1/√15. k = 1 → t2 → class 1. By position, every training
    // sequence matches [3,3,5] nowhere, so all tie and t0 (class 0) is taken.
    const common = {
      trainSymbols,
      trainLabels,
      testSymbols: [[3, 3, 5]],
      testLabels: [1],
      numClasses: 3,
      k: 1,
      returnPredictions: true,
    };
    const bag = await symbolKnnClassify({ ...common, representation: 'bag' });
    const position = await symbolKnnClassify({ ...common, representation: 'position' });
    expect(Array.from(bag.predictions!)).toEqual([1]);
    expect(Array.from(position.predictions!)).toEqual([0]);
  });
});

const vocab = 5;
const L = 4;
const nTrain = 300;
const nTest = 60;
let seed = 12345;
const draw = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 16) % vocab;
};
const randTrain = Int32Array.from({ length: nTrain * L }, draw);
const randTest = Int32Array.from({ length: nTest * L }, draw);
// classes follow the first symbol, with some noise, so the probe is not at chance
const labelOf = (m: Int32Array, i: number) => (m[i * L] + (i % 7 === 0 ? 1 : 0)) % 4;
const randTrainLabels = Int32Array.from({ length: nTrain }, (_, i) => labelOf(randTrain, i));
const randTestLabels = Int32Array.from({ length: nTest }, (_, i) => labelOf(randTest, i));

/**
 * Brute force: every training row's similarity, all rows sorted by (similarity desc, index asc),
 * the first k vote with exp(sim / T), ties between classes to the lower id.
 */
function bruteForce(
  l: number,
  k: number,
  T: number,
  sim: (q: Int32Array, t: Int32Array) => [number, number],
) {
  const predictions: number[] = [];
  for (let q = 0; q < nTest; q++) {
    const qs = randTest.subarray(q * L, q * L + l);
    // sim returns [numerator, denominator²] so that sorting compares exact rationals
    const all = Array.from({ length: nTrain }, (_, i) => ({
      i,
      r: sim(qs, randTrain.subarray(i * L, i * L + l)),
    }));
    all.sort((a, b) => b.r[0] * b.r[0] * a.r[1] - a.r[0] * a.r[0] * b.r[1] || a.i - b.i);
    const scores = [0, 0, 0, 0];
    for (const { i, r } of all.slice(0, k))
      scores[randTrainLabels[i]] += Math.exp(r[0] / Math.sqrt(r[1]) / T);
    let best = 0;
    for (let c = 1; c < 4; c++) if (scores[c] > scores[best]) best = c;
    predictions.push(best);
  }
  return predictions;
}

const positionSim = (q: Int32Array, t: Int32Array): [number, number] => {
  let m = 0;
  for (let p = 0; p < q.length; p++) if (q[p] === t[p]) m++;
  return [m, q.length * q.length];
};
const bagSim = (q: Int32Array, t: Int32Array): [number, number] => {
  const cq = new Array(vocab).fill(0);
  const ct = new Array(vocab).fill(0);
  for (const s of q) cq[s]++;
  for (const s of t) ct[s]++;
  let dot = 0;
  let nq = 0;
  let nt = 0;
  for (let s = 0; s < vocab; s++) {
    dot += cq[s] * ct[s];
    nq += cq[s] ** 2;
    nt += ct[s] ** 2;
  }
  return [dot, nq * nt];
};

describe('symbolKnnClassify against references (random sequences, many ties)', () => {
  it('position: equals knnClassify on explicit one-hot features, prefixes 1, 2, 4', async () => {
    const oneHot = (m: Int32Array, rows: number, l: number) => {
      const out = new Float32Array(rows * l * vocab);
      for (let i = 0; i < rows; i++) for (let p = 0; p < l; p++) out[(i * l + p) * vocab + m[i * L + p]] = 1;
      return out;
    };
    for (const l of [1, 2, 4]) {
      const reference = await knnClassify({
        trainFeatures: oneHot(randTrain, nTrain, l),
        trainLabels: randTrainLabels,
        testFeatures: oneHot(randTest, nTest, l),
        testLabels: randTestLabels,
        numClasses: 4,
        k: 10,
        returnPredictions: true,
      });
      const r = await symbolKnnClassify({
        trainSymbols: { data: randTrain, shape: [nTrain, L] },
        trainLabels: randTrainLabels,
        testSymbols: randTest,
        testLabels: randTestLabels,
        numClasses: 4,
        k: 10,
        prefixLength: l,
        returnPredictions: true,
      });
      expect(Array.from(r.predictions!)).toEqual(Array.from(reference.predictions!));
      expect(r.top1).toBe(reference.top1);
      expect(r.top5).toBe(reference.top5);
      if (l === 1) expect(reference.top1).toBeGreaterThan(60);
    }
  });

  for (const [representation, sim] of [
    ['position', positionSim],
    ['bag', bagSim],
  ] as const) {
    it(`${representation}: equals a brute-force sort of all training rows`, async () => {
      for (const [l, k, T] of [
        [3, 20, 0.07],
        [4, 7, 0.5],
        [2, 1, 1],
      ]) {
        const r = await symbolKnnClassify({
          trainSymbols: { data: randTrain, shape: [nTrain, L] },
          trainLabels: randTrainLabels,
          testSymbols: { data: randTest, shape: [nTest, L] },
          testLabels: randTestLabels,
          numClasses: 4,
          k,
          T,
          prefixLength: l,
          representation,
          returnPredictions: true,
        });
        expect(Array.from(r.predictions!)).toEqual(bruteForce(l, k, T, sim));
      }
    });
  }

  it('accepts int tensors and leaves no tensors behind', async () => {
    const symbols = tf.tensor2d(trainSymbols, [5, 3], 'int32');
    const before = tf.memory().numTensors;
    const r = await symbolKnnClassify({
      trainSymbols: symbols,
      trainLabels,
      testSymbols: symbols,
      testLabels: trainLabels,
      numClasses: 3,
      k: 1,
      representation: 'bag',
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.top1).toBe(100); // each sequence is its own nearest neighbour
    symbols.dispose();
  });
});

describe('symbolKnnClassify input errors', () => {
  const base = {
    trainSymbols,
    trainLabels,
    testSymbols: trainSymbols,
    testLabels: trainLabels,
    numClasses: 3,
    k: 2,
  };
  it('names the field and what was expected', async () => {
    await expect(symbolKnnClassify({ ...base, prefixLength: 4 })).rejects.toThrow(
      /prefixLength 4 must be an integer in \[1, 3\]/,
    );
    await expect(symbolKnnClassify({ ...base, testSymbols: [[1, 2]], testLabels: [0] })).rejects.toThrow(
      /testSymbols have length 2, trainSymbols have length 3/,
    );
    await expect(
      symbolKnnClassify({
        ...base,
        trainSymbols: [
          [1, 2, 3],
          [1, 2],
          [1, 2, 3],
          [1, 2, 3],
          [1, 2, 3],
        ],
      }),
    ).rejects.toThrow(/trainSymbols: row 1 has 2 symbols, expected 3/);
    await expect(
      symbolKnnClassify({
        ...base,
        testSymbols: Int32Array.from([1, 2, 3, -1, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]),
      }),
    ).rejects.toThrow(/testSymbols: value at row 1, position 0 is -1, expected an integer ≥ 0/);
    await expect(symbolKnnClassify({ ...base, trainSymbols: new Int32Array(7) })).rejects.toThrow(
      /trainSymbols: 7 values cannot be split into 5 rows/,
    );
    await expect(symbolKnnClassify({ ...base, representation: 'onehot' as never })).rejects.toThrow(
      /representation/,
    );
  });
});
