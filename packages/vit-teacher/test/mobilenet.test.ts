import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LayersModelTeacher, MOBILENET_V1_075_URL, mobilenetTeacher } from '../src';

const SHARED = fileURLToPath(new URL('../../../../shared', import.meta.url));
const MODEL_JSON = join(SHARED, 'models/mobilenet_v1_0.75_224/model.json');
const CIFAR = join(SHARED, 'data/cifar10-jpeg');
const available =
  existsSync(MODEL_JSON) && existsSync(join(CIFAR, 'train')) && existsSync(join(CIFAR, 'test'));
if (!available) {
  console.warn(
    `mobilenet.test: skipped: needs ${MODEL_JSON} and ${CIFAR} (the shared models and data folder)`,
  );
}

/** A TF.js IOHandler reading model.json and its weight shards from disk. */
function fileHandler(modelJson: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(readFileSync(modelJson, 'utf8'));
      const weightSpecs: tf.io.WeightsManifestEntry[] = [];
      const shards: Uint8Array[] = [];
      for (const group of json.weightsManifest as tf.io.WeightsManifestConfig[number][]) {
        for (const p of group.paths) shards.push(readFileSync(join(dirname(modelJson), p)));
        weightSpecs.push(...group.weights);
      }
      const weightData = new Uint8Array(shards.reduce((n, s) => n + s.byteLength, 0));
      let offset = 0;
      for (const s of shards) {
        weightData.set(s, offset);
        offset += s.byteLength;
      }
      return {
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData: weightData.buffer,
        format: json.format,
      };
    },
  };
}

/** The first `perClass` images of every class of a split as [N, 32, 32, 3] in [0, 1], with labels. */
function loadCifar(split: 'train' | 'test', perClass: number): { images: Float32Array; labels: number[] } {
  const classes = readdirSync(join(CIFAR, split)).sort();
  const images = new Float32Array(classes.length * perClass * 32 * 32 * 3);
  const labels: number[] = [];
  let p = 0;
  classes.forEach((cls, label) => {
    const files = readdirSync(join(CIFAR, split, cls))
      .sort()
      .slice(0, perClass);
    for (const f of files) {
      const { data, width, height } = jpeg.decode(readFileSync(join(CIFAR, split, cls, f)), {
        useTArray: true,
      });
      expect([width, height]).toEqual([32, 32]);
      for (let i = 0; i < 32 * 32; i++) for (let c = 0; c < 3; c++) images[p++] = data[i * 4 + c] / 255;
      labels.push(label);
    }
  });
  return { images, labels };
}

/** Weighted k-NN top-1 (DINO's protocol): cosine similarity, k nearest, votes exp(sim / T). */
function knnTop1(
  train: tf.Tensor2D,
  trainLabels: number[],
  test: tf.Tensor2D,
  testLabels: number[],
  k = 20,
  T = 0.07,
) {
  const sims = tf.tidy(() => {
    const norm = (x: tf.Tensor2D) => tf.div(x, tf.add(tf.sqrt(tf.sum(tf.square(x), 1, true)), 1e-12));
    return tf.matMul(norm(test), norm(train), false, true).arraySync() as number[][];
  });
  const classes = Math.max(...trainLabels) + 1;
  let correct = 0;
  sims.forEach((row, q) => {
    // the k largest similarities, kept sorted (descending) by insertion
    const best: [number, number][] = [];
    row.forEach((s, i) => {
      if (best.length === k && s <= best[k - 1][0]) return;
      let j = Math.min(best.length, k - 1);
      best[j] = [s, i];
      while (j > 0 && best[j - 1][0] < s) {
        [best[j - 1], best[j]] = [best[j], best[j - 1]];
        j--;
      }
    });
    const votes = new Float64Array(classes);
    for (const [s, i] of best) votes[trainLabels[i]] += Math.exp(s / T);
    if (votes.indexOf(Math.max(...votes)) === testLabels[q]) correct++;
  });
  return correct / testLabels.length;
}

describe.skipIf(!available)('MobileNetV1 0.75 teacher on real weights and CIFAR-10', () => {
  let model: tfl.LayersModel;
  let teacher: LayersModelTeacher;
  beforeAll(async () => {
    model = await tfl.loadLayersModel(fileHandler(MODEL_JSON));
    teacher = mobilenetTeacher({ model, inputSize: 64 });
  });
  afterAll(() => teacher?.dispose());

  it('exposes the official model URL and the default 128 px input', () => {
    expect(MOBILENET_V1_075_URL).toBe(
      'https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_0.75_224/model.json',
    );
    const t128 = mobilenetTeacher({ model });
    expect(t128.inputSize).toBe(128);
    expect(t128.dims).toEqual({ tokenDim: 768, pooledDim: 768, grid: [4, 4], numTokens: 16 });
    expect(t128.id).toBe('mobilenet_v1_0.75/conv_pw_13_relu@128');
  });

  it('gives 2×2 grids of 768-d tokens at 64 px, deterministic, batch-independent, pooled = mean', () => {
    const { images } = loadCifar('test', 1);
    const batch = tf.tensor4d(images, [10, 32, 32, 3]);
    expect(teacher.dims).toEqual({ tokenDim: 768, pooledDim: 768, grid: [2, 2], numTokens: 4 });
    const before = tf.memory().numTensors;
    const a = teacher.forward(batch);
    const b = teacher.forward(batch);
    expect(a.tokens.shape).toEqual([10, 4, 768]);
    expect(a.grid).toEqual([2, 2]);
    expect(Array.from(a.tokens.dataSync())).toEqual(Array.from(b.tokens.dataSync()));
    const tokens = a.tokens.arraySync();
    const pooled = a.pooled.arraySync();
    for (const c of [0, 100, 767]) {
      expect(pooled[3][c]).toBeCloseTo(
        (tokens[3][0][c] + tokens[3][1][c] + tokens[3][2][c] + tokens[3][3][c]) / 4,
        5,
      );
    }
    // ReLU features, not all zero
    expect(Math.min(...a.tokens.dataSync())).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a.pooled.dataSync())).toBeGreaterThan(0.1);
    const single = tf.slice(batch, [3, 0, 0, 0], [1, 32, 32, 3]);
    const alone = teacher.forward(single);
    const row = a.pooled.arraySync()[3];
    alone.pooled.arraySync()[0].forEach((v, c) => {
      expect(v).toBeCloseTo(row[c], 4);
    });
    tf.dispose([a.tokens, a.pooled, b.tokens, b.pooled, alone.tokens, alone.pooled, single]);
    expect(tf.memory().numTensors).toBe(before);
    batch.dispose();
  });

  it('folded and layer by layer, matches a float64 torch rebuild of the same weights at 128 px (3e-5)', () => {
    // tools/reference/mobilenet_reference.py: 4 CIFAR-10 test images, decoded by PIL and stored as pixels.
    const ref = JSON.parse(
      readFileSync(fileURLToPath(new URL('./fixtures/mobilenet_reference.json', import.meta.url)), 'utf8'),
    ) as { pixels: number[]; pooled: number[]; tokensMean: number[]; cells: number[]; tokenCells: number[] };
    const batch = tf.tidy(() => tf.div(tf.tensor4d(ref.pixels, [4, 32, 32, 3]), 255) as tf.Tensor4D);
    const opts = { model, inputSize: 128, layer: 'conv_pw_11_relu', pooledLayer: 'conv_pw_13_relu' };
    const folded = mobilenetTeacher(opts);
    const layered = mobilenetTeacher({ ...opts, fold: false });
    expect(folded.execution).toBe('folded');
    expect(folded.id).toBe(layered.id); // the same features: caches made either way stay valid
    const relErr = (actual: ArrayLike<number>, expected: number[]): number => {
      let scale = 0;
      let err = 0;
      expected.forEach((e, i) => {
        scale = Math.max(scale, Math.abs(e));
        err = Math.max(err, Math.abs(actual[i] - e));
      });
      return err / scale;
    };
    for (const teacher of [folded, layered]) {
      const before = tf.memory().numTensors;
      const out = teacher.forward(batch);
      const tokens = out.tokens.arraySync();
      const cells = tokens.flatMap((img) => ref.cells.flatMap((c) => img[c]));
      const means = tf.tidy(() => tf.mean(out.tokens, 1).dataSync());
      expect(relErr(out.pooled.dataSync(), ref.pooled), `${teacher.execution} pooled`).toBeLessThan(3e-5);
      expect(relErr(means, ref.tokensMean), `${teacher.execution} token means`).toBeLessThan(3e-5);
      expect(relErr(cells, ref.tokenCells), `${teacher.execution} token cells`).toBeLessThan(3e-5);
      tf.dispose([out.tokens, out.pooled]);
      expect(tf.memory().numTensors).toBe(before);
    }
    batch.dispose();
  });

  it('tokens from conv_pw_11_relu (8×8 at 128 px) and pooled from conv_pw_13_relu in one teacher', () => {
    const both = mobilenetTeacher({
      model,
      inputSize: 128,
      layer: 'conv_pw_11_relu',
      pooledLayer: 'conv_pw_13_relu',
    });
    expect(both.dims).toEqual({ tokenDim: 384, pooledDim: 768, grid: [8, 8], numTokens: 64 });
    expect(both.pooledGrid).toEqual([4, 4]);
    expect(both.id).toBe('mobilenet_v1_0.75/conv_pw_11_relu+pooled:conv_pw_13_relu@128');
    // The same layers alone, each through the one-layer path.
    const tokensOnly = mobilenetTeacher({ model, inputSize: 128, layer: 'conv_pw_11_relu' });
    const pooledOnly = mobilenetTeacher({ model, inputSize: 128 });
    const { images } = loadCifar('test', 1);
    const batch = tf.tensor4d(images.subarray(0, 4 * 3072), [4, 32, 32, 3]);
    const before = tf.memory().numTensors;
    const a = both.forward(batch);
    const t = tokensOnly.forward(batch);
    const p = pooledOnly.forward(batch);
    expect(a.tokens.shape).toEqual([4, 64, 384]);
    expect(a.pooled.shape).toEqual([4, 768]);
    expect(a.grid).toEqual([8, 8]);
    expect(Array.from(a.tokens.dataSync())).toEqual(Array.from(t.tokens.dataSync()));
    // pooled = the mean of conv_pw_13_relu's 16 cells, averaged here in JavaScript
    const cells = p.tokens.arraySync();
    const pooled = a.pooled.arraySync();
    for (let n = 0; n < 4; n++) {
      for (const c of [0, 1, 383, 500, 767]) {
        let sum = 0;
        for (let cell = 0; cell < 16; cell++) sum += cells[n][cell][c];
        expect(pooled[n][c]).toBeCloseTo(sum / 16, 5);
      }
    }
    expect(Math.max(...a.pooled.dataSync())).toBeGreaterThan(0.1);
    tf.dispose([a.tokens, a.pooled, t.tokens, t.pooled, p.tokens, p.pooled]);
    expect(tf.memory().numTensors).toBe(before);
    batch.dispose();
    expect(() => mobilenetTeacher({ model, pooledLayer: 'conv_pw_13_rel' })).toThrow(
      "LayersModelTeacher: model 'mobilenet_0.75_224' has no layer 'conv_pw_13_rel' for pooledLayer (did you mean 'conv_pw_13_relu'?)",
    );
  });

  it('pooled features give > 50% weighted 20-NN top-1 on 2,000 train / 500 test images (raw pixels ~25%)', async () => {
    const train = loadCifar('train', 200);
    const test = loadCifar('test', 50);
    const features = async (images: Float32Array, n: number): Promise<tf.Tensor2D> => {
      const parts: tf.Tensor2D[] = [];
      for (let i = 0; i < n; i += 100) {
        const m = Math.min(100, n - i);
        parts.push(
          tf.tidy(() => {
            const batch = tf.tensor4d(images.subarray(i * 3072, (i + m) * 3072), [m, 32, 32, 3]);
            const out = teacher.forward(batch);
            return out.pooled;
          }),
        );
        // let the test runner's messages through between batches
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      const all = tf.concat(parts) as tf.Tensor2D;
      tf.dispose(parts);
      return all;
    };
    const t0 = performance.now();
    const fTrain = await features(train.images, 2000);
    const fTest = await features(test.images, 500);
    const t1 = performance.now();
    const acc = knnTop1(fTrain, train.labels, fTest, test.labels);
    const rawTrain = tf.tensor2d(train.images, [2000, 3072]);
    const rawTest = tf.tensor2d(test.images, [500, 3072]);
    const rawAcc = knnTop1(rawTrain, train.labels, rawTest, test.labels);
    console.log(
      `MobileNet@64 pooled 20-NN top-1 ${(acc * 100).toFixed(1)}%, raw pixels ${(rawAcc * 100).toFixed(1)}% (features ${((t1 - t0) / 2500).toFixed(1)} ms/img)`,
    );
    expect(acc).toBeGreaterThan(0.5);
    expect(acc).toBeGreaterThan(rawAcc + 0.15);
    tf.dispose([fTrain, fTest, rawTrain, rawTest]);
  });
});
