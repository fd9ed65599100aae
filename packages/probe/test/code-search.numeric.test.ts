import { Rng } from '@symseq/nn';
import { describe, expect, it } from 'vitest';
import {
  type Codes,
  codeBaselines,
  codeRetrieval,
  ProductQuantizer,
  productGram,
  ResidualKMeans,
  residualGram,
  retrievalMap,
} from '../src';
import { topRanked } from '../src/code-search';
import fixture from './fixtures/baselines_reference.json';

// Reference: tools/reference/baselines_reference.py (numpy + sklearn KMeans from the same initial rows).
const [nTrain, nTest] = fixture.rows;
const train = Float32Array.from(fixture.train);
const test = Float32Array.from(fixture.test);
const common = { codebookSize: fixture.V, iters: fixture.iters, rows: nTrain, trainFeatures: train };
const labels = { queryLabels: fixture.testLabels, databaseLabels: fixture.trainLabels };
const numClasses = Math.max(...fixture.trainLabels) + 1;

describe('codeRetrieval (search through the codebooks’ Gram matrices)', () => {
  it('gives the numpy reference mAP for residual k-means at every length and for product quantization', () => {
    const rkm = ResidualKMeans.fit({ ...common, stages: fixture.L, initRows: fixture.residual.initRows });
    const [ct, cq] = [rkm.encode(train, nTrain), rkm.encode(test, nTest)];
    for (let l = 1; l <= fixture.L; l++) {
      const gram = residualGram(rkm.codebooks, rkm.codebookSize, rkm.dim, l);
      const { mAP } = codeRetrieval(gram, cq, ct, { ...labels, R: fixture.R, tieOrder: fixture.tieOrder });
      expect(mAP, `length ${l}`).toBeCloseTo(fixture.residual.mAP[String(l) as '1'], 6);
    }
    // Length 1's ties decide its value: database order gives the reference's other number.
    const byIndex = codeRetrieval(residualGram(rkm.codebooks, rkm.codebookSize, rkm.dim, 1), cq, ct, {
      ...labels,
      R: fixture.R,
      tieOrder: Array.from({ length: nTrain }, (_, i) => i),
    });
    expect(byIndex.mAP).toBeCloseTo(fixture.residual.mAP1IndexOrder, 6);
    const pq = ProductQuantizer.fit({ ...common, codebooks: fixture.L, initRows: fixture.product.initRows });
    const gram = productGram(
      pq.codebooks,
      pq.slices.map(([a, b]) => b - a),
      pq.codebookSize,
    );
    const pqMap = codeRetrieval(gram, pq.encode(test, nTest), pq.encode(train, nTrain), {
      ...labels,
      R: fixture.R,
      tieOrder: fixture.tieOrder,
    });
    expect(pqMap.mAP).toBeCloseTo(fixture.product.mAP, 6);
  });

  it('equals retrievalMap on the decoded embeddings: mAP and the k-NN vote, seeded ties', async () => {
    const rkm = ResidualKMeans.fit({ ...common, stages: fixture.L, seed: 5 });
    const [ct, cq] = [rkm.encode(train, nTrain), rkm.encode(test, nTest)];
    const knn = { k: 7, T: 0.07, numClasses };
    for (let l = 1; l <= fixture.L; l++) {
      const dense = await retrievalMap({
        ...labels,
        queryFeatures: rkm.decode(cq, l),
        databaseFeatures: rkm.decode(ct, l),
        R: 40,
        seed: 3,
        knn,
      });
      const codes = codeRetrieval(residualGram(rkm.codebooks, rkm.codebookSize, rkm.dim, l), cq, ct, {
        ...labels,
        R: 40,
        seed: 3,
        knn,
      });
      expect(codes.mAP, `length ${l} mAP`).toBeCloseTo(dense.mAP, 9);
      expect(codes.knn?.top1, `length ${l} top-1`).toBeCloseTo(dense.knn?.top1 ?? Number.NaN, 9);
      expect(codes.knn?.top5, `length ${l} top-5`).toBeCloseTo(dense.knn?.top5 ?? Number.NaN, 9);
    }
  });

  it('makes codeBaselines give the same table as the dense search of the decoded embeddings', async () => {
    const input = {
      trainFeatures: train,
      trainLabels: fixture.trainLabels,
      testFeatures: test,
      testLabels: fixture.testLabels,
      numClasses,
      lengths: [1, 2, 3],
      codebookSize: fixture.V,
      k: 5,
      mapR: 30,
      methods: ['residual-kmeans', 'product-quantization'] as ('residual-kmeans' | 'product-quantization')[],
    };
    const viaEmbeddings = await codeBaselines({ ...input, search: 'embeddings' });
    // auto: the codes where at least half the database's codes are distinct, else the embeddings.
    for (const search of ['codes', 'auto'] as const) {
      const table = await codeBaselines({ ...input, search });
      expect(table.rows.length).toBe(6);
      table.rows.forEach((row, i) => {
        const other = viaEmbeddings.rows[i];
        expect([row.method, row.length]).toEqual([other.method, other.length]);
        for (const key of ['top1', 'top5', 'mAP'] as const) {
          expect(row[key], `${search}: ${row.method} ${row.length} ${key}`).toBeCloseTo(
            other[key] as number,
            9,
          );
        }
      });
    }
    // Without retrieval the k-NN keeps knnClassify's ties (lower index first).
    const knnOnly = await codeBaselines({ ...input, mapR: 0, search: 'codes' });
    const knnDense = await codeBaselines({ ...input, mapR: 0, search: 'embeddings' });
    knnOnly.rows.forEach((row, i) => {
      expect(row.top1).toBeCloseTo(knnDense.rows[i].top1, 9);
      expect(row.mAP).toBeUndefined();
    });
  });

  it('names what is wrong with its inputs', () => {
    const rkm = ResidualKMeans.fit({ ...common, stages: 2, iters: 1 });
    const ct = rkm.encode(train, nTrain);
    const cq = rkm.encode(test, nTest);
    const gram = residualGram(rkm.codebooks, rkm.codebookSize, rkm.dim, 2);
    const bad: Codes = { ...cq, data: Int32Array.from(cq.data) };
    bad.data[3] = fixture.V;
    expect(() => codeRetrieval(gram, bad, ct, { ...labels, R: 5 })).toThrow(
      `codeRetrieval: queries code 1 has symbol ${fixture.V} at position 1, expected 0…${fixture.V - 1}`,
    );
    expect(() => codeRetrieval(gram, cq, ct, { ...labels, R: nTrain + 1 })).toThrow(
      `codeRetrieval: R = ${nTrain + 1} exceeds the database size (${nTrain})`,
    );
    expect(() => codeRetrieval(gram, cq, ct, { ...labels, queryLabels: [0, 1], R: 5 })).toThrow(
      `codeRetrieval: queries have ${nTest} codes but 2 labels`,
    );
    expect(() => residualGram(rkm.codebooks, rkm.codebookSize, rkm.dim, 3)).toThrow(
      'residualGram: length 3 exceeds the 2 stages',
    );
    expect(() => codeRetrieval(gram, cq, ct, { ...labels, R: 5, tieOrder: [0, 0, 1] })).toThrow(
      /codeRetrieval: tieOrder has 3 entries/,
    );
  });
});

describe('topRanked', () => {
  it('is a full sort by (value descending, position ascending), cut at depth, with many ties', () => {
    const rng = new Rng(1);
    for (const [n, distinct] of [
      [1, 1],
      [50, 3],
      [500, 40],
      [2000, 2000],
    ]) {
      const sims = Float64Array.from({ length: n }, () => Math.floor(rng.uniform() * distinct) / distinct);
      const sorted = Array.from({ length: n }, (_, i) => i).sort((a, b) => sims[b] - sims[a] || a - b);
      for (const depth of new Set([1, Math.min(n, 7), Math.ceil(n / 2), n])) {
        const index = new Int32Array(depth);
        const value = new Float64Array(depth);
        topRanked(sims, new Float64Array(n), depth, index, value);
        expect(Array.from(index), `n ${n} depth ${depth}`).toEqual(sorted.slice(0, depth));
        expect(Array.from(value)).toEqual(sorted.slice(0, depth).map((i) => sims[i]));
      }
    }
  });
});
