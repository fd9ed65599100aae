#!/usr/bin/env node
// Time of the no-learning baselines (@symseq/probe codeBaselines) at the full CIFAR-10 protocol's size
// on the wasm backend (one thread): residual k-means and product quantization with V centroids, k-NN
// and mAP@R, on random features of the teacher's shape (a Gaussian mixture, so k-means has work to do).
// Prints wall and process CPU seconds per method.
//   nice -n 10 node bench/code-baselines-speed.mjs [--train 50000] [--test 10000] [--dim 768] [--V 128] [--R 1000]
// Imports the BUILT packages: `npx turbo run build --filter=@symseq/probe...` first.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

const { values: a } = parseArgs({
  options: {
    train: { type: 'string', default: '50000' },
    test: { type: 'string', default: '10000' },
    dim: { type: 'string', default: '768' },
    V: { type: 'string', default: '128' },
    R: { type: 'string', default: '1000' },
    lengths: { type: 'string', default: '1,2,4,8' },
  },
});
const [nTrain, nTest, dim, V, R] = [a.train, a.test, a.dim, a.V, a.R].map(Number);
const lengths = a.lengths.split(',').map(Number);
await tf.setBackend('wasm');
await tf.ready();
const { codeBaselines } = await import('@symseq/probe');
const { Rng } = await import('@symseq/nn');

function mixture(n, rng, centres) {
  const x = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(centres.length);
    labels[i] = c % 10;
    for (let j = 0; j < dim; j++) x[i * dim + j] = Math.max(0, centres[c][j] + 0.5 * rng.normal());
  }
  return { x, labels };
}
const rng = new Rng(0);
const centres = Array.from({ length: 200 }, () => Array.from({ length: dim }, () => rng.normal()));
const train = mixture(nTrain, rng, centres);
const test = mixture(nTest, rng, centres);

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
  onProgress: (msg) => {
    const cpu = process.cpuUsage(last.cpu);
    console.log(`${msg} wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU`);
    last = { cpu: process.cpuUsage(), t: performance.now() };
  },
});
const cpu = process.cpuUsage(cpu0);
console.log(
  `total ${((performance.now() - t0) / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU for ${nTrain} × ${dim} train, ${nTest} test, V ${V}, lengths ${lengths}, mAP@${table.R}`,
);
