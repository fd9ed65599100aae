import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { LayersModelTeacher, SIGNED_UNIT_NORMALIZATION } from '../src';
import { preprocessImages } from '../src/preprocess';

/** input [8, 8, 3] → 1×1 conv 'feat' (2 filters, ReLU) → stride-2 conv 'down' → flatten → dense 'logits'. */
function tinyModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 3] });
  const feat = tfl.layers
    .conv2d({ name: 'feat', filters: 2, kernelSize: 1, activation: 'relu', useBias: true })
    .apply(input) as tfl.SymbolicTensor;
  const down = tfl.layers
    .conv2d({ name: 'down', filters: 5, kernelSize: 2, strides: 2 })
    .apply(feat) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ name: 'logits', units: 3 }).apply(tfl.layers.flatten().apply(down));
  const model = tfl.model({ inputs: input, outputs: logits as tfl.SymbolicTensor, name: 'tiny' });
  // feat: out_f = relu(Σ_c x_c · W[c, f] + b_f)
  model
    .getLayer('feat')
    .setWeights([tf.tensor4d([1, -1, 2, 0.5, -1, 1], [1, 1, 3, 2]), tf.tensor1d([0.1, -0.2])]);
  return model;
}

describe('LayersModelTeacher', () => {
  it('turns feature-map cells into row-major tokens and their mean into pooled (hand-computed)', () => {
    const teacher = new LayersModelTeacher(tinyModel(), {
      layer: 'feat',
      inputSize: 4,
      normalization: SIGNED_UNIT_NORMALIZATION,
    });
    expect(teacher.dims).toEqual({ tokenDim: 2, pooledDim: 2, grid: [4, 4], numTokens: 16 });
    const pixels = Array.from({ length: 2 * 4 * 4 * 3 }, (_, i) => ((i * 37) % 101) / 100);
    const images = tf.tensor4d(pixels, [2, 4, 4, 3]);
    const out = teacher.forward(images);
    expect(out.grid).toEqual([4, 4]);
    expect(out.tokens.shape).toEqual([2, 16, 2]);
    expect(out.attention).toBeUndefined();
    const W = [
      [1, -1],
      [2, 0.5],
      [-1, 1],
    ];
    const b = [0.1, -0.2];
    const tokens = out.tokens.arraySync();
    const pooled = out.pooled.arraySync();
    for (let n = 0; n < 2; n++) {
      const sum = [0, 0];
      for (let cell = 0; cell < 16; cell++) {
        for (let f = 0; f < 2; f++) {
          let v = b[f];
          for (let c = 0; c < 3; c++) v += (pixels[(n * 16 + cell) * 3 + c] * 2 - 1) * W[c][f];
          v = Math.max(v, 0);
          sum[f] += v;
          expect(tokens[n][cell][f]).toBeCloseTo(v, 5);
        }
      }
      for (let f = 0; f < 2; f++) expect(pooled[n][f]).toBeCloseTo(sum[f] / 16, 5);
    }
    tf.dispose([images, out.tokens, out.pooled]);
    teacher.dispose();
  });

  it('measures the grid of strided layers and runs only up to the layer (other input sizes work)', () => {
    const teacher = new LayersModelTeacher(tinyModel(), { layer: 'down', inputSize: 12 });
    expect(teacher.dims).toEqual({ tokenDim: 5, pooledDim: 5, grid: [6, 6], numTokens: 36 });
    const out = teacher.forward(tf.ones([3, 7, 9, 3]) as tf.Tensor4D);
    expect(out.tokens.shape).toEqual([3, 36, 5]);
    expect(out.pooled.shape).toEqual([3, 5]);
    expect(teacher.id).toBe('tiny/down@12');
    teacher.dispose();
  });

  it('takes tokens from one layer and pooled from another in one execution (hand-computed)', () => {
    const model = tinyModel();
    // down: out[i, j, f] = b_f + Σ_{di, dj, c} feat[2i + di, 2j + dj, c] · W[di, dj, c, f]
    const wDown = (di: number, dj: number, c: number, f: number) =>
      ((((di * 2 + dj) * 2 + c + f) % 5) - 2) / 4;
    const wValues: number[] = [];
    for (let di = 0; di < 2; di++)
      for (let dj = 0; dj < 2; dj++)
        for (let c = 0; c < 2; c++) for (let f = 0; f < 5; f++) wValues.push(wDown(di, dj, c, f));
    model
      .getLayer('down')
      .setWeights([tf.tensor4d(wValues, [2, 2, 2, 5]), tf.tensor1d([0, 0.1, 0.2, 0.3, 0.4])]);
    let executions = 0;
    const counting = {
      name: model.name,
      layers: model.layers,
      getLayer: (name: string) => model.getLayer(name),
      execute: (x: tf.Tensor, outputs: string | string[]) => {
        executions++;
        return model.execute(x, outputs);
      },
      dispose: () => model.dispose(),
    };
    // Layer by layer, to count model executions (folded, the model is not executed at all).
    const teacher = new LayersModelTeacher(counting, {
      layer: 'feat',
      pooledLayer: 'down',
      inputSize: 4,
      fold: false,
    });
    expect(teacher.dims).toEqual({ tokenDim: 2, pooledDim: 5, grid: [4, 4], numTokens: 16 });
    expect(teacher.pooledGrid).toEqual([2, 2]);
    expect(teacher.layers).toEqual({ tokens: 'feat', pooled: 'down' });
    expect(teacher.id).toBe('tiny/feat+pooled:down@4');
    const pixels = Array.from({ length: 4 * 4 * 3 }, (_, i) => ((i * 53) % 97) / 96);
    const images = tf.tensor4d(pixels, [1, 4, 4, 3]);
    executions = 0;
    const out = teacher.forward(images);
    expect(executions).toBe(1);
    expect(out.tokens.shape).toEqual([1, 16, 2]);
    expect(out.pooled.shape).toEqual([1, 5]);
    const W = [
      [1, -1],
      [2, 0.5],
      [-1, 1],
    ];
    const b = [0.1, -0.2];
    const feat = (cell: number, f: number) => {
      let v = b[f];
      for (let c = 0; c < 3; c++) v += pixels[cell * 3 + c] * W[c][f];
      return Math.max(v, 0);
    };
    const tokens = out.tokens.arraySync()[0];
    for (let cell = 0; cell < 16; cell++)
      for (let f = 0; f < 2; f++) expect(tokens[cell][f]).toBeCloseTo(feat(cell, f), 5);
    const pooled = out.pooled.arraySync()[0];
    for (let f = 0; f < 5; f++) {
      let sum = 0;
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 2; j++) {
          sum += f * 0.1;
          for (let di = 0; di < 2; di++)
            for (let dj = 0; dj < 2; dj++)
              for (let c = 0; c < 2; c++) sum += feat((2 * i + di) * 4 + 2 * j + dj, c) * wDown(di, dj, c, f);
        }
      expect(pooled[f]).toBeCloseTo(sum / 4, 5);
    }
    tf.dispose([images, out.tokens, out.pooled]);
    teacher.dispose();
  });

  it('names the option and the closest layer when pooledLayer does not exist', () => {
    expect(
      () => new LayersModelTeacher(tinyModel(), { layer: 'feat', pooledLayer: 'dwn', inputSize: 8 }),
    ).toThrow("LayersModelTeacher: model 'tiny' has no layer 'dwn' for pooledLayer (did you mean 'down'?)");
    expect(
      () => new LayersModelTeacher(tinyModel(), { layer: 'feat', pooledLayer: 'logits', inputSize: 8 }),
    ).toThrow(
      "LayersModelTeacher: layer 'logits' outputs shape [1, 3], expected a feature map [batch, h, w, channels]",
    );
  });

  it('explains a wrong layer name or a layer without a feature map', () => {
    expect(() => new LayersModelTeacher(tinyModel(), { layer: 'fet', inputSize: 8 })).toThrow(
      "LayersModelTeacher: model 'tiny' has no layer 'fet' (did you mean 'feat'?)",
    );
    expect(() => new LayersModelTeacher(tinyModel(), { layer: 'logits', inputSize: 8 })).toThrow(
      "LayersModelTeacher: layer 'logits' outputs shape [1, 3], expected a feature map [batch, h, w, channels]",
    );
    expect(() => new LayersModelTeacher(tinyModel(), { layer: 'feat', inputSize: 0 })).toThrow(
      'LayersModelTeacher: inputSize must be a positive integer, got 0',
    );
  });

  it('rejects images that are not [B, H, W, 3] float32', () => {
    const teacher = new LayersModelTeacher(tinyModel(), { layer: 'feat', inputSize: 8 });
    expect(() => teacher.forward(tf.zeros([8, 8, 3]) as unknown as tf.Tensor4D)).toThrow(
      "LayersModelTeacher 'tiny/feat@8': images must be [batch, height, width, 3], got shape [8, 8, 3]",
    );
    expect(() => teacher.forward(tf.zeros([1, 8, 8, 1]) as tf.Tensor4D)).toThrow(/must have 3 channels/);
    teacher.dispose();
  });
});

describe('preprocessImages', () => {
  it('upsamples with half-pixel centres (a ramp 0,1 → 0, .25, .75, 1) and then normalises', () => {
    const ramp = tf.tensor4d([0, 0, 0, 1, 1, 1], [1, 1, 2, 3]);
    const x = preprocessImages(ramp, 4, SIGNED_UNIT_NORMALIZATION, 'test');
    const row = (x.arraySync() as number[][][][])[0][0].map((px) => px[0]);
    [-1, -0.5, 0.5, 1].forEach((v, i) => {
      expect(row[i]).toBeCloseTo(v, 6);
    });
    tf.dispose([ramp, x]);
  });
});
