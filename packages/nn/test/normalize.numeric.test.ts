// l2Normalize against torch's F.normalize (tools/reference/normalize_reference.py), values and gradient,
// including a row below the epsilon and an exact zero row (where a plain x / max(‖x‖, ε) gives NaN).
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { L2_NORMALIZE_EPS, l2Normalize } from '../src/normalize';
import { expectClose, type FixtureTensor, fixture, fromFixture } from './helpers';

const fx = fixture<{ x: FixtureTensor; w: FixtureTensor; y: FixtureTensor; gradX: FixtureTensor }>(
  'l2_normalize.json',
);

test('matches torch F.normalize(x, dim=-1, eps=1e-12) in value and gradient', () => {
  expect(L2_NORMALIZE_EPS).toBe(1e-12);
  const before = tf.memory().numTensors;
  const x = fromFixture(fx.x);
  const w = fromFixture(fx.w);
  const y = l2Normalize(x);
  expect(y.shape).toEqual(fx.x.shape);
  expectClose(y, fx.y.data, 1e-5, 1e-6);
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(l2Normalize(v), w)))(x);
  // The zero and sub-ε rows get w / ε ≈ 1e12: finite, as in torch.
  expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
  expectClose(g, fx.gradX.data, 1e-4, 1e-6);
  tf.dispose([x, w, y, g]);
  expect(tf.memory().numTensors).toBe(before);
});

test('keeps the rank and normalises along the last axis only', () => {
  const x = tf.tensor3d([
    [
      [3, 4],
      [0, 2],
    ],
  ]);
  const y = l2Normalize(x);
  expect(y.shape).toEqual([1, 2, 2]);
  expectClose(y, [0.6, 0.8, 0, 1], 1e-6, 1e-7);
  tf.dispose([x, y]);
});
