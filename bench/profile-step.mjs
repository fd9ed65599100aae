#!/usr/bin/env node
// Where the tfjs training step of bench/student-step.mjs spends its time: per phase (forward,
// forward + backward, update), CPU time against the sum of kernel times (the rest is tfjs'
// JavaScript work around the kernels: engine, tape, tidy, allocation), and the costliest kernels.
// Kernel times are medians over --runs profiled runs, call by call, so a kernel descheduled by
// other processes does not count; phases are timed in CPU time for the same reason.
//
//   node bench/profile-step.mjs [--backend wasm|cpu] [--batch 256] [--runs 5] [--top 25]
import { parseArgs } from 'node:util';
import { cpuMs, createStudentBench, median, positiveInt, tf, useBackend } from './student-setup.mjs';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '256' },
    runs: { type: 'string', default: '5' },
    top: { type: 'string', default: '25' },
  },
});
const batch = positiveInt('batch', args.batch);
const runs = positiveInt('runs', args.runs);
const top = positiveInt('top', args.top);

await useBackend(args.backend);
const bench = await createStudentBench();
const { tokens, targets } = bench.inputs(batch, 1);

// Gradients kept for timing the update phase alone.
const grads = tf.tidy(() => tf.variableGrads(() => bench.loss(tokens, targets, 0), bench.variables).grads);
for (const g of Object.values(grads)) tf.keep(g);

const phases = {
  'forward (train mode, no tape)': () => tf.tidy(() => bench.loss(tokens, targets, 0).dataSync()),
  'forward + backward (variableGrads)': () =>
    tf.tidy(() => tf.variableGrads(() => bench.loss(tokens, targets, 0), bench.variables).value.dataSync()),
  'update (clip, Adam, weight decay)': () => tf.tidy(() => bench.update(grads)),
  'whole training step': () => bench.trainStep(tokens, targets, 0),
};

/** Kernel records of `runs` profiled calls, with each call's time the median over the runs. */
async function profileKernels(fn) {
  const all = [];
  for (let r = 0; r < runs; r++) {
    const prof = await tf.profile(fn);
    const ks = [];
    for (const k of prof.kernels)
      ks.push({ name: k.name, shapes: JSON.stringify(k.inputShapes), ms: await k.kernelTimeMs });
    all.push(ks);
  }
  if (!all.every((ks) => ks.length === all[0].length))
    throw new Error('profile: kernel sequences differ between runs');
  return all[0].map((k, i) => ({ ...k, ms: median(all.map((ks) => ks[i].ms)) }));
}

// customGrad ops (@symseq/nn matMul…) show up as 'unnamed scope' around their inner kernels: not counted twice.
const leaf = (k) => k.name !== 'unnamed scope';
const sum = (ks) => ks.reduce((a, k) => a + k.ms, 0);

console.log(`tfjs ${tf.getBackend()}, batch ${batch}; ms are medians over ${runs} runs\n`);
console.log(
  '| phase | wall ms | CPU ms | kernels | kernel ms | CPU − kernel ms |\n|---|---:|---:|---:|---:|---:|',
);
let stepKernels;
for (const [name, fn] of Object.entries(phases)) {
  fn();
  fn();
  const wall = [];
  const cpu = [];
  for (let i = 0; i < runs; i++) {
    const c0 = cpuMs();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
  }
  const ks = (await profileKernels(fn)).filter(leaf);
  const [w, c, k] = [median(wall), median(cpu), sum(ks)];
  console.log(
    `| ${name} | ${w.toFixed(0)} | ${c.toFixed(0)} | ${ks.length} | ${k.toFixed(0)} | ${(c - k).toFixed(0)} |`,
  );
  if (name === 'whole training step') stepKernels = ks;
}

const table = (title, keyOf) => {
  const m = new Map();
  for (const k of stepKernels) {
    const key = keyOf(k);
    const e = m.get(key) ?? { n: 0, ms: 0 };
    e.n++;
    e.ms += k.ms;
    m.set(key, e);
  }
  const total = sum(stepKernels);
  console.log(`\n${title}\n\n| kernel | calls | ms | share |\n|---|---:|---:|---:|`);
  for (const [key, e] of [...m].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    console.log(`| ${key} | ${e.n} | ${e.ms.toFixed(1)} | ${((100 * e.ms) / total).toFixed(1)}% |`);
  }
};
table('Whole training step, by kernel:', (k) => k.name);
table('Whole training step, by kernel and input shapes:', (k) => `${k.name} ${k.shapes}`);
