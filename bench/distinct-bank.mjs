#!/usr/bin/env node
// k-NN + mAP@R over a bank whose rows repeat, as the decoded embeddings of short codes do (residual
// k-means / PQ / the student at 1 and 2 symbols): the same bank searched densely (given as a tensor)
// and through its distinct rows (given as a Float32Array, @symseq/probe's path for host arrays), in one
// run on the wasm backend (one thread). Prints wall seconds per search, the ratio, and checks that both
// give the same mAP and k-NN accuracy.
//   node bench/distinct-bank.mjs [--train 50000] [--test 2000] [--dim 768] [--distinct 128,16384] [--R 1000]
// Imports the BUILT packages: `npx turbo run build --filter=@symseq/probe...` first.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

const { values: a } = parseArgs({
  options: {
    train: { type: 'string', default: '50000' },
    test: { type: 'string', default: '2000' },
    dim: { type: 'string', default: '768' },
    distinct: { type: 'string', default: '128,16384' },
    R: { type: 'string', default: '1000' },
  },
});
const [nTrain, nTest, dim, R] = [a.train, a.test, a.dim, a.R].map(Number);
setThreadsCount(1);
await tf.setBackend('wasm');
await tf.ready();
const { retrievalMap } = await import('@symseq/probe');
const { Rng } = await import('@symseq/nn');

const rng = new Rng(0);
const rows = [];
for (const u of a.distinct.split(',').map(Number)) {
  const book = Float32Array.from({ length: u * dim }, () => rng.normal());
  const code = Int32Array.from({ length: nTrain }, () => rng.int(u));
  const bank = new Float32Array(nTrain * dim);
  for (let i = 0; i < nTrain; i++) bank.set(book.subarray(code[i] * dim, (code[i] + 1) * dim), i * dim);
  const labels = Int32Array.from(code, (c) => c % 10);
  const q = Float32Array.from({ length: nTest * dim }, () => rng.normal());
  const qLabels = Int32Array.from({ length: nTest }, () => rng.int(10));
  const opts = {
    queryFeatures: q,
    queryLabels: qLabels,
    databaseLabels: labels,
    R,
    seed: 0,
    bankChunkSize: 65536,
    knn: { k: 20, T: 0.07, numClasses: 10 },
  };
  const time = async (db) => {
    const t0 = performance.now();
    const r = await retrievalMap({ ...opts, databaseFeatures: db });
    return { s: (performance.now() - t0) / 1000, r };
  };
  const dense = tf.tensor2d(bank, [nTrain, dim]);
  const slow = await time(dense);
  dense.dispose();
  const fast = await time(bank);
  const same = slow.r.mAP === fast.r.mAP && slow.r.knn.top1 === fast.r.knn.top1;
  rows.push({ u, dense: slow.s, distinct: fast.s, same });
}
console.log(
  `retrievalMap + k-NN, ${nTest} queries × ${nTrain} bank rows, D ${dim}, R ${R} (wasm, 1 thread)\n`,
);
console.log('| distinct rows | dense s | distinct-row s | dense / distinct | same results |');
console.log('|---:|---:|---:|---:|---|');
for (const r of rows)
  console.log(
    `| ${r.u} | ${r.dense.toFixed(1)} | ${r.distinct.toFixed(1)} | ${(r.dense / r.distinct).toFixed(1)}× | ${r.same ? 'yes' : 'NO'} |`,
  );
