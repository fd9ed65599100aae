import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../../../tools/test-utils';
import { ProductQuantizer, ResidualKMeans, retrievalMap } from '../src';
import { splitDims } from '../src/code-baselines';
import fixture from './fixtures/baselines_reference.json';
import knnFixture from './fixtures/knn_reference.json';

// Reference: tools/reference/baselines_reference.py (numpy + sklearn KMeans from the same initial rows).
const [nTrain, nTest] = fixture.rows;
const train = Float32Array.from(fixture.train);
const test = Float32Array.from(fixture.test);
const common = { codebookSize: fixture.V, iters: fixture.iters, rows: nTrain, trainFeatures: train };

describe('ResidualKMeans against numpy/sklearn', () => {
  it('fits the same centroids stage by stage and gives the same codes to train and test rows', () => {
    const before = tf.memory().numTensors;
    const rkm = ResidualKMeans.fit({ ...common, stages: fixture.L, initRows: fixture.residual.initRows });
    expect(rkm.stages).toBe(fixture.L);
    rkm.codebooks.forEach((book, s) => {
      expectClose(book, fixture.residual.codebooks[s], 0, 2e-5, `stage ${s} centroids`);
    });
    const codesTrain = rkm.encode(train, nTrain);
    expect(Array.from(codesTrain.data)).toEqual(fixture.residual.trainCodes);
    const testTensor = tf.tensor2d(test, [nTest, fixture.dim]);
    const codesTest = rkm.encode(testTensor);
    testTensor.dispose();
    expect(codesTest).toMatchObject({ rows: nTest, length: fixture.L });
    expect(Array.from(codesTest.data)).toEqual(fixture.residual.testCodes);
    expectClose(rkm.decode(codesTest, 2), fixture.residual.decodedTest2, 0, 5e-5, 'prefix-2 embeddings');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is deterministic for a seed (k-means++), and another seed gives other centroids', () => {
    const fit = (seed: number) => ResidualKMeans.fit({ ...common, stages: 2, seed }).codebooks;
    const a = fit(3);
    expect(fit(3)).toEqual(a);
    expect(Array.from(fit(4)[0])).not.toEqual(Array.from(a[0]));
  });

  it('names what is wrong with its options and inputs', () => {
    expect(() => ResidualKMeans.fit({ ...common, stages: 2, initRows: [[0, 1, 2, 3, 4, 5]] })).toThrow(
      'ResidualKMeans: initRows has 1 lists, expected one per codebook (stages = 2)',
    );
    expect(() => ResidualKMeans.fit({ ...common, stages: 1, initRows: [[0, 1, 2, 3, 4, 999]] })).toThrow(
      'ResidualKMeans: initRows[0] names row 999, the data has 240 rows',
    );
    expect(() => ResidualKMeans.fit({ ...common, rows: undefined, stages: 1 })).toThrow(
      'ResidualKMeans trainFeatures: a Float32Array needs its row count (rows)',
    );
    expect(() => ResidualKMeans.fit({ ...common, stages: 0 })).toThrow(/ResidualKMeans options.*stages/s);
    const rkm = ResidualKMeans.fit({ ...common, stages: 2, iters: 1 });
    expect(() => rkm.encode(new Float32Array(10), 2)).toThrow(
      'ResidualKMeans.encode features: rows have 5 dimensions, the codebooks 13',
    );
    expect(() => rkm.decode(rkm.encode(test, nTest), 3)).toThrow(
      'ResidualKMeans.decode: length 3 must be an integer in [1, 2]',
    );
  });
});

describe('ProductQuantizer against numpy/sklearn', () => {
  it('cuts 13 dimensions into slices of 5, 4, 4 (numpy.array_split) and fits the same codebooks', () => {
    expect(splitDims(13, 3)).toEqual(fixture.product.slices);
    expect(splitDims(768, 8)[7]).toEqual([672, 768]);
    const pq = ProductQuantizer.fit({ ...common, codebooks: fixture.L, initRows: fixture.product.initRows });
    expect(pq.slices).toEqual(fixture.product.slices);
    pq.codebooks.forEach((book, j) => {
      expectClose(book, fixture.product.codebooks[j], 0, 2e-5, `slice ${j} centroids`);
    });
    expect(Array.from(pq.encode(train, nTrain).data)).toEqual(fixture.product.trainCodes);
    expect(Array.from(pq.encode(test, nTest).data)).toEqual(fixture.product.testCodes);
    expect(() => ProductQuantizer.fit({ ...common, codebooks: 14 })).toThrow(
      'ProductQuantizer: 14 codebooks need at least as many feature dimensions, got 13',
    );
  });
});

describe('retrievalMap (mAP@R) against numpy', () => {
  const labels = { queryLabels: fixture.testLabels, databaseLabels: fixture.trainLabels };
  const tieOrder = fixture.tieOrder;

  it('scores continuous features and the decoded codes as the reference, ties in tieOrder', async () => {
    const before = tf.memory().numTensors;
    const features = await retrievalMap({
      ...labels,
      queryFeatures: test,
      databaseFeatures: train,
      R: fixture.R,
      tieOrder,
      bankChunkSize: 50, // blocks whose top-R are merged
      chunkSize: 16,
    });
    expect(features).toEqual({ mAP: expect.any(Number), R: fixture.R, queries: nTest });
    expect(features.mAP).toBeCloseTo(fixture.featureMap.R, 6);

    const rkm = ResidualKMeans.fit({ ...common, stages: fixture.L, initRows: fixture.residual.initRows });
    const [ct, cq] = [rkm.encode(train, nTrain), rkm.encode(test, nTest)];
    for (let l = 1; l <= fixture.L; l++) {
      const { mAP } = await retrievalMap({
        ...labels,
        queryFeatures: rkm.decode(cq, l),
        databaseFeatures: rkm.decode(ct, l),
        R: fixture.R,
        tieOrder,
        bankChunkSize: 64,
      });
      expect(mAP, `length ${l}`).toBeCloseTo(fixture.residual.mAP[String(l) as '1'], 6);
    }
    // Length 1 has 6 distinct embeddings: the tie rule decides, and database order gives another value.
    const byIndex = await retrievalMap({
      ...labels,
      queryFeatures: rkm.decode(cq, 1),
      databaseFeatures: rkm.decode(ct, 1),
      R: fixture.R,
      tieOrder: Array.from({ length: nTrain }, (_, i) => i),
    });
    expect(byIndex.mAP).toBeCloseTo(fixture.residual.mAP1IndexOrder, 6);
    expect(Math.abs(byIndex.mAP - fixture.residual.mAP['1'])).toBeGreaterThan(0.5);

    const pq = ProductQuantizer.fit({ ...common, codebooks: fixture.L, initRows: fixture.product.initRows });
    const pqMap = await retrievalMap({
      ...labels,
      queryFeatures: pq.decode(pq.encode(test, nTest)),
      databaseFeatures: pq.decode(pq.encode(train, nTrain)),
      R: fixture.R,
      tieOrder,
    });
    expect(pqMap.mAP).toBeCloseTo(fixture.product.mAP, 6);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('votes like eval_knn.py (torch fixture) when asked for the k-NN from the same pass', async () => {
    for (const [name, c] of Object.entries(knnFixture)) {
      const r = await retrievalMap({
        queryFeatures: Float32Array.from(c.testFeatures),
        queryLabels: c.testLabels,
        databaseFeatures: Float32Array.from(c.trainFeatures),
        databaseLabels: c.trainLabels,
        R: Math.min(50, c.trainLabels.length),
        knn: { k: c.k, T: c.T, numClasses: c.numClasses },
        chunkSize: 7,
        bankChunkSize: 33,
      });
      expect(r.knn?.top1, name).toBeCloseTo(c.top1, 6);
      expect(r.knn?.top5, name).toBeCloseTo(c.top5, 6);
    }
  });

  it('is 100 for a perfect ranking and follows the hand-computed AP otherwise', async () => {
    // Database: 1-D directions; query at angle 0 ranks items by angle. Labels 0,1,0,1 → AP@4 of
    // ranks (rel, not, rel, not) = (1/1 + 2/3) / 2; AP@2 = 1 (one hit at rank 1).
    const angles = [0, 10, 20, 30];
    const db = Float32Array.from(
      angles.flatMap((a) => [Math.cos((a * Math.PI) / 180), Math.sin((a * Math.PI) / 180)]),
    );
    const q = { queryFeatures: new Float32Array([1, 0]), queryLabels: [0], databaseFeatures: db };
    expect((await retrievalMap({ ...q, databaseLabels: [0, 1, 0, 1], R: 4 })).mAP).toBeCloseTo(
      (100 * (1 + 2 / 3)) / 2,
      5,
    );
    expect((await retrievalMap({ ...q, databaseLabels: [0, 1, 0, 1], R: 2 })).mAP).toBeCloseTo(100, 5);
    expect((await retrievalMap({ ...q, databaseLabels: [1, 1, 1, 1], R: 4 })).mAP).toBe(0);
  });

  it('rejects an R beyond the database and a tieOrder that is not a permutation', async () => {
    const q = { queryFeatures: test, databaseFeatures: train, ...labels };
    await expect(retrievalMap({ ...q, R: nTrain + 1 })).rejects.toThrow(
      'retrievalMap: R = 241 exceeds the database size (240)',
    );
    await expect(retrievalMap({ ...q, R: 5, tieOrder: [0, 1, 2] })).rejects.toThrow(
      'retrievalMap: tieOrder has 3 entries, expected one per database item (240)',
    );
    await expect(
      retrievalMap({ ...q, R: 5, tieOrder: Array.from({ length: nTrain }, () => 0) }),
    ).rejects.toThrow('retrievalMap: tieOrder must be a permutation of 0…239');
  });
});
