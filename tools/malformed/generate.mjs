#!/usr/bin/env node
// The malformed-input corpus: damaged files of every kind symseq reads, each with the reader that must
// refuse it and a pattern its error must match (besides naming the file). Written with plain byte
// arithmetic, pngjs and jpeg-js — never with symseq's own writers — so a reader bug cannot hide behind
// the same bug in a writer. Every kind also gets a well-formed control that must load.
//   node tools/malformed/generate.mjs [outDir]   (default tools/malformed/out, git-ignored)
// Tests import `generateMalformedCorpus(dir)` and write the corpus into a temporary folder.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** A safetensors file: 8-byte LE header length, header bytes, data (the format, by hand). */
function safetensors(header, data, { headerText, length } = {}) {
  const h =
    headerText !== undefined ? Buffer.from(headerText, 'latin1') : Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(length ?? BigInt(h.length));
  return Buffer.concat([len, h, Buffer.from(data)]);
}

/** Little-endian float32 bytes of `values`. */
function f32(values) {
  const b = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) b.writeFloatLE(values[i], i * 4);
  return b;
}

const tensor = (dtype, shape, begin, end) => ({ dtype, shape, data_offsets: [begin, end] });
/** The student-like two-layer file the safetensors cases start from: fc1 then fc2, 16 bytes each. */
const GOOD_HEADER = {
  __metadata__: { format: 'symseq-checkpoint', kind: 'toy' },
  'fc1.weight': tensor('F32', [2, 2], 0, 16),
  'fc2.weight': tensor('F32', [2, 2], 16, 32),
};
const GOOD_DATA = f32([1, 2, 3, 4, 5, 6, 7, 8]);
const goodSafetensors = () => safetensors(GOOD_HEADER, GOOD_DATA);

function rgbaGradient(w, h) {
  const data = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) data.set([(i * 37) % 256, (i * 11) % 256, (i * 5) % 256, 255], i * 4);
  return { width: w, height: h, data };
}
const goodPng = () => PNG.sync.write(Object.assign(new PNG({ width: 8, height: 8 }), rgbaGradient(8, 8)));
const goodJpeg = () => Buffer.from(jpeg.encode(rgbaGradient(8, 8), 90).data);

/** PNG chunk CRC (ISO 3309), to forge a consistent IHDR. */
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
function pngWithSize(width, height) {
  const b = Buffer.from(goodPng());
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  b.writeUInt32BE(crc32(b.subarray(12, 29)), 29);
  return b;
}

const CIFAR_RECORD = 3073;
function cifarRecords(labels) {
  const b = Buffer.alloc(labels.length * CIFAR_RECORD);
  labels.forEach((l, r) => {
    b[r * CIFAR_RECORD] = l;
    for (let p = 0; p < 3072; p++) b[r * CIFAR_RECORD + 1 + p] = (p + r) % 256;
  });
  return b;
}

const CHECKPOINT = {
  format: 'symseq-checkpoint',
  version: 1,
  kind: 'toy',
  config: { dim: 2 },
  meta: { step: 1 },
};

/** The topology tfjs-layers 4.22 saves for `dense({units: 2, inputShape: [3], name: 'fc'})`. */
const DENSE_TOPOLOGY = {
  class_name: 'Sequential',
  config: {
    name: 'sequential_1',
    layers: [
      {
        class_name: 'Dense',
        config: {
          units: 2,
          activation: 'linear',
          use_bias: true,
          kernel_initializer: { class_name: 'Ones', config: {} },
          bias_initializer: { class_name: 'Zeros', config: {} },
          kernel_regularizer: null,
          bias_regularizer: null,
          activity_regularizer: null,
          kernel_constraint: null,
          bias_constraint: null,
          name: 'fc',
          trainable: true,
          batch_input_shape: [null, 3],
          dtype: 'float32',
        },
      },
    ],
  },
  keras_version: 'tfjs-layers 4.22.0',
  backend: 'tensor_flow.js',
};
const SHARDS = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];
const WEIGHT_SPECS = [
  { name: 'fc/kernel', shape: [3, 2], dtype: 'float32' },
  { name: 'fc/bias', shape: [2], dtype: 'float32' },
];
// kernel [[1,2],[3,4],[5,6]], bias [0.5,-0.5]: 32 bytes, split 20 + 12 over two shards.
const MODEL_WEIGHTS = f32([1, 2, 3, 4, 5, 6, 0.5, -0.5]);
function layersModel(
  dir,
  { modelJson, shards = [MODEL_WEIGHTS.subarray(0, 20), MODEL_WEIGHTS.subarray(20)] } = {},
) {
  mkdirSync(dir, { recursive: true });
  const json =
    modelJson !== undefined
      ? modelJson
      : JSON.stringify({
          modelTopology: DENSE_TOPOLOGY,
          format: 'layers-model',
          generatedBy: 'tools/malformed/generate.mjs',
          weightsManifest: [{ paths: SHARDS, weights: WEIGHT_SPECS }],
        });
  if (json !== null) writeFileSync(join(dir, 'model.json'), json);
  shards.forEach((s, i) => {
    if (s !== null) writeFileSync(join(dir, SHARDS[i]), s);
  });
}

/** A feature cache of 3 images, 1 view, 2 tokens of dim 2, float32, shards of 2 images (values 0, 1, 2, …). */
const FEATURE_MANIFEST = {
  format: 'symseq-feature-cache',
  version: 1,
  key: {
    teacherId: 'toy',
    inputSize: 8,
    datasetFingerprint: 'corpus',
    count: 3,
    views: 0,
    augmentation: null,
    seed: 0,
    dtype: 'float32',
    shardSize: 2,
  },
  viewCount: 1,
  shapes: { tokens: [3, 1, 2, 2], pooled: [3, 1, 2] },
  shards: 2,
  classes: ['a', 'b'],
  labels: [0, 1, 0],
  complete: true,
};
const ramp = (n) => f32(Array.from({ length: n }, (_, i) => i));
// Shard s holds pooled [n, 1, 2] then tokens [n, 1, 2, 2]: 2 images → 12 floats, 1 image → 6 floats.
function featureCache(
  dir,
  { manifest = JSON.stringify(FEATURE_MANIFEST), shards = [ramp(12), ramp(6)] } = {},
) {
  mkdirSync(dir, { recursive: true });
  if (manifest !== null) writeFileSync(join(dir, 'manifest.json'), manifest);
  shards.forEach((s, i) => {
    if (s !== null) writeFileSync(join(dir, `shard-${String(i).padStart(5, '0')}.bin`), s);
  });
}

const withManifest = (change) => JSON.stringify({ ...FEATURE_MANIFEST, ...change });

/**
 * Every case: `reader` (which reader must refuse it), `path` (relative to the corpus folder: a file, a
 * checkpoint stem, or a folder), `expect` (regular expression source its error must match, or null for a
 * control that must load), `write(absPath)`. Image-folder cases may list `skipped` (files a lenient open
 * must report) instead of an error.
 */
const CASES = [
  // ── safetensors ──────────────────────────────────────────────────────────────────────────────
  { reader: 'safetensors', path: 'safetensors/good.safetensors', expect: null, bytes: goodSafetensors },
  {
    reader: 'safetensors',
    path: 'safetensors/zero-bytes.safetensors',
    expect: 'file is 0 bytes',
    bytes: () => Buffer.alloc(0),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/five-bytes.safetensors',
    expect: 'file is 5 bytes',
    bytes: () => goodSafetensors().subarray(0, 5),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/truncated-data.safetensors',
    expect:
      "tensor 'fc2\\.weight' has data_offsets \\[16, 32\\] outside the data section \\(28 bytes\\); the file is truncated",
    bytes: () => goodSafetensors().subarray(0, goodSafetensors().length - 4),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/truncated-in-header.safetensors',
    expect: 'header length \\d+ runs past the end of the file',
    bytes: () => goodSafetensors().subarray(0, 40),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/oversized-header-length.safetensors',
    expect: "header length 1099511627776 exceeds the format's limit of 100000000 bytes",
    bytes: () => safetensors(GOOD_HEADER, GOOD_DATA, { length: 1n << 40n }),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/max-header-length.safetensors',
    expect: "header length 18446744073709551615 exceeds the format's limit",
    bytes: () => safetensors(GOOD_HEADER, GOOD_DATA, { length: (1n << 64n) - 1n }),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/header-not-json.safetensors',
    expect: 'header is not valid JSON',
    bytes: () => safetensors(null, GOOD_DATA, { headerText: '{"fc1.weight": {"dtype": "F32", ' }),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/header-is-array.safetensors',
    expect: "header must start with '\\{'",
    bytes: () => safetensors(null, GOOD_DATA, { headerText: '[1, 2, 3]' }),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/header-not-utf8.safetensors',
    expect: 'header is not valid UTF-8',
    bytes: () => safetensors(null, GOOD_DATA, { headerText: '{"fc\xff": 1}' }),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/overlapping.safetensors',
    expect:
      "tensor 'fc2\\.weight' \\(bytes 0\\.\\.16\\) overlaps tensor 'fc1\\.weight' \\(bytes 0\\.\\.16\\)",
    bytes: () =>
      safetensors(
        { 'fc1.weight': tensor('F32', [2, 2], 0, 16), 'fc2.weight': tensor('F32', [2, 2], 0, 16) },
        GOOD_DATA.subarray(0, 16),
      ),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/partly-overlapping.safetensors',
    expect: "tensor 'fc2\\.weight' \\(bytes 8\\.\\.24\\) overlaps tensor 'fc1\\.weight'",
    bytes: () =>
      safetensors(
        { 'fc1.weight': tensor('F32', [2, 2], 0, 16), 'fc2.weight': tensor('F32', [2, 2], 8, 24) },
        GOOD_DATA.subarray(0, 24),
      ),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/gap.safetensors',
    expect:
      "tensor 'fc2\\.weight' starts at byte 20, but tensor 'fc1\\.weight' ends at 16; the format allows no gap",
    bytes: () =>
      safetensors(
        { 'fc1.weight': tensor('F32', [2, 2], 0, 16), 'fc2.weight': tensor('F32', [2, 2], 20, 36) },
        f32(Array(9).fill(1)),
      ),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/trailing-bytes.safetensors',
    expect: '4 trailing bytes belong to no tensor',
    bytes: () => safetensors(GOOD_HEADER, Buffer.concat([GOOD_DATA, f32([9])])),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/shape-mismatch.safetensors',
    expect: "tensor 'fc2\\.weight' \\(F32 \\[2, 3\\]\\) needs 24 bytes, its data_offsets span 16",
    bytes: () =>
      safetensors(
        { 'fc1.weight': tensor('F32', [2, 2], 0, 16), 'fc2.weight': tensor('F32', [2, 3], 16, 32) },
        GOOD_DATA,
      ),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/unknown-dtype.safetensors',
    expect: "tensor 'fc1\\.weight' has unknown dtype 'float32'",
    bytes: () => safetensors({ 'fc1.weight': tensor('float32', [4], 0, 16) }, GOOD_DATA.subarray(0, 16)),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/reversed-offsets.safetensors',
    expect: "tensor 'fc1\\.weight' has invalid data_offsets \\[16,0\\]",
    bytes: () => safetensors({ 'fc1.weight': tensor('F32', [4], 16, 0) }, GOOD_DATA.subarray(0, 16)),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/fractional-shape.safetensors',
    expect: "tensor 'fc1\\.weight' has an invalid shape \\[1\\.5,2\\]",
    bytes: () => safetensors({ 'fc1.weight': tensor('F32', [1.5, 2], 0, 12) }, GOOD_DATA.subarray(0, 12)),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/missing-offsets.safetensors',
    expect: "tensor 'fc1\\.weight' needs dtype, shape and data_offsets",
    bytes: () => safetensors({ 'fc1.weight': { dtype: 'F32', shape: [4] } }, GOOD_DATA.subarray(0, 16)),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/metadata-not-strings.safetensors',
    expect: "'__metadata__\\.step' must be a string, got 12",
    bytes: () => safetensors({ ...GOOD_HEADER, __metadata__: { step: 12 } }, GOOD_DATA),
  },
  {
    reader: 'safetensors',
    path: 'safetensors/random-bytes.safetensors',
    expect: 'exceeds the format|runs past the end',
    bytes: () => Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 131 + 7) % 256)),
  },
  // ── checkpoints (<stem>.json + <stem>.safetensors, read by decodeCheckpoint with kind 'toy') ────
  ...[
    ['good', JSON.stringify(CHECKPOINT), null],
    ['not-json', '{"format": "symseq-checkpoint", ', 'not-json\\.json: not valid JSON'],
    ['zero-bytes', '', 'not valid JSON'],
    ['array', '[1, 2]', 'expected a JSON object'],
    [
      'wrong-format',
      JSON.stringify({ ...CHECKPOINT, format: 'keras' }),
      `field 'format' is "keras", expected 'symseq-checkpoint'`,
    ],
    [
      'version-as-string',
      JSON.stringify({ ...CHECKPOINT, version: '1' }),
      'format version "1" is not supported',
    ],
    ['missing-kind', JSON.stringify({ ...CHECKPOINT, kind: undefined }), "field 'kind'"],
    [
      'missing-config',
      JSON.stringify({ ...CHECKPOINT, config: undefined }),
      "field 'config' must be an object, got undefined",
    ],
    [
      'config-is-string',
      JSON.stringify({ ...CHECKPOINT, config: 'dim=2' }),
      `field 'config' must be an object, got "dim=2"`,
    ],
    ['meta-is-number', JSON.stringify({ ...CHECKPOINT, meta: 7 }), "field 'meta' must be an object, got 7"],
  ].map(([name, json, expect]) => ({
    reader: 'checkpoint',
    path: `checkpoint/${name}`,
    expect,
    files: { json, safetensors: goodSafetensors() },
  })),
  {
    reader: 'checkpoint',
    path: 'checkpoint/nan-weights',
    expect: "nan-weights\\.safetensors: tensor 'fc2\\.weight' holds 2 non-finite value\\(s\\)",
    files: {
      json: JSON.stringify(CHECKPOINT),
      safetensors: safetensors(GOOD_HEADER, f32([1, 2, 3, 4, Number.NaN, 6, Infinity, 8])),
    },
  },
  {
    reader: 'checkpoint',
    path: 'checkpoint/truncated-weights',
    expect: 'truncated-weights\\.safetensors: .*the file is truncated',
    files: {
      json: JSON.stringify(CHECKPOINT),
      safetensors: goodSafetensors().subarray(0, goodSafetensors().length - 8),
    },
  },
  {
    reader: 'checkpoint',
    path: 'checkpoint/overlapping-weights',
    expect: "overlapping-weights\\.safetensors: tensor 'fc2\\.weight' \\(bytes 0\\.\\.16\\) overlaps",
    files: {
      json: JSON.stringify(CHECKPOINT),
      safetensors: safetensors(
        { 'fc1.weight': tensor('F32', [2, 2], 0, 16), 'fc2.weight': tensor('F32', [2, 2], 0, 16) },
        GOOD_DATA.subarray(0, 16),
      ),
    },
  },
  // ── images (decodeImage by content) ──────────────────────────────────────────────────────────
  { reader: 'image', path: 'images/good.png', expect: null, bytes: goodPng },
  { reader: 'image', path: 'images/good.jpg', expect: null, bytes: goodJpeg },
  {
    reader: 'image',
    path: 'images/zero-bytes.jpg',
    expect: 'is not a JPEG or PNG file \\(starts with bytes \\(empty\\)\\)',
    bytes: () => Buffer.alloc(0),
  },
  {
    reader: 'image',
    path: 'images/text.jpg',
    expect: 'is not a JPEG or PNG file \\(starts with bytes 68 65 6c 6c\\)',
    bytes: () => Buffer.from('hello, not an image'),
  },
  {
    reader: 'image',
    path: 'images/gif.png',
    expect: 'is not a JPEG or PNG file \\(starts with bytes 47 49 46 38\\)',
    bytes: () => Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'),
  },
  {
    reader: 'image',
    path: 'images/jpeg-magic-only.jpg',
    expect: 'is a corrupt JPEG file',
    bytes: () => Buffer.from([0xff, 0xd8, 0xff]),
  },
  {
    reader: 'image',
    path: 'images/truncated-half.jpg',
    expect: 'is a corrupt JPEG file',
    bytes: () => goodJpeg().subarray(0, goodJpeg().length >> 1),
  },
  {
    reader: 'image',
    path: 'images/truncated-no-eoi.jpg',
    expect: 'is a corrupt JPEG file',
    bytes: () => goodJpeg().subarray(0, goodJpeg().length - 2),
  },
  {
    reader: 'image',
    path: 'images/truncated-scan-then-eoi.jpg',
    expect: 'is a corrupt JPEG file',
    bytes: () => Buffer.concat([goodJpeg().subarray(0, goodJpeg().length - 40), Buffer.from([0xff, 0xd9])]),
  },
  {
    reader: 'image',
    path: 'images/png-signature-only.png',
    expect: 'is a corrupt PNG file',
    bytes: () => goodPng().subarray(0, 8),
  },
  {
    reader: 'image',
    path: 'images/truncated.png',
    expect: 'is a corrupt PNG file: .*truncated',
    bytes: () => goodPng().subarray(0, goodPng().length - 20),
  },
  {
    reader: 'image',
    path: 'images/bad-crc.png',
    expect: 'is a corrupt PNG file',
    bytes: () => {
      const b = Buffer.from(goodPng());
      b[41 + b.readUInt32BE(33)] ^= 0xff; // the IDAT chunk's CRC
      return b;
    },
  },
  {
    reader: 'image',
    path: 'images/huge-dimensions.png',
    expect: 'declares a 60000x60000 PNG, over the 100-megapixel limit',
    bytes: () => pngWithSize(60000, 60000),
  },
  // ── CIFAR-10 binary (a folder read as the test split) ────────────────────────────────────────
  {
    reader: 'cifar10-binary',
    path: 'cifar/good',
    expect: null,
    folder: { 'test_batch.bin': cifarRecords([3, 7]) },
  },
  {
    reader: 'cifar10-binary',
    path: 'cifar/zero-bytes',
    expect: 'test_batch\\.bin has 0 bytes, expected a whole number of 3073-byte records',
    folder: { 'test_batch.bin': Buffer.alloc(0) },
  },
  {
    reader: 'cifar10-binary',
    path: 'cifar/truncated',
    expect: 'test_batch\\.bin has 7146 bytes, .*the file is truncated or not a CIFAR-10 batch',
    folder: { 'test_batch.bin': cifarRecords([1, 2, 3]).subarray(0, 7146) },
  },
  {
    reader: 'cifar10-binary',
    path: 'cifar/one-byte',
    expect: 'test_batch\\.bin has 1 bytes',
    folder: { 'test_batch.bin': Buffer.from([4]) },
  },
  {
    reader: 'cifar10-binary',
    path: 'cifar/bad-label',
    expect: 'test_batch\\.bin record 1 has label 12, expected 0\\.\\.9',
    folder: { 'test_batch.bin': cifarRecords([0, 12]) },
  },
  {
    reader: 'cifar10-binary',
    path: 'cifar/missing-batch',
    expect: 'missing batch file .*test_batch\\.bin',
    folder: { 'readme.txt': Buffer.from('no batches here') },
  },
  {
    reader: 'cifar10-binary',
    path: 'cifar/short-meta',
    expect: 'batches\\.meta\\.txt lists 3 class names, expected 10',
    folder: { 'test_batch.bin': cifarRecords([0]), 'batches.meta.txt': Buffer.from('cat\ndog\nbird\n') },
  },
  // ── ImageFolder (root/train/<class>/*) ───────────────────────────────────────────────────────
  {
    reader: 'image-folder',
    path: 'imagefolder/mixed',
    expect: null,
    // Every bad file is reported, in file order; strict mode stops at the first.
    skipped: ['a/trunc.jpg', 'a/zero.png', 'b/huge.png', 'b/text.jpg'],
    folder: {
      'train/a/good1.png': goodPng(),
      'train/a/trunc.jpg': goodJpeg().subarray(0, 100),
      'train/a/zero.png': Buffer.alloc(0),
      'train/b/good2.jpg': goodJpeg(),
      'train/b/huge.png': pngWithSize(60000, 60000),
      'train/b/text.jpg': Buffer.from('not an image'),
    },
  },
  {
    reader: 'image-folder',
    path: 'imagefolder/all-bad',
    expect:
      'none of the 3 files under .*could be decoded:\\n  a/x\\.jpg: .*\\n  a/y\\.png: .*\\n  b/z\\.jpg: ',
    folder: {
      'train/a/x.jpg': Buffer.alloc(0),
      'train/a/y.png': goodPng().subarray(0, 30),
      'train/b/z.jpg': Buffer.from('txt'),
    },
  },
  {
    reader: 'image-folder',
    path: 'imagefolder/no-classes',
    expect: 'has no class sub-folders',
    folder: { 'train/readme.txt': Buffer.from('x') },
  },
  {
    reader: 'image-folder',
    path: 'imagefolder/empty-class',
    expect: 'class folder .*train/a holds no \\.jpg/\\.jpeg/\\.png files',
    folder: { 'train/a/notes.txt': Buffer.from('x'), 'train/b/ok.png': goodPng() },
  },
  // ── TF.js layers model through fileSystemModelHandler (two weight shards) ───────────────────────
  { reader: 'layers-model', path: 'model/good', expect: null, model: {} },
  {
    reader: 'layers-model',
    path: 'model/missing-shard',
    expect: 'cannot read weight shard .*group1-shard2of2\\.bin: ENOENT',
    model: { shards: [MODEL_WEIGHTS.subarray(0, 20), null] },
  },
  {
    reader: 'layers-model',
    path: 'model/short-shard',
    expect: 'the weight shards of .*model\\.json hold 28 bytes, the manifest describes 32',
    model: { shards: [MODEL_WEIGHTS.subarray(0, 20), MODEL_WEIGHTS.subarray(20, 28)] },
  },
  {
    reader: 'layers-model',
    path: 'model/long-shard',
    expect: 'hold 36 bytes, the manifest describes 32',
    model: { shards: [MODEL_WEIGHTS.subarray(0, 20), Buffer.concat([MODEL_WEIGHTS.subarray(20), f32([0])])] },
  },
  {
    reader: 'layers-model',
    path: 'model/zero-byte-shards',
    expect: 'hold 0 bytes, the manifest describes 32',
    model: { shards: [Buffer.alloc(0), Buffer.alloc(0)] },
  },
  {
    reader: 'layers-model',
    path: 'model/model-json-not-json',
    expect: 'model\\.json is not valid JSON',
    model: { modelJson: '{"modelTopology": {' },
  },
  {
    reader: 'layers-model',
    path: 'model/model-json-zero-bytes',
    expect: 'model\\.json is not valid JSON',
    model: { modelJson: '' },
  },
  {
    reader: 'layers-model',
    path: 'model/no-topology',
    expect: "lacks 'modelTopology' or 'weightsManifest'",
    model: { modelJson: JSON.stringify({ weightsManifest: [] }) },
  },
  {
    reader: 'layers-model',
    path: 'model/no-model-json',
    expect: 'cannot read .*model\\.json: ENOENT',
    model: { modelJson: null },
  },
  // ── feature cache (openFeatureCache) ─────────────────────────────────────────────────────────
  { reader: 'feature-cache', path: 'features/good', expect: null, features: {} },
  {
    reader: 'feature-cache',
    path: 'features/manifest-not-json',
    expect: 'manifest\\.json is not valid JSON',
    features: { manifest: '{"format": "symseq-feature-cache",' },
  },
  {
    reader: 'feature-cache',
    path: 'features/manifest-zero-bytes',
    expect: 'manifest\\.json is not valid JSON',
    features: { manifest: '' },
  },
  {
    reader: 'feature-cache',
    path: 'features/no-manifest',
    expect: 'manifest\\.json does not exist',
    features: { manifest: null },
  },
  {
    reader: 'feature-cache',
    path: 'features/labels-wrong-type',
    expect: "field 'labels': Expected array, received string",
    features: { manifest: withManifest({ labels: '0,1,0' }) },
  },
  {
    reader: 'feature-cache',
    path: 'features/shapes-missing',
    expect: "field 'shapes': Required",
    features: { manifest: withManifest({ shapes: undefined }) },
  },
  {
    reader: 'feature-cache',
    path: 'features/labels-too-few',
    expect: '2 labels and 2 shards do not fit 3 images in shards of 2',
    features: { manifest: withManifest({ labels: [0, 1] }) },
  },
  {
    reader: 'feature-cache',
    // Not marked complete and a shard missing (all shards present would be a finished --shard build).
    path: 'features/incomplete',
    expect: 'the cache in .* is incomplete, .*run buildFeatureCache',
    features: { manifest: withManifest({ complete: false }), shards: [ramp(12), null] },
  },
  {
    reader: 'feature-cache',
    path: 'features/truncated-shard',
    expect: 'shard-00001\\.bin has 20 bytes, expected 24',
    features: { shards: [ramp(12), ramp(5)] },
  },
  {
    reader: 'feature-cache',
    path: 'features/missing-shard',
    expect: 'missing shard .*shard-00000\\.bin',
    features: { shards: [null, ramp(6)] },
  },
  // ── trainer config files (train --config) ────────────────────────────────────────────────────
  {
    reader: 'train-config',
    path: 'config/good.json',
    expect: null,
    bytes: () => Buffer.from(JSON.stringify({ optim: { epochs: 1 } })),
  },
  {
    reader: 'train-config',
    path: 'config/not-json.json',
    expect: 'not-json\\.json: not valid JSON',
    bytes: () => Buffer.from('{ "optim": { "epochs": 1 '),
  },
  {
    reader: 'train-config',
    path: 'config/zero-bytes.json',
    expect: 'zero-bytes\\.json: not valid JSON',
    bytes: () => Buffer.alloc(0),
  },
  {
    reader: 'train-config',
    path: 'config/lr-is-string.json',
    expect: 'optim\\.lr: Expected number, received string',
    bytes: () => Buffer.from('{"optim": {"lr": "fast"}}'),
  },
  {
    reader: 'train-config',
    path: 'config/epochs-fraction.json',
    expect: 'optim\\.epochs: Expected integer, received float',
    bytes: () => Buffer.from('{"optim": {"epochs": 1.5}}'),
  },
  {
    reader: 'train-config',
    path: 'config/unknown-key.json',
    expect: "optm: unknown key \\(did you mean 'optim'\\?\\)",
    bytes: () => Buffer.from('{"optm": {"epochs": 1}}'),
  },
  {
    reader: 'train-config',
    path: 'config/section-is-array.json',
    expect: 'optim: Expected object, received array',
    bytes: () => Buffer.from('{"optim": [1]}'),
  },
];

function writeCase(c, abs) {
  if (c.bytes) {
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, c.bytes());
  } else if (c.files) {
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(`${abs}.json`, c.files.json);
    writeFileSync(`${abs}.safetensors`, c.files.safetensors);
  } else if (c.folder) {
    for (const [rel, bytes] of Object.entries(c.folder)) {
      mkdirSync(dirname(join(abs, rel)), { recursive: true });
      writeFileSync(join(abs, rel), bytes);
    }
  } else if (c.model) {
    layersModel(abs, c.model);
  } else if (c.features) {
    featureCache(abs, c.features);
  }
}

/**
 * Writes the corpus into `outDir` (replacing it) and returns its cases with absolute paths:
 * `{ reader, path, expect: RegExp | null, skipped? }`.
 */
export function generateMalformedCorpus(outDir) {
  const root = resolve(outDir);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const cases = CASES.map((c) => {
    const abs = join(root, c.path);
    writeCase(c, abs);
    return {
      reader: c.reader,
      path: abs,
      expect: c.expect === null ? null : new RegExp(c.expect),
      skipped: c.skipped,
    };
  });
  writeFileSync(
    join(root, 'cases.json'),
    `${JSON.stringify(
      CASES.map(({ reader, path, expect, skipped }) => ({ reader, path, expect, skipped })),
      null,
      1,
    )}\n`,
  );
  return cases;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), 'out');
  const cases = generateMalformedCorpus(out);
  const byReader = {};
  for (const c of cases) byReader[c.reader] = (byReader[c.reader] ?? 0) + 1;
  const malformed = cases.filter((c) => c.expect !== null || c.skipped).length;
  console.log(
    `wrote ${cases.length} cases (${malformed} malformed, ${cases.length - malformed} controls) to ${out}`,
  );
  for (const [r, n] of Object.entries(byReader)) console.log(`  ${r}: ${n}`);
}
