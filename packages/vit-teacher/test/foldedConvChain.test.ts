import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayersModelTeacher } from '../src';
import { type ChainLayerLike, FoldedConvChain } from '../src/foldedConvChain';
import { preprocessImages, SIGNED_UNIT_NORMALIZATION } from '../src/preprocess';

/** Deterministic pseudo-random values in [lo, hi). */
function values(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

/** Gives every weight of the model seeded random values; batch-norm variances in [0.2, 3). */
function randomize(model: tfl.LayersModel, seed: number): void {
  for (const [i, layer] of model.layers.entries()) {
    const ws = layer.weights.map((w, j) => {
      const n = w.shape.reduce((a: number, b) => a * (b as number), 1);
      const variance = (w as unknown as { originalName: string }).originalName.endsWith('moving_variance');
      return tf.tensor(
        values(n, seed + 97 * i + j, variance ? 0.2 : -1, variance ? 3 : 1),
        w.shape as number[],
      );
    });
    if (ws.length > 0) layer.setWeights(ws);
    tf.dispose(ws);
  }
}

/**
 * Every case the folding handles: zero padding; a valid stride-2 conv without bias → batch-norm →
 * relu6 Activation; a depthwise conv (bias, depth multiplier 2) → batch-norm without centre → ReLU
 * layer clipped at 6; a 1×1 conv with its own relu; dropout; then a batch-norm after that relu, which
 * cannot fold (the chain is refused when it is needed) and a tanh.
 */
function chainModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [9, 9, 3] });
  let h = tfl.layers
    .zeroPadding2d({
      name: 'pad',
      padding: [
        [1, 0],
        [0, 1],
      ],
    })
    .apply(input);
  h = tfl.layers
    .conv2d({ name: 'c1', filters: 6, kernelSize: 3, strides: 2, padding: 'valid', useBias: false })
    .apply(h);
  h = tfl.layers.batchNormalization({ name: 'c1_bn', epsilon: 1e-3 }).apply(h);
  h = tfl.layers.activation({ name: 'c1_relu', activation: 'relu6' }).apply(h);
  h = tfl.layers
    .depthwiseConv2d({ name: 'dw', kernelSize: 3, depthMultiplier: 2, padding: 'same', useBias: true })
    .apply(h);
  h = tfl.layers.batchNormalization({ name: 'dw_bn', center: false }).apply(h);
  h = tfl.layers.reLU({ name: 'dw_relu', maxValue: 6 }).apply(h);
  h = tfl.layers.conv2d({ name: 'pw', filters: 5, kernelSize: 1, activation: 'relu' }).apply(h);
  h = tfl.layers.dropout({ name: 'drop', rate: 0.5 }).apply(h);
  h = tfl.layers.batchNormalization({ name: 'late_bn', scale: false }).apply(h);
  h = tfl.layers.activation({ name: 'squash', activation: 'tanh' }).apply(h);
  const model = tfl.model({ inputs: input, outputs: h as tfl.SymbolicTensor, name: 'chain' });
  randomize(model, 7);
  return model;
}

function layerByLayer(model: tfl.LayersModel, x: tf.Tensor, names: string[]): tf.Tensor[] {
  const r = model.execute(
    x,
    names.map((n) => (model.getLayer(n).output as tfl.SymbolicTensor).name),
  );
  return Array.isArray(r) ? r : [r];
}

/** max |a − b| / max |b|, with equal shapes. */
function maxRelErr(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  let scale = 0;
  let err = 0;
  for (let i = 0; i < y.length; i++) {
    scale = Math.max(scale, Math.abs(y[i]));
    err = Math.max(err, Math.abs(x[i] - y[i]));
  }
  return err / scale;
}

function compile(model: tfl.LayersModel, names: string[]): FoldedConvChain {
  const compiled = FoldedConvChain.compile(model.layers as unknown as ChainLayerLike[], names);
  if (!('chain' in compiled)) throw new Error(compiled.reason);
  return compiled.chain;
}

describe('FoldedConvChain', () => {
  let x: tf.Tensor4D;
  beforeAll(() => {
    x = tf.tensor4d(values(2 * 9 * 9 * 3, 3, -10, 10), [2, 9, 9, 3]);
  });
  afterAll(() => x.dispose());

  it('folds each conv → batch-norm → activation block into one step', () => {
    const model = chainModel();
    const chain = compile(model, ['drop']);
    expect(chain.steps.map((s) => [s.kind, s.layers, s.kind === 'pad' ? s.paddings : s.activation])).toEqual([
      [
        'pad',
        ['pad'],
        [
          [1, 0],
          [0, 1],
        ],
      ],
      ['conv2d', ['c1', 'c1_bn', 'c1_relu'], 'relu6'],
      ['depthwise', ['dw', 'dw_bn', 'dw_relu'], 'relu6'],
      ['conv2d', ['pw', 'drop'], 'relu'],
    ]);
    chain.dispose();
    model.dispose();
  });

  it('equals the layer-by-layer model at every block end, with both clips engaged', () => {
    const model = chainModel();
    const names = ['c1_relu', 'dw_relu', 'drop'];
    const chain = compile(model, names);
    const folded = chain.execute(x, names);
    const reference = layerByLayer(model, x, names);
    for (const [i, name] of names.entries()) {
      expect(maxRelErr(folded[i], reference[i]), name).toBeLessThan(1e-5);
    }
    // The inputs are scaled so that relu6 clips at both ends somewhere (else the test proves less).
    const c1 = reference[0].dataSync();
    expect(c1.some((v) => v === 0) && c1.some((v) => v === 6)).toBe(true);
    const dw = reference[1].dataSync();
    expect(dw.some((v) => v === 0) && dw.some((v) => v === 6)).toBe(true);
    tf.dispose([...folded, ...reference]);
    chain.dispose();
    model.dispose();
  });

  it('keeps a requested mid-block value: the block ends there and the activation runs on its own', () => {
    const model = chainModel();
    const names = ['dw_bn', 'dw_relu'];
    const chain = compile(model, names);
    expect(chain.steps.slice(2).map((s) => [s.kind, s.layers])).toEqual([
      ['depthwise', ['dw', 'dw_bn']],
      ['activation', ['dw_relu']],
    ]);
    const folded = chain.execute(x, names);
    const reference = layerByLayer(model, x, names);
    expect(maxRelErr(folded[0], reference[0])).toBeLessThan(1e-5);
    expect(folded[0].dataSync().some((v) => v < 0)).toBe(true); // before the ReLU
    expect(maxRelErr(folded[1], reference[1])).toBeLessThan(1e-5);
    tf.dispose([...folded, ...reference]);
    chain.dispose();
    model.dispose();
  });

  it('refuses what it cannot fold, naming the layer', () => {
    const model = chainModel();
    const layers = model.layers as unknown as ChainLayerLike[];
    expect(FoldedConvChain.compile(layers, ['late_bn'])).toEqual({
      reason:
        "layer 'late_bn' is a BatchNormalization that does not directly follow a linear convolution, which is not folded",
    });
    const input = tfl.input({ shape: [4, 4, 2] });
    const a = tfl.layers.conv2d({ name: 'a', filters: 2, kernelSize: 1 }).apply(input) as tfl.SymbolicTensor;
    const sum = tfl.layers.add({ name: 'sum' }).apply([a, input]) as tfl.SymbolicTensor;
    const branchy = tfl.model({ inputs: input, outputs: sum });
    expect(FoldedConvChain.compile(branchy.layers as unknown as ChainLayerLike[], ['sum'])).toEqual({
      reason: "layer 'sum' does not take exactly the previous layer as its input",
    });
    model.dispose();
    branchy.dispose();
  });

  it('frees its folded weights on dispose and leaks nothing per execution', () => {
    const model = chainModel();
    const before = tf.memory().numTensors;
    const chain = compile(model, ['c1_relu', 'drop']);
    const compiled = tf.memory().numTensors;
    expect(compiled - before).toBe(6); // filter and bias of three convolutions
    for (let i = 0; i < 5; i++) tf.dispose(chain.execute(x, ['c1_relu', 'drop']));
    expect(tf.memory().numTensors).toBe(compiled);
    chain.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('LayersModelTeacher folding', () => {
  it('runs a foldable model folded and an unfoldable one layer by layer, with the same features', () => {
    const model = chainModel();
    const opts = { layer: 'dw_relu', pooledLayer: 'drop', inputSize: 9 };
    const folded = new LayersModelTeacher(model, opts);
    const plain = new LayersModelTeacher(model, { ...opts, fold: false });
    expect([folded.execution, folded.foldReason]).toEqual(['folded', undefined]);
    expect([plain.execution, plain.foldReason]).toEqual(['layers', 'fold: false']);
    const late = new LayersModelTeacher(model, { ...opts, pooledLayer: 'squash' });
    expect(late.execution).toBe('layers');
    expect(late.foldReason).toMatch(/late_bn/);
    const images = tf.tensor4d(values(3 * 6 * 6 * 3, 11, 0, 1), [3, 6, 6, 3]);
    const a = folded.forward(images);
    const b = plain.forward(images);
    expect(maxRelErr(a.tokens, b.tokens)).toBeLessThan(1e-5);
    expect(maxRelErr(a.pooled, b.pooled)).toBeLessThan(1e-5);
    tf.dispose([images, a.tokens, a.pooled, b.tokens, b.pooled]);
    model.dispose();
  });
});

describe('preprocessImages', () => {
  it('normalises before upsampling and after downsampling, with the same values either way', () => {
    for (const [from, to] of [
      [5, 12],
      [12, 5],
    ]) {
      const images = tf.tensor4d(values(2 * from * from * 3, from, 0, 1), [2, from, from, 3]);
      const x = preprocessImages(images, to, SIGNED_UNIT_NORMALIZATION, 'test');
      const resized = tf.image.resizeBilinear(images, [to, to], false, true);
      const reference = tf.sub(tf.mul(resized, 2), 1);
      expect(maxRelErr(x, reference)).toBeLessThan(1e-6);
      tf.dispose([images, x, resized, reference]);
    }
  });
});
