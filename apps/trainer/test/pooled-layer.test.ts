// teacher.pooledLayer: tokens from one layer (8 channels), the pooled feature from a deeper one (12
// channels), through the built CLI: train → eval → encode → attn → export. Needs the built CLI (npm run build).
import '@tensorflow/tfjs-core';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileSystemModelHandler, openFeatureCache } from '@symseq/data';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyStudent } from './helpers';
import { cliPath, runCli, tinyRunFolder, writeTinyInputs } from './tiny-image-run';

const tiny = tinyRunFolder('symseq-pooled-');
const { root, dataDir, teacherDir, configPath } = tiny;
const run = join(root, 'run');
const cacheDir = join(root, 'cache');

const CONFIG = {
  name: 'pooled-layer',
  seed: 3,
  data: { dataset: 'imagefolder' },
  teacher: { kind: 'mobilenet', inputSize: 16, tokensLayer: 'feat', pooledLayer: 'deep', batchSize: 8 },
  cache: { dir: cacheDir, dtype: 'float32' },
  student: tinyStudent(16),
  objective: { kind: 'features', lengths: [1, 2, 4] },
  optim: { epochs: 2, batchSize: 8, warmupEpochs: 0.5 },
  eval: { lengths: [1, 2, 4], k: 3 },
  checkpointEvery: 4,
  logEvery: 1,
};

const common = ['--teacher', teacherDir, '--backend', 'wasm', '-q'];

beforeAll(async () => {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npm run build first`);
  await writeTinyInputs(tiny, { train: 12, test: 4 }, CONFIG, { deepChannels: 12 });
}, 60_000);

/** The cache folder of a split (there is one teacher folder under cache/features). */
function splitCache(split: string): string {
  const teacher = readdirSync(join(cacheDir, 'features'));
  expect(teacher).toEqual(['mobilenet_v1_0.75_feat_pooled_deep@16']);
  const base = join(cacheDir, 'features', teacher[0]);
  const dirs = readdirSync(base).filter((d) => d.startsWith(`${split}-`));
  expect(dirs).toHaveLength(1);
  return join(base, dirs[0]);
}

describe('tokens and pooled features from layers of different widths', () => {
  it('train → eval → encode → attn → export through the CLI', async () => {
    const t = runCli(['train', '-c', configPath, '--data-dir', dataDir, '-o', run, ...common]);
    expect(t.status, t.err).toBe(0);
    expect(t.out).toContain('teacher: mobilenet_v1_0.75/feat+pooled:deep@16 (16 tokens × 8)');

    // The cache: tokens [n, 1, 4, 8], pooled [n, 1, 12].
    const test = await openFeatureCache(splitCache('test'));
    expect(test.manifest.shapes).toEqual({ tokens: [8, 1, 16, 8], pooled: [8, 1, 12] });
    // Pooled = the mean over the 2×2 map of 'deep', computed here with tfjs-layers' own predict on the
    // PNGs (MobileNet normalisation: [0, 1] → [−1, 1]), in the dataset's class-then-file order.
    const model = await tfl.loadLayersModel(fileSystemModelHandler(teacherDir));
    expect(Array.from(test.labels)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    const files = ['c0', 'c1'].flatMap((c) =>
      readdirSync(join(dataDir, 'test', c))
        .sort()
        .map((f) => join(dataDir, 'test', c, f)),
    );
    const pixels = new Float32Array(8 * 16 * 16 * 3);
    files.forEach((f, i) => {
      const png = PNG.sync.read(readFileSync(f));
      for (let p = 0; p < 256; p++)
        for (let c = 0; c < 3; c++) pixels[(i * 256 + p) * 3 + c] = (png.data[p * 4 + c] / 255) * 2 - 1;
    });
    const deep = tf.tidy(() =>
      tf.mean(model.predict(tf.tensor4d(pixels, [8, 16, 16, 3])) as tf.Tensor4D, [1, 2]).dataSync(),
    );
    model.dispose();
    const cached = test.pooled([0, 1, 2, 3, 4, 5, 6, 7]);
    let worst = 0;
    for (let i = 0; i < deep.length; i++) worst = Math.max(worst, Math.abs(cached[i] - deep[i]));
    expect(worst).toBeLessThan(1e-4);

    // The student reads 8-wide tokens and its projector scores the 12-wide pooled feature.
    const student = JSON.parse(readFileSync(join(run, 'student.json'), 'utf8'));
    expect(student.config.teacherDim).toBe(8);
    expect(student.config.projector.outDim).toBe(12);
    const report = JSON.parse(readFileSync(join(run, 'report.json'), 'utf8'));
    expect(report.result.rows.map((r: { length: number }) => r.length)).toEqual([1, 2, 4]);

    const e = runCli(['eval', '-r', run, '--data-dir', dataDir, ...common]);
    expect(e.status, e.err).toBe(0);
    expect(e.out).toMatch(/\| 4 \|/);

    const out = join(root, 'symbols.jsonl');
    const enc = runCli(['encode', '-r', run, join(dataDir, 'test'), '-o', out, '--teacher', teacherDir]);
    expect(enc.status, enc.err).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(8);
    for (const l of lines) {
      expect(l.symbols).toHaveLength(4);
      for (const s of l.symbols) expect(s >= 0 && s < 8).toBe(true);
    }

    const a = runCli([
      'attn',
      '-r',
      run,
      '--per-class',
      '1',
      '--consistency-per-class',
      '2',
      '--data-dir',
      dataDir,
      ...common,
    ]);
    expect(a.status, a.err).toBe(0);
    expect(a.out).toContain('attention map across 2 test images per class');
    expect(a.out).toContain('Grid 4×4');

    const exp = join(root, 'export');
    const x = runCli(['export', '-r', run, '-o', exp, '--per-class', '2', '--data-dir', dataDir, ...common]);
    expect(x.status, x.err).toBe(0);
    const manifest = JSON.parse(readFileSync(join(exp, 'manifest.json'), 'utf8'));
    expect(manifest.teacher).toMatchObject({ layer: 'feat', inputSize: 16 });
    expect(manifest.grid).toEqual([4, 4]);
    const gallery = JSON.parse(readFileSync(join(exp, 'gallery.json'), 'utf8'));
    expect(gallery).toHaveLength(4);
    // The export encodes by the same path as `encode`: the first test image's symbols agree.
    const first = lines.find((l) => l.file.endsWith(join('c0', '000.png')));
    expect(gallery[0].symbols).toEqual(first.symbols);
  }, 240_000);
});
