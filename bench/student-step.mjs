#!/usr/bin/env node
// Speed of the symbolic student (the CPU preset's config) on TensorFlow.js, one thread:
// (a) one training step (the trainer's own TrainStep, apps/trainer/src/train-step.ts), (b) inference forward, and op
// microbenchmarks (bench/micro-ops.json: matMul 256³ and the student's shapes). Prints one JSON
// object. Peer: bench/student_step.py (PyTorch). Imports the BUILT packages (dist/): run
// `npx turbo run build` first, or use bench/run.sh.
//
//   node bench/student-step.mjs [--backend wasm|cpu] [--reps N] [--warmup N]
//                               [--train-batch 256] [--infer-batch 500] [--matmul-reps N]
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createStudentBench, here, positiveInt, root, tf, time, useBackend } from './student-setup.mjs';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    reps: { type: 'string' },
    warmup: { type: 'string' },
    'train-batch': { type: 'string', default: '256' },
    'infer-batch': { type: 'string', default: '500' },
    'matmul-reps': { type: 'string' },
  },
});

const backend = args.backend;
// The cpu backend is ~30× slower (a training step takes ~30 s): one repetition keeps it near two minutes.
const reps = positiveInt('reps', args.reps ?? (backend === 'wasm' ? '10' : '1'));
const warmup = positiveInt('warmup', args.warmup ?? (backend === 'wasm' ? '2' : '1'));
const trainBatch = positiveInt('train-batch', args['train-batch']);
const inferBatch = positiveInt('infer-batch', args['infer-batch']);
const matmulReps = positiveInt('matmul-reps', args['matmul-reps'] ?? (backend === 'wasm' ? '50' : '5'));

await useBackend(backend);
const {
  config: studentConfig,
  optim,
  params,
  trainStep,
  inference,
  inputs,
  shapes,
  preset,
} = await createStudentBench();

const { tokens: trainTokens, targets: trainTargets } = inputs(trainBatch, 1);
const { tokens: inferTokens } = inputs(inferBatch, 3);

// Warm-ups first (the first step also creates Adam's slots), so the tensor counts show leaks only.
const losses = [];
for (let i = 0; i < warmup; i++) losses.push(trainStep(trainTokens, trainTargets, i));
for (let i = 0; i < warmup; i++) inference(inferTokens);
const tensorsBefore = tf.memory().numTensors;
const train = time((i) => losses.push(trainStep(trainTokens, trainTargets, warmup + i)), reps, 0);
const tensorsAfterTrain = tf.memory().numTensors;
const infer = time(() => inference(inferTokens), reps, 0);
const tensorsAfterInfer = tf.memory().numTensors;

// Op microbenchmarks: matMul 256³ (plain and with the transpose flags tfjs' own matMul gradient
// uses), matMuls at the student's shapes, transposes (the explicit-transpose gradient of
// @symseq/nn matMul runs them) and erf (exact GELU). Shared with bench/student_step.py.
const MICRO = JSON.parse(readFileSync(join(here, 'micro-ops.json'), 'utf8'));
const micro = {};
for (const op of MICRO) {
  const x = tf.randomNormal(op.a, 0, 1, 'float32', 4);
  const y = op.b ? tf.randomNormal(op.b, 0, 1, 'float32', 5) : undefined;
  const kernels = {
    matmul: () => tf.matMul(x, y, op.transposeA ?? false, op.transposeB ?? false),
    transpose: () => tf.transpose(x),
    erf: () => tf.erf(x),
  };
  const run = kernels[op.kind];
  if (!run) throw new Error(`bench/micro-ops.json: unknown kind ${JSON.stringify(op.kind)} in ${op.name}`);
  // Synchronous backends: the kernel has run when the op returns (no read-back copy timed).
  micro[op.name] = time(() => run().dispose(), matmulReps, 5);
  tf.dispose([x, y]);
}

const strip = ({ samples, cpuSamples, ...rest }) => rest;
const pkgVersion = (name) =>
  JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
console.log(
  JSON.stringify(
    {
      side: 'tfjs',
      backend: tf.getBackend(),
      // wasm in Node: no multithread support (wasmMultithread false), so kernels run on one thread.
      threads: 1,
      node: process.version,
      tfjs: pkgVersion('@tensorflow/tfjs-core'),
      tfjsWasm: pkgVersion('@tensorflow/tfjs-backend-wasm'),
      wasmSimd: backend === 'wasm' ? await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') : undefined,
      wasmMultithread:
        backend === 'wasm' ? await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') : undefined,
      cpu: cpus()[0]?.model,
      loadavg: loadavg(),
      config: {
        ...studentConfig,
        teacherTokens: shapes.tokens,
        objective: preset.objective,
        trainBatch,
        inferBatch,
        optim,
      },
      params,
      losses,
      leakedTensors: {
        train: tensorsAfterTrain - tensorsBefore,
        inference: tensorsAfterInfer - tensorsAfterTrain,
      },
      ms: {
        trainStep: strip(train),
        inference: strip(infer),
        ...Object.fromEntries(Object.entries(micro).map(([k, v]) => [k, strip(v)])),
      },
      samples: { trainStep: train.samples, inference: infer.samples },
      cpuSamples: { trainStep: train.cpuSamples, inference: infer.cpuSamples },
    },
    null,
    2,
  ),
);
