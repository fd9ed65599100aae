#!/usr/bin/env node
// Which MobileNet input size and token layer (issue 10 part 2): for each input size, the token grid of
// conv_pw_11_relu and conv_pw_13_relu, the extraction time per image, the teacher ceiling (weighted
// 20-NN, T = 0.07, on pooled conv_pw_13_relu) and the no-learning codes of the student's size
// (residual k-means and product quantization, V centroids, L stages) at lengths 1, 2, 4, 8, with
// mAP@1000 for each. Prints a Markdown table.
//
// Features are extracted once (wasm, one thread) into .cache/teacher-layers/<size>px/ and reused: in
// a class-interleaved order (one image of each class in turn, files sorted), chunk by chunk, so the
// first N images are a balanced subset and an interrupted run resumes. One model execution per batch
// gives both layers (the teacher's `pooledLayer` option): conv_pw_13_relu pooled and conv_pw_11_relu
// pooled are cached, not the token maps.
//
//   nice -n 10 node bench/teacher-layers.mjs [--sizes 64,96,128] [--train 10000] [--test 2000]
//        [--V 128] [--L 8] [--seed 0] [--extract-only] [--out table.md]
// Imports the BUILT packages: `npx turbo run build --filter=@symseq/probe... --filter=@symseq/data...
// --filter=@symseq/vit-teacher...` first.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '64,96,128' },
    train: { type: 'string', default: '10000' },
    test: { type: 'string', default: '2000' },
    V: { type: 'string', default: '128' },
    L: { type: 'string', default: '8' },
    seed: { type: 'string', default: '0' },
    data: { type: 'string', default: join(root, '../shared/data/cifar10-jpeg') },
    model: { type: 'string', default: join(root, '../shared/models/mobilenet_v1_0.75_224/model.json') },
    cache: { type: 'string', default: join(root, '.cache/teacher-layers') },
    'extract-only': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

function positiveInt(name, text) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${name}: expected a positive integer, got ${JSON.stringify(text)}`);
  return n;
}
const sizes = args.sizes.split(',').map((s) => positiveInt('sizes', s));
const numTrain = positiveInt('train', args.train);
const numTest = positiveInt('test', args.test);
const V = positiveInt('V', args.V);
const L = positiveInt('L', args.L);
const seed = Number(args.seed);
if (!Number.isInteger(seed)) throw new Error(`--seed: expected an integer, got ${JSON.stringify(args.seed)}`);
for (const p of [args.data, args.model]) if (!existsSync(p)) throw new Error(`${p}: not found`);

const LAYERS = { tokens: 'conv_pw_11_relu', pooled: 'conv_pw_13_relu' };
const CHUNK = 1000; // images per cached chunk
const BATCH = 50; // images per teacher call
const DIM13 = 768;
const DIM11 = 384;

if (!(await tf.setBackend('wasm'))) throw new Error("setBackend('wasm') failed");
await tf.ready();
const data = await import('@symseq/data');
const { mobilenetTeacher } = await import('@symseq/vit-teacher');
const { loadLayersModel } = await import('@tensorflow/tfjs-layers');
const { codeBaselines, knnClassify } = await import('@symseq/probe');

/** Dataset indices in class-interleaved order: image 0 of every class, then image 1, … */
function interleaved(labels, numClasses) {
  const byClass = Array.from({ length: numClasses }, () => []);
  labels.forEach((y, i) => {
    byClass[y].push(i);
  });
  const order = [];
  for (let j = 0; order.length < labels.length; j++)
    for (const c of byClass) if (j < c.length) order.push(c[j]);
  return Int32Array.from(order);
}

const splits = {};
for (const split of ['train', 'test']) {
  const ds = await data.openImageFolder({
    root: args.data,
    split,
    cacheDir: join(args.cache, 'pixels'),
    quiet: true,
  });
  const order = interleaved(ds.labels, ds.classes.length);
  splits[split] = {
    ds,
    order,
    labels: Int32Array.from(order, (i) => ds.labels[i]),
    fingerprint: ds.fingerprint(),
  };
}
if (numTrain > splits.train.ds.length || numTest > splits.test.ds.length) {
  throw new Error(
    `--train/--test: the data has ${splits.train.ds.length} train and ${splits.test.ds.length} test images`,
  );
}
const model = await loadLayersModel(data.fileSystemModelHandler(args.model));

/**
 * Pooled conv_pw_13_relu [n, 768] and pooled conv_pw_11_relu [n, 384] of the first `n` images of
 * `split` (interleaved order) at `size` px, from the cache or extracted chunk by chunk; with the CPU
 * milliseconds per image of the chunks extracted (or recorded) so far.
 */
async function features(size, split, n) {
  const dir = join(args.cache, `${size}px`);
  mkdirSync(dir, { recursive: true });
  const manifestPath = join(dir, `${split}.json`);
  const key = { model: args.model, layers: LAYERS, fingerprint: splits[split].fingerprint, chunk: CHUNK };
  let manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : undefined;
  if (!manifest || JSON.stringify(manifest.key) !== JSON.stringify(key)) manifest = { key, chunks: [] };
  const { ds, order } = splits[split];
  const teacher = mobilenetTeacher({
    model,
    inputSize: size,
    layer: LAYERS.tokens,
    pooledLayer: LAYERS.pooled,
  });
  const numChunks = Math.ceil(n / CHUNK);
  for (let c = 0; c < numChunks; c++) {
    if (manifest.chunks[c]) continue;
    const start = c * CHUNK;
    const end = Math.min(start + CHUNK, ds.length);
    const out = new Float32Array((end - start) * (DIM13 + DIM11));
    let cpuUs = 0;
    let wallMs = 0;
    for (let b = start; b < end; b += BATCH) {
      const idx = order.subarray(b, Math.min(b + BATCH, end));
      const images = data.batchToTensor(ds.load(idx));
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const { tokens, pooled } = teacher.forward(images);
      const pooled11 = tf.mean(tokens, 1);
      const [p13, p11] = await Promise.all([pooled.data(), pooled11.data()]);
      wallMs += performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      cpuUs += cpu.user + cpu.system;
      tf.dispose([images, tokens, pooled, pooled11]);
      for (let i = 0; i < idx.length; i++) {
        const row = (b - start + i) * (DIM13 + DIM11);
        out.set(p13.subarray(i * DIM13, (i + 1) * DIM13), row);
        out.set(p11.subarray(i * DIM11, (i + 1) * DIM11), row + DIM13);
      }
    }
    const file = `${split}-${c}.f32`;
    writeFileSync(join(dir, file), new Uint8Array(out.buffer));
    manifest.chunks[c] = { file, images: end - start, cpuMs: cpuUs / 1000, wallMs };
    await data.writeJsonAtomic(manifestPath, manifest);
    console.error(
      `${size}px ${split} chunk ${c + 1}/${numChunks}: ${(cpuUs / 1000 / (end - start)).toFixed(1)} ms/img CPU, ${(wallMs / (end - start)).toFixed(1)} wall`,
    );
  }
  const p13 = new Float32Array(n * DIM13);
  const p11 = new Float32Array(n * DIM11);
  let imgs = 0;
  let cpuMs = 0;
  for (let c = 0; c < numChunks; c++) {
    const meta = manifest.chunks[c];
    const buf = readFileSync(join(dir, meta.file));
    const rows = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    for (let i = 0; i < meta.images && c * CHUNK + i < n; i++) {
      const r = c * CHUNK + i;
      p13.set(rows.subarray(i * (DIM13 + DIM11), i * (DIM13 + DIM11) + DIM13), r * DIM13);
      p11.set(rows.subarray(i * (DIM13 + DIM11) + DIM13, (i + 1) * (DIM13 + DIM11)), r * DIM11);
    }
    imgs += meta.images;
    cpuMs += meta.cpuMs;
  }
  const grids = { tokens: teacher.dims.grid, pooled: teacher.pooledGrid };
  return { p13, p11, labels: splits[split].labels.slice(0, n), msPerImage: cpuMs / imgs, grids };
}

/** CPU ms per image of a conv_pw_13_relu-only teacher (tokens and pooled from one layer), on `n` images. */
async function timeSingleLayer(size, n) {
  const teacher = mobilenetTeacher({ model, inputSize: size, layer: LAYERS.pooled });
  const { ds, order } = splits.test;
  let cpuUs = 0;
  for (let b = 0; b < n; b += BATCH) {
    const images = data.batchToTensor(ds.load(order.subarray(b, Math.min(b + BATCH, n))));
    const cpu0 = process.cpuUsage();
    const { tokens, pooled } = teacher.forward(images);
    await pooled.data();
    const cpu = process.cpuUsage(cpu0);
    cpuUs += cpu.user + cpu.system;
    tf.dispose([images, tokens, pooled]);
  }
  return { msPerImage: cpuUs / 1000 / n, grid: teacher.dims.grid };
}

const results = [];
for (const size of sizes) {
  const test = await features(size, 'test', numTest);
  const train = await features(size, 'train', numTrain);
  const single = await timeSingleLayer(size, Math.min(500, numTest));
  results.push({ size, train, test, single });
}
if (args['extract-only']) {
  for (const r of results) {
    console.log(
      `${r.size}px: pw11 grid ${r.train.grids.tokens.join('×')}, pw13 grid ${r.single.grid.join('×')}, two-layer ${r.train.msPerImage.toFixed(1)} ms/img, pw13 only ${r.single.msPerImage.toFixed(1)} ms/img`,
    );
  }
  process.exit(0);
}

const numClasses = splits.train.ds.classes.length;
const lengths = [1, 2, 4, 8].filter((l) => l <= L);
const fmt = (x) => x.toFixed(1);
const rows = [];
for (const r of results) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const table = await codeBaselines({
    trainFeatures: r.train.p13,
    trainLabels: r.train.labels,
    testFeatures: r.test.p13,
    testLabels: r.test.labels,
    numClasses,
    lengths,
    codebookSize: V,
    seed,
    mapR: 1000,
    onProgress: (m) => console.error(`${r.size}px ${m}`),
  });
  const cpu = process.cpuUsage(cpu0);
  const pw11 = await knnClassify({
    trainFeatures: r.train.p11,
    trainLabels: r.train.labels,
    testFeatures: r.test.p11,
    testLabels: r.test.labels,
    numClasses,
  });
  const get = (method, l) => table.rows.find((x) => x.method === method && x.length === l);
  rows.push({
    size: r.size,
    gridPw11: r.train.grids.tokens,
    gridPw13: r.single.grid,
    msTwoLayer: r.train.msPerImage,
    msPw13: r.single.msPerImage,
    teacher: get('teacher', 0),
    teacherPw11Pooled: pw11.top1,
    residual: lengths.map((l) => get('residual-kmeans', l)),
    product: lengths.map((l) => get('product-quantization', l)),
    baselineSeconds: {
      wall: (performance.now() - t0) / 1000,
      cpu: (cpu.user + cpu.system) / 1e6,
      ...table.seconds,
    },
  });
}

const cols = (xs, key) => xs.map((x) => fmt(x[key])).join(' / ');
const lines = [
  `MobileNetV1 0.75, CIFAR-10 balanced subset ${numTrain} train / ${numTest} test (class-interleaved, files sorted), ` +
    `weighted ${20}-NN T = 0.07 on pooled conv_pw_13_relu, codes V = ${V}, lengths ${lengths.join('/')}, seed ${seed}; ` +
    'extraction: wasm, one thread, CPU ms per image (process CPU time, batch 50).',
  '',
  `| input | tokens grid pw11 / pw13 | ms/img pw11+pw13 / pw13 only | teacher top-1 (mAP@1000) | pooled pw11 top-1 | residual k-means top-1 ${lengths.join('/')} | PQ top-1 ${lengths.join('/')} |`,
  '|---:|:---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.size} px | ${r.gridPw11.join('×')} / ${r.gridPw13.join('×')} | ${fmt(r.msTwoLayer)} / ${fmt(r.msPw13)} | ` +
      `${fmt(r.teacher.top1)} (${fmt(r.teacher.mAP)}) | ${fmt(r.teacherPw11Pooled)} | ${cols(r.residual, 'top1')} | ${cols(r.product, 'top1')} |`,
  ),
  '',
  `| input | residual k-means mAP@1000 ${lengths.join('/')} | PQ mAP@1000 ${lengths.join('/')} | baselines time (wall / CPU s) |`,
  '|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.size} px | ${cols(r.residual, 'mAP')} | ${cols(r.product, 'mAP')} | ${fmt(r.baselineSeconds.wall)} / ${fmt(r.baselineSeconds.cpu)} |`,
  ),
];
const markdown = lines.join('\n');
console.log(markdown);
await data.writeJsonAtomic(
  join(args.cache, `results-${numTrain}x${numTest}-V${V}-L${L}-seed${seed}.json`),
  rows,
);
if (args.out) writeFileSync(args.out, `${markdown}\n`);
