#!/usr/bin/env node
// Checks tfjs-backend-webgpu on Dawn (the `webgpu` npm package) against tfjs's cpu backend, op by op,
// with the device set up as apps/trainer's registerDawnWebGpu does. A standalone repro, for bisecting a
// wrong kernel and for reports upstream.
// Usage: node tools/webgpu/probe.mjs [--gl] [--default-limits] [--flag NAME=VALUE]... [--dawn FLAG]...
//   --gl              Dawn's OpenGL ES backend, compatibility feature level (EGL_PLATFORM=surfaceless:
//                     Mesa llvmpipe on a machine without a GPU); also the fallback when Dawn's default
//                     adapter is missing
//   --default-limits  the device gets WebGPU's default limits, not the adapter's: reproduces the zeros
//                     and NaNs seen on Mesa (pipelines with 256-wide workgroups fail validation)
//   --flag            a tfjs env flag, e.g. WEBGPU_MATMUL_PROGRAM_TYPE=3
//   --dawn            a flag for dawn.create, e.g. backend=vulkan, enable-dawn-features=...
// Prints one line per check (max |webgpu - cpu|) and exits 1 when any exceeds 1e-4·(1 + max|cpu|) or
// Dawn reported a validation error.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import * as dawn from 'webgpu';

const { values: args } = parseArgs({
  options: {
    gl: { type: 'boolean', default: false },
    'default-limits': { type: 'boolean', default: false },
    flag: { type: 'string', multiple: true, default: [] },
    dawn: { type: 'string', multiple: true, default: [] },
  },
});
const flags = Object.fromEntries(
  args.flag.map((f) => {
    const [k, v] = f.split('=');
    if (v === undefined) throw new Error(`--flag ${f}: expected NAME=VALUE`);
    return [k, v === 'true' ? true : v === 'false' ? false : Number(v)];
  }),
);

Object.assign(globalThis, dawn.globals);
let gpu = dawn.create(args.dawn);
let adapter = args.gl ? null : await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) {
  process.env.EGL_PLATFORM ??= 'surfaceless';
  gpu = dawn.create([...args.dawn, 'backend=opengles']);
  adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' });
}
if (!adapter) throw new Error(`Dawn gave no adapter, neither its default nor OpenGL ES (flags ${args.dawn})`);
const info = adapter.info;
console.log(
  `adapter: ${[info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' | ')}`,
);
// Ask for everything the adapter offers: the compatibility feature level's defaults (128 invocations and
// 128 along x per workgroup) are below the 256-wide workgroups tfjs-webgpu compiles for reductions.
// --default-limits reproduces the failure: those pipelines fail validation and tfjs reads back zeros.
const limits = {};
if (!args['default-limits']) for (const k in adapter.limits) limits[k] = adapter.limits[k];
const device = await adapter.requestDevice({ requiredLimits: limits });
// tfjs-webgpu never checks for validation errors: an invalid pipeline silently leaves its output zero.
let dawnErrors = 0;
device.addEventListener('uncapturederror', (e) => {
  if (dawnErrors++ === 0) console.error(`dawn error (first of the run): ${e.error.message.split('\n')[0]}`);
});
if (!globalThis.navigator)
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
else if (!navigator.gpu) Object.defineProperty(navigator, 'gpu', { value: gpu, configurable: true });
tf.registerBackend('webgpu', () => new WebGPUBackend(device, adapter.info));
for (const [k, v] of Object.entries(flags)) tf.env().set(k, v);
console.log(`tfjs flags: ${JSON.stringify(flags)}`);

// Deterministic inputs: sin-based, no RNG.
const filled = (shape, seed) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.3 + i * 0.91) * 1.5),
    shape,
  );
};

const checks = [
  ['matMul [2,3]·[3,2]', (a = filled([2, 3], 1), b = filled([3, 2], 2)) => tf.matMul(a, b)],
  ['matMul [64,8]·[8,16]', () => tf.matMul(filled([64, 8], 1), filled([8, 16], 2))],
  ['matMul [64,48]·[48,64]', () => tf.matMul(filled([64, 48], 3), filled([48, 64], 4))],
  ['matMul [256,64]·[64,256]', () => tf.matMul(filled([256, 64], 3), filled([64, 256], 4))],
  [
    'matMul [16,200]ᵀ·[16,300] (grad)',
    () => tf.matMul(filled([16, 200], 5), filled([16, 300], 6), true, false),
  ],
  ['matMul [64,8]·[16,8]ᵀ', () => tf.matMul(filled([64, 8], 1), filled([16, 8], 2), false, true)],
  ['matMul [4,1024]·[1024,4] (long K)', () => tf.matMul(filled([4, 1024], 7), filled([1024, 4], 8))],
  ['matMul [1,2048]·[2048,1]', () => tf.matMul(filled([1, 2048], 7), filled([2048, 1], 8))],
  ['batched matMul [8,16,12]·[8,12,16]', () => tf.matMul(filled([8, 16, 12], 9), filled([8, 12, 16], 10))],
  [
    'batched matMul [8,16,12]·[8,16,12]ᵀ',
    () => tf.matMul(filled([8, 16, 12], 9), filled([8, 16, 12], 10), false, true),
  ],
  [
    'batched matMul [8,16,12]ᵀ·[8,16,20]',
    () => tf.matMul(filled([8, 16, 12], 9), filled([8, 16, 20], 10), true, false),
  ],
  ['add [64,16]+[16]', () => tf.add(filled([64, 16], 1), filled([16], 2))],
  ['add [300,40]+[300,40]', () => tf.add(filled([300, 40], 1), filled([300, 40], 2))],
  [
    'mul, sub, div [300,40]',
    () => tf.div(tf.sub(tf.mul(filled([300, 40], 1), filled([300, 40], 2)), 3), 1.7),
  ],
  ['relu, gelu-ish tanh, exp [300,40]', () => tf.exp(tf.tanh(tf.relu(filled([300, 40], 3))))],
  ['softmax [64,256]', () => tf.softmax(filled([64, 256], 4))],
  ['logSoftmax [64,256]', () => tf.logSoftmax(filled([64, 256], 4))],
  ['sum all [300,40]', () => tf.sum(filled([300, 40], 5))],
  ['sum axis 0 [300,40]', () => tf.sum(filled([300, 40], 5), 0)],
  ['sum axis 1 [300,40]', () => tf.sum(filled([300, 40], 5), 1)],
  ['mean axis -1 [8,64,64]', () => tf.mean(filled([8, 64, 64], 6), -1)],
  ['max axis -1 [64,256]', () => tf.max(filled([64, 256], 7), -1)],
  ['argMax [64,256]', () => tf.argMax(filled([64, 256], 7), -1)],
  ['transpose [8,16,12]→[1,0,2]', () => tf.transpose(filled([8, 16, 12], 8), [1, 0, 2])],
  [
    'gather [256,64] rows',
    () => tf.gather(filled([256, 64], 9), tf.tensor1d([3, 255, 0, 17, 17, 100], 'int32')),
  ],
  [
    'oneHot 64 of 256',
    () =>
      tf.oneHot(
        tf.tensor1d(
          Array.from({ length: 64 }, (_, i) => (i * 37) % 256),
          'int32',
        ),
        256,
      ),
  ],
  ['sqrt(square) sum [1000]', () => tf.sqrt(tf.sum(tf.square(filled([1000], 11))))],
  ['addN of 7 [2000]', () => tf.addN(Array.from({ length: 7 }, (_, i) => filled([2000], i)))],
  ['concat axis 1 [64,30]+[64,50]', () => tf.concat([filled([64, 30], 1), filled([64, 50], 2)], 1)],
  ['slice [64,80] → [10:50, 5:45]', () => tf.slice(filled([64, 80], 1), [10, 5], [40, 40])],
  [
    'grad of sum(softmax(xW)·t)',
    () =>
      tf.grad((w) => tf.sum(tf.mul(tf.softmax(tf.matMul(filled([64, 32], 1), w)), filled([64, 48], 2))))(
        filled([32, 48], 3),
      ),
  ],
];

const run = async (backend, fn) => {
  await tf.setBackend(backend);
  const t = tf.tidy(fn);
  try {
    return await t.data();
  } finally {
    t.dispose();
  }
};

let failures = 0;
for (const [name, fn] of checks) {
  const want = await run('cpu', fn);
  let got;
  try {
    got = await run('webgpu', fn);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}: webgpu threw ${e.message.split('\n')[0]}`);
    continue;
  }
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Number.isNaN(got[i]) ? Number.POSITIVE_INFINITY : Math.abs(want[i] - got[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  const ok = err <= 1e-4 * (1 + scale) && got.length === want.length;
  if (!ok) failures++;
  const show = (v) => `${Array.from(v.slice(0, 4), (x) => x.toFixed(3))}…`;
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${name}: max|Δ| ${err.toExponential(2)} (max|cpu| ${scale.toFixed(2)})${ok ? '' : ` got ${show(got)} want ${show(want)}`}`,
  );
}

// In Node, tfjs-webgpu's dataSync goes through OffscreenCanvas (absent): say so, it is not a kernel bug.
await tf.setBackend('webgpu');
const onGpu = tf.add(filled([4096], 1), 1); // above WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD: computed on the GPU
try {
  onGpu.dataSync();
  console.log('dataSync of a tensor on the GPU: works');
} catch (e) {
  console.log(`dataSync of a tensor on the GPU: throws (${e.message.split('\n')[0]}); use await data()`);
}
onGpu.dispose();
console.log(
  failures ? `${failures} of ${checks.length} checks failed` : `all ${checks.length} checks passed`,
);
if (dawnErrors) console.log(`${dawnErrors} Dawn validation errors (each leaves some output unwritten)`);
process.exit(failures || dawnErrors ? 1 : 0);
