// The CPU preset's training step, data-parallel over N replicas (this thread + N−1 worker threads, each
// with its own wasm backend), as `train --workers N` runs it. Prints JSON: median wall/CPU ms per step.
//
//   node bench/student-step-parallel.mjs --workers 2 [--reps 10] [--warmup 2] [--train-batch 256]
import { parseArgs } from 'node:util';
import { cpuMs, createStudentBench, median, positiveInt, tf, useBackend } from './student-setup.mjs';

const { values: args } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    reps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    'train-batch': { type: 'string', default: '256' },
  },
});
const workers = positiveInt('workers', args.workers);
const reps = positiveInt('reps', args.reps);
const warmup = positiveInt('warmup', args.warmup);
const batch = positiveInt('train-batch', args['train-batch']);
await useBackend('wasm');
const { DataParallel } = await import('../apps/trainer/dist/index.js');
const bench = await createStudentBench();
// The preset's own objective and regulariser (student-setup.mjs), at the benchmarked batch.
const config = { ...bench.preset, optim: { ...bench.preset.optim, batchSize: batch } };
const dp = await DataParallel.start({
  replicas: workers,
  config,
  stepper: bench.step,
  student: bench.student,
  objective: bench.objective,
  tokenCount: bench.shapes.tokens,
  tokenDim: bench.shapes.tokenDim,
  pooledDim: bench.shapes.pooledDim,
});
const { tokens, targets } = bench.inputs(batch, 7);
const tokenRows = await tokens.data();
const pooledRows = await targets.data();
const wall = [];
const cpu = [];
const losses = [];
for (let i = 0; i < warmup + reps; i++) {
  const t0 = performance.now();
  const c0 = cpuMs();
  losses.push(dp.run(tokenRows, pooledRows, i, bench.optim.lr).total);
  if (i >= warmup) {
    wall.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
  }
}
const checksums = await dp.close();
console.log(
  JSON.stringify({
    workers,
    batch,
    trainMs: median(wall),
    trainCpuMs: median(cpu),
    range: [Math.min(...wall), Math.max(...wall)],
    losses: [losses[0], losses.at(-1)],
    replicas: checksums.size + 1,
  }),
);
tf.dispose([tokens, targets]);
