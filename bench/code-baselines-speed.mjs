#!/usr/bin/env node
// Time of the no-learning baselines (@symseq/probe codeBaselines) at the full CIFAR-10 protocol's size
// on the wasm backend (one thread): residual k-means and product quantization with V centroids, k-NN
// and mAP@R, on random features of the teacher's shape (a Gaussian mixture, so k-means has work to do).
// Prints wall and process CPU seconds per method.
//   nice -n 10 node bench/code-baselines-speed.mjs [--train 50000] [--test 10000] [--dim 768] [--V 128] [--R 1000]
//     [--peer path/to/another/build/of/probe/dist/index.js] [--compare-search]
// With --compare-search, the table is computed twice by this build, searching the code rows through
// the codebooks' Gram matrices (search: 'codes', the default) and through the decoded embeddings
// (search: 'embeddings'), and the two are compared: times per method and the largest row difference.
// With --peer, the same table is computed again by that build of @symseq/probe (e.g. an earlier commit's,
// from `git worktree add`), in the same process, and the two are compared: times, ratio, same rows.
// Imports the BUILT packages: `npx turbo run build --filter=@symseq/probe...` first.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { gaussianMixture } from './gaussian-mixture.mjs';

const { values: a } = parseArgs({
  options: {
    train: { type: 'string', default: '50000' },
    test: { type: 'string', default: '10000' },
    dim: { type: 'string', default: '768' },
    V: { type: 'string', default: '128' },
    R: { type: 'string', default: '1000' },
    lengths: { type: 'string', default: '1,2,4,8' },
    peer: { type: 'string' },
    'compare-search': { type: 'boolean', default: false },
  },
});
const [nTrain, nTest, dim, V, R] = [a.train, a.test, a.dim, a.V, a.R].map(Number);
const lengths = a.lengths.split(',').map(Number);
await tf.setBackend('wasm');
await tf.ready();
const { codeBaselines } = await import('@symseq/probe');

const { train, test } = gaussianMixture(nTrain, nTest, dim);

async function run(codeBaselines, name, search) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let last = { cpu: cpu0, t: t0 };
  const table = await codeBaselines({
    trainFeatures: train.x,
    trainLabels: train.labels,
    testFeatures: test.x,
    testLabels: test.labels,
    numClasses: 10,
    lengths,
    codebookSize: V,
    mapR: R,
    ...(search && { search }),
    onProgress: (msg) => {
      const cpu = process.cpuUsage(last.cpu);
      console.log(`${name}: ${msg} wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU`);
      last = { cpu: process.cpuUsage(), t: performance.now() };
    },
  });
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - t0) / 1000;
  console.log(
    `${name}: total ${wall.toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU for ${nTrain} × ${dim} train, ${nTest} test, V ${V}, lengths ${lengths}, mAP@${table.R}`,
  );
  return { table, wall };
}
const mine = await run(codeBaselines, 'this build');
if (a['compare-search']) {
  const dense = await run(codeBaselines, 'this build, search: embeddings', 'embeddings');
  let worst = 0;
  mine.table.rows.forEach((row, i) => {
    for (const key of ['top1', 'top5', 'mAP'])
      worst = Math.max(worst, Math.abs(row[key] - dense.table.rows[i][key]));
  });
  console.log(`\n| method | search: codes s | search: embeddings s | ratio |\n|---|---:|---:|---:|`);
  for (const m of ['residual-kmeans', 'product-quantization']) {
    const [c, e] = [mine.table.seconds[m], dense.table.seconds[m]];
    console.log(`| ${m} | ${c.toFixed(1)} | ${e.toFixed(1)} | ${(e / c).toFixed(2)}× |`);
  }
  console.log(`largest difference of a row's top-1, top-5 or mAP: ${worst.toExponential(2)} points`);
}
if (a.peer) {
  const { pathToFileURL } = await import('node:url');
  const { resolve } = await import('node:path');
  const peer = await import(pathToFileURL(resolve(a.peer)).href);
  const other = await run(peer.codeBaselines, 'peer build');
  const same = JSON.stringify(mine.table.rows) === JSON.stringify(other.table.rows);
  console.log(`\n| build | wall s | peer / this |\n|---|---:|---:|`);
  console.log(`| this | ${mine.wall.toFixed(1)} | ${(other.wall / mine.wall).toFixed(2)}× |`);
  console.log(`| peer (${a.peer}) | ${other.wall.toFixed(1)} | |`);
  console.log(`same rows (top-1, top-5, mAP per method and length): ${same ? 'yes' : 'NO'}`);
  for (const m of ['teacher', 'residual-kmeans', 'product-quantization'])
    console.log(`  ${m}: ${mine.table.seconds[m].toFixed(1)} s vs ${other.table.seconds[m].toFixed(1)} s`);
}
