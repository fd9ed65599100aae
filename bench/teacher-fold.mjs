#!/usr/bin/env node
// The MobileNet teacher on wasm (one thread), layer by layer against folded (each conv → batch-norm →
// ReLU6 block one fused convolution, LayersModelTeacher's default), beside PyTorch running the same
// weights on the same CPU (bench/teacher_torch.py, one thread, batch-norm folded too). Prints images/s,
// the ratio, the kernels per batch and the largest feature difference between the two tfjs paths.
//   node bench/teacher-fold.mjs [--model ../shared/models/mobilenet_v1_0.75_224] [--size 128] [--batch 64] [--reps 4] [--no-torch]
// Imports the BUILT packages: `npx turbo run build` first.
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileSystemModelHandler } from '@symseq/data';
import { mobilenetTeacher } from '@symseq/vit-teacher';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { median, positiveInt, tf, useBackend } from './student-setup.mjs';

const { values: a } = parseArgs({
  options: {
    model: {
      type: 'string',
      default: new URL('../../shared/models/mobilenet_v1_0.75_224', import.meta.url).pathname,
    },
    size: { type: 'string', default: '128' },
    batch: { type: 'string', default: '64' },
    reps: { type: 'string', default: '4' },
    'no-torch': { type: 'boolean', default: false },
  },
});
const [size, batch, reps] = [
  positiveInt('size', a.size),
  positiveInt('batch', a.batch),
  positiveInt('reps', a.reps),
];
await useBackend('wasm');
const model = await loadLayersModel(fileSystemModelHandler(a.model));
const opts = { model, inputSize: size, layer: 'conv_pw_11_relu', pooledLayer: 'conv_pw_13_relu' };
const teachers = { layers: mobilenetTeacher({ ...opts, fold: false }), folded: mobilenetTeacher(opts) };
const images = tf.randomUniform([batch, 32, 32, 3], 0, 1, 'float32', 1);

const rows = {};
for (const [name, teacher] of Object.entries(teachers)) {
  const run = () => {
    const o = teacher.forward(images);
    o.pooled.dataSync();
    return o;
  };
  tf.dispose(Object.values(run()).filter((t) => t instanceof tf.Tensor));
  const times = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const o = run();
    times.push(performance.now() - t0);
    tf.dispose([o.tokens, o.pooled]);
  }
  const prof = await tf.profile(() => {
    const o = run();
    tf.dispose([o.tokens, o.pooled]);
  });
  rows[name] = { ms: median(times), kernels: prof.kernels.length };
}
const diff = tf.tidy(() => {
  const [x, y] = [teachers.layers.forward(images), teachers.folded.forward(images)];
  const rel = (p, q) => tf.max(tf.abs(tf.sub(p, q))).dataSync()[0] / tf.max(tf.abs(p)).dataSync()[0];
  return Math.max(rel(x.tokens, y.tokens), rel(x.pooled, y.pooled));
});

let torch;
if (!a['no-torch']) {
  const out = execFileSync(
    '/usr/bin/python3',
    ['bench/teacher_torch.py', '--sizes', String(size), '--batch', String(batch), '--reps', String(reps)],
    {
      env: { ...process.env, BENCH_THREADS: '1' },
      encoding: 'utf8',
    },
  );
  torch = JSON.parse(out);
}
const ips = (ms) => (batch * 1000) / ms;
console.log(
  `MobileNetV1 0.75 to conv_pw_13_relu at ${size} px, batch ${batch}, one thread, median of ${reps}\n`,
);
console.log(
  '| run | ms per batch | images/s | kernels per batch | vs layer by layer |\n|---|---:|---:|---:|---:|',
);
for (const [name, r] of Object.entries(rows)) {
  console.log(
    `| tfjs wasm, ${name === 'folded' ? 'folded (default)' : 'layer by layer'} | ${r.ms.toFixed(0)} | ${ips(r.ms).toFixed(1)} | ${r.kernels} | ${(rows.layers.ms / r.ms).toFixed(2)}× |`,
  );
}
if (torch) {
  const t = torch.sizes[String(size)].imagesPerSecond;
  console.log(
    `| PyTorch ${torch.torch} (teacher_torch.py, input already ${size} px) | ${((batch * 1000) / t).toFixed(0)} | ${t.toFixed(1)} | | |`,
  );
  console.log(`\ntfjs folded / PyTorch time: ${((rows.folded.ms * t) / (batch * 1000)).toFixed(2)}×`);
}
console.log(
  `\nlargest relative difference, folded vs layer by layer (tokens, pooled): ${diff.toExponential(2)}`,
);
