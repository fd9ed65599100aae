#!/usr/bin/env node
// Searching residual k-means codes through the codebooks' Gram matrices (@symseq/probe codeRetrieval)
// against searching their decoded embeddings (retrievalMap), at the CIFAR-10 protocol's size on wasm,
// one thread: 50,000 × 768 database, 10,000 queries, V 128, 8 stages, mAP@1000 + 20-NN vote, on a
// Gaussian mixture of the teacher's shape. Prints the fit/encode times and, per length, both search
// times and whether the mAP and top-1 agree.
//   node bench/code-search.mjs [--train 50000] [--test 10000] [--dim 768] [--lengths 1,2,4,8]
// Imports the BUILT packages: `npx turbo run build` first.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { gaussianMixture } from './gaussian-mixture.mjs';

const { values: a } = parseArgs({
  options: {
    train: { type: 'string', default: '50000' },
    test: { type: 'string', default: '10000' },
    dim: { type: 'string', default: '768' },
    lengths: { type: 'string', default: '1,2,4,8' },
  },
});
const [nTrain, nTest, dim] = [a.train, a.test, a.dim].map(Number);
const lengths = a.lengths.split(',').map(Number);
await tf.setBackend('wasm');
await tf.ready();
const { ResidualKMeans, residualGram, codeRetrieval, retrievalMap } = await import('@symseq/probe');

const { train, test } = gaussianMixture(nTrain, nTest, dim);
const seconds = async (f) => {
  const t0 = performance.now();
  const r = await f();
  return [r, (performance.now() - t0) / 1000];
};
const stages = Math.max(...lengths);
const [rkm, fitS] = await seconds(() =>
  ResidualKMeans.fit({ codebookSize: 128, stages, trainFeatures: train.x, rows: nTrain }),
);
const [[ct, cq], encS] = await seconds(() => [rkm.encode(train.x, nTrain), rkm.encode(test.x, nTest)]);
console.log(
  `residual k-means, ${stages} stages × 128 on ${nTrain} × ${dim}: fit ${fitS.toFixed(1)} s, encode ${nTrain + nTest} rows ${encS.toFixed(1)} s\n`,
);
console.log(
  '| symbols | Gram search s | embedding search s | embedding / Gram | mAP@1000 Gram | mAP@1000 embeddings | top-1 Gram | top-1 embeddings |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
const opts = {
  queryLabels: test.labels,
  databaseLabels: train.labels,
  R: 1000,
  knn: { k: 20, T: 0.07, numClasses: 10 },
};
for (const l of lengths) {
  const [g, gS] = await seconds(() => codeRetrieval(residualGram(rkm.codebooks, 128, dim, l), cq, ct, opts));
  const [d, dS] = await seconds(() =>
    retrievalMap({
      ...opts,
      queryFeatures: rkm.decode(cq, l),
      databaseFeatures: rkm.decode(ct, l),
      bankChunkSize: 65536,
    }),
  );
  console.log(
    `| ${l} | ${gS.toFixed(1)} | ${dS.toFixed(1)} | ${(dS / gS).toFixed(2)}× | ${g.mAP.toFixed(3)} | ${d.mAP.toFixed(3)} | ${g.knn.top1.toFixed(2)} | ${d.knn.top1.toFixed(2)} |`,
  );
}
