import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGENET_NORMALIZATION, loadVisionTransformer, type VisionTransformer } from '../src';
import { visionTransformerFromSafetensors } from '../src/loadVit';
import { normalizePixels } from '../src/preprocess';
import { expectClose, fixture, fixtureBytes, toTensor } from './helpers';

// Expected values come from tools/reference/vit_reference.py (DINO's VisionTransformer in torch 1.13).
const expected = fixture('vit_tiny_expected.safetensors').tensors;
const E = (name: string) => expected[name];

describe.each([
  ['timm/DINO naming', 'vit_tiny_timm.safetensors'],
  ['Hugging Face naming', 'vit_tiny_hf.safetensors'],
])('VisionTransformer vs torch reference (%s)', (_label, file) => {
  const bytes = fixtureBytes(file);
  let vit32: VisionTransformer;
  let vit48: VisionTransformer;
  beforeAll(() => {
    vit32 = visionTransformerFromSafetensors(bytes, { config: { heads: 3 }, name: file });
    vit48 = visionTransformerFromSafetensors(bytes, { config: { heads: 3 }, name: file, inputSize: 48 });
  });
  afterAll(() => {
    vit32.dispose();
    vit48.dispose();
  });

  it('reads the architecture from the tensor shapes', () => {
    expect(vit32.config).toEqual({
      imgSize: 32,
      patchSize: 8,
      embedDim: 48,
      depth: 2,
      heads: 3,
      mlpRatio: 4,
      qkvBias: true,
      eps: 1e-6,
    });
    expect(vit32.dims).toEqual({ tokenDim: 48, pooledDim: 48, grid: [4, 4], numTokens: 16, heads: 3 });
    expect(vit48.dims.grid).toEqual([6, 6]);
    expect(vit32.inputSize).toBe(32);
  });

  const check = (vit: VisionTransformer, images: tf.Tensor4D, tag: string, grid: [number, number]) => {
    const out = vit.forward(images, { attention: true });
    expect(out.grid).toEqual(grid);
    expectClose(out.tokens, E(`${tag}.tokens`), 1e-4, `${tag} tokens`);
    expectClose(out.pooled, E(`${tag}.cls`), 1e-4, `${tag} CLS`);
    expectClose(out.attention!, E(`${tag}.attention`), 1e-4, `${tag} attention`);
    if (vit.head) {
      const h = vit.head.apply(out.pooled);
      expectClose(h, E(`${tag}.head`), 1e-4, `${tag} head`);
      h.dispose();
    }
    tf.dispose([out.tokens, out.pooled, out.attention!]);
  };

  it('matches at the native size (32 px, 4×4 grid): tokens, CLS, last-layer attention', () => {
    const images = toTensor(E('native.images')) as tf.Tensor4D;
    check(vit32, images, 'native', [4, 4]);
    images.dispose();
  });

  it('matches at 48 px, with position embeddings interpolated to 6×6 as DINO does', () => {
    const images = toTensor(E('interp.images')) as tf.Tensor4D;
    check(vit48, images, 'interp', [6, 6]);
    images.dispose();
  });

  it('resizes 32 px images to its 48 px input (bilinear, half-pixel centres) like torch', () => {
    const images = toTensor(E('native.images')) as tf.Tensor4D;
    check(vit48, images, 'resized', [6, 6]);
    images.dispose();
  });

  it('encodes a non-square 24×40 input (3×5 grid) with per-axis interpolation', () => {
    const images = toTensor(E('rect.images')) as tf.Tensor4D;
    const pixels = normalizePixels(images, IMAGENET_NORMALIZATION);
    const out = vit32.encode(pixels, { attention: true });
    expect(out.grid).toEqual([3, 5]);
    expectClose(out.tokens, E('rect.tokens'), 1e-4, 'rect tokens');
    expectClose(out.pooled, E('rect.cls'), 1e-4, 'rect CLS');
    expectClose(out.attention!, E('rect.attention'), 1e-4, 'rect attention');
    tf.dispose([images, pixels, out.tokens, out.pooled, out.attention!]);
  });

  it('omits attention unless asked, is deterministic, and keeps the tensor count flat', () => {
    const images = toTensor(E('interp.images')) as tf.Tensor4D;
    tf.dispose(Object.values(vit48.forward(images)).filter((v) => v instanceof tf.Tensor));
    const before = tf.memory().numTensors;
    const a = vit48.forward(images);
    const b = vit48.forward(images);
    expect(a.attention).toBeUndefined();
    expect(Array.from(a.pooled.dataSync())).toEqual(Array.from(b.pooled.dataSync()));
    tf.dispose([a.tokens, a.pooled, b.tokens, b.pooled]);
    expect(tf.memory().numTensors).toBe(before);
    images.dispose();
  });
});

describe('DINO head', () => {
  it('is loaded from timm/DINO files with its shape read from the tensors', () => {
    const vit = visionTransformerFromSafetensors(fixtureBytes('vit_tiny_timm.safetensors'), {
      config: { heads: 3 },
    });
    expect(vit.head?.config).toEqual({
      inDim: 48,
      layers: 3,
      hiddenDim: 64,
      bottleneckDim: 32,
      outDim: 40,
      normLastLayer: true,
    });
    // frozen: nothing trainable
    expect(vit.store.trainable()).toHaveLength(0);
    vit.dispose();
  });

  it('is skipped with head: false, and absent from Hugging Face files', () => {
    const a = visionTransformerFromSafetensors(fixtureBytes('vit_tiny_timm.safetensors'), {
      config: { heads: 3 },
      head: false,
    });
    const b = visionTransformerFromSafetensors(fixtureBytes('vit_tiny_hf.safetensors'), {
      config: { heads: 3 },
    });
    expect(a.head).toBeUndefined();
    expect(b.head).toBeUndefined();
    a.dispose();
    b.dispose();
  });

  it('accepts a last layer with the weight norm folded in (last_layer.weight)', async () => {
    const { writeSafetensors } = await import('@symseq/nn');
    const t = fixture('vit_tiny_timm.safetensors').tensors;
    const g = t['head.last_layer.weight_g'];
    const v = t['head.last_layer.weight_v'];
    const [k, b] = v.shape;
    const w = new Float32Array(k * b);
    for (let r = 0; r < k; r++) {
      let n = 0;
      for (let j = 0; j < b; j++) n += v.data[r * b + j] ** 2;
      for (let j = 0; j < b; j++) w[r * b + j] = (g.data[r] * v.data[r * b + j]) / Math.sqrt(n);
    }
    const { 'head.last_layer.weight_g': _g, 'head.last_layer.weight_v': _v, ...rest } = t;
    const bytes = writeSafetensors({ ...rest, 'head.last_layer.weight': { shape: [k, b], data: w } });
    const vit = await loadVisionTransformer(bytes, { config: { heads: 3 } });
    const pooled = toTensor(E('native.cls'));
    expectClose(vit.head!.apply(pooled), E('native.head'), 1e-4, 'folded head');
    tf.dispose(pooled);
    vit.dispose();
  });
});
