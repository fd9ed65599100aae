// The DINO head's structure: names, the frozen weight-norm gain, and the bound it implies. Its numerics
// against torch are checked where it is used: vit-teacher (a DINO checkpoint's head) and decoder (the student).
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { DinoHead, ParamStore, Rng } from '../src';

const randn = (shape: number[], seed: number, scale = 1) =>
  tf.tensor(
    new Rng(seed)
      .fill(
        shape.reduce((a, b) => a * b, 1),
        'normal',
      )
      .map((v) => v * scale),
    shape,
  );

test("DINO's parameter names; weight_g [1, K] is frozen with normLastLayer and trainable without", () => {
  const store = new ParamStore(new Rng(0));
  new DinoHead(store.scope('head'), { inDim: 6, hiddenDim: 8, bottleneckDim: 4, outDim: 5 });
  expect(store.names()).toEqual([
    'head.mlp.0.weight',
    'head.mlp.0.bias',
    'head.mlp.2.weight',
    'head.mlp.2.bias',
    'head.mlp.4.weight',
    'head.mlp.4.bias',
    'head.last_layer.weight_v',
    'head.last_layer.weight_g',
  ]);
  expect(store.get('head.last_layer.weight_g').shape).toEqual([1, 5]);
  expect(store.trainable()).not.toContain(store.get('head.last_layer.weight_g'));
  const other = new ParamStore(new Rng(0));
  new DinoHead(other.scope('head'), {
    inDim: 6,
    layers: 1,
    bottleneckDim: 4,
    outDim: 5,
    normLastLayer: false,
  });
  expect(other.names()).toEqual([
    'head.mlp.weight',
    'head.mlp.bias',
    'head.last_layer.weight_v',
    'head.last_layer.weight_g',
  ]);
  expect(other.trainable()).toContain(other.get('head.last_layer.weight_g'));
  store.dispose();
  other.dispose();
});

test('outputs are cosines scaled by g: unit bottleneck times unit-norm columns', () => {
  const store = new ParamStore(new Rng(1));
  const p = new DinoHead(store.scope('head'), { inDim: 6, hiddenDim: 8, bottleneckDim: 4, outDim: 5 });
  p.weightV.assign(randn([4, 5], 2, 3)); // any scale: normalised away
  p.weightG.assign(tf.tensor2d([[1, 2, 0.5, 1, 3]]));
  const x = randn([7, 6], 3);
  const h = p.bottleneck(x);
  const norms = tf.sqrt(tf.sum(tf.square(h), -1)).dataSync();
  for (const n of norms) expect(n).toBeCloseTo(1, 5);
  // Hand computation: s[b, k] = g_k · <h_b, v_k> / ‖v_k‖.
  const v = p.weightV.arraySync() as number[][];
  const hv = h.arraySync() as number[][];
  const g = [1, 2, 0.5, 1, 3];
  const s = p.apply(x).arraySync() as number[][];
  for (let b = 0; b < 7; b++) {
    for (let k = 0; k < 5; k++) {
      let dot = 0;
      let nv = 0;
      for (let i = 0; i < 4; i++) {
        dot += hv[b][i] * v[i][k];
        nv += v[i][k] ** 2;
      }
      expect(s[b][k]).toBeCloseTo((g[k] * dot) / Math.sqrt(nv), 5);
      expect(Math.abs(s[b][k])).toBeLessThanOrEqual(g[k] + 1e-5);
    }
  }
  expect(() => p.apply(tf.zeros([2, 7]))).toThrow(
    'DinoHead: input [B, inDim]: expected last dimension 6, got shape [2, 7]',
  );
  expect(() => new DinoHead(store.scope('bad'), { inDim: 6, outDim: 5, nlayers: 3 } as never)).toThrow(
    /DinoHead config/,
  );
  store.dispose();
});
