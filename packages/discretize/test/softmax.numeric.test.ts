import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { TemperatureSoftmax, temperatureSoftmax } from '../src';
import { expectClose, finiteDifferences, softmax64, softmaxGrad64, values } from './helpers';

const L = [
  [1, 2, 3, -1],
  [0.5, -0.25, 0.5001, 0],
  [4, 4.0000005, -2, 1],
];
const W = [
  [0.3, -1, 2, 0.5],
  [1, 2, 3, 4],
  [-0.5, 0.25, 1, -2],
];

describe('temperatureSoftmax', () => {
  test('soft forward is softmax(logits/τ), indices argmax, auxLoss 0', () => {
    const r = temperatureSoftmax(tf.tensor2d(L), { temperature: 0.7, hard: false });
    expectClose(
      r.output,
      L.flatMap((row) => softmax64(row, 0.7)),
      1e-5,
      1e-7,
    );
    expect(r.indices.dtype).toBe('int32');
    expect(values(r.indices)).toEqual([2, 2, 1]);
    expect(r.auxLoss.shape).toEqual([]);
    expect(r.auxLoss.dataSync()[0]).toBe(0);
  });

  test('hard forward is exactly one-hot of the argmax, also where soft + (hard − soft) would not be', () => {
    // A peaked row: soft ≈ [1 − 1e-9, …]; the subtraction trick leaves 1 − ε / ε residue in float32.
    const logits = tf.tensor2d([...L, [30, 0.1, 0.2, 0.3], [0.3, 0.2, 0.1, 30.5]]);
    const r = temperatureSoftmax(logits, { temperature: 0.3 });
    expect(values(r.output)).toEqual([0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
    expect(r.output.dtype).toBe('float32');
  });

  test('keeps leading axes: [2, 3, V] → indices [2, 3], output [2, 3, V]', () => {
    const x = tf.tensor3d([L, L.map((r) => r.map((v) => -v))]);
    const r = temperatureSoftmax(x);
    expect(r.indices.shape).toEqual([2, 3]);
    expect(r.output.shape).toEqual([2, 3, 4]);
    expect(values(r.indices)).toEqual([2, 2, 1, 3, 1, 2]);
  });

  test('soft gradient equals the analytic softmax Jacobian and finite differences', () => {
    const tau = 0.8;
    const w = tf.tensor2d(W);
    const f = (x: tf.Tensor) =>
      tf.sum(tf.mul(temperatureSoftmax(x, { temperature: tau, hard: false }).output, w)) as tf.Scalar;
    const g = tf.grad(f)(tf.tensor2d(L));
    expectClose(
      g,
      L.flatMap((row, i) => softmaxGrad64(row, W[i], tau)),
      1e-5,
      1e-6,
    );
    expectClose(g, finiteDifferences(f, L.flat(), [3, 4], 1e-2), 2e-2, 2e-3);
  });

  test('hard straight-through gradient is exactly the soft softmax gradient', () => {
    const tau = 0.5;
    const w = tf.tensor2d(W);
    const x = tf.tensor2d(L);
    const grad = (hard: boolean) =>
      tf.grad((z: tf.Tensor) => tf.sum(tf.mul(temperatureSoftmax(z, { temperature: tau, hard }).output, w)))(
        x,
      );
    const gHard = values(grad(true));
    expect(gHard).toEqual(values(grad(false)));
    expectClose(
      gHard,
      L.flatMap((row, i) => softmaxGrad64(row, W[i], tau)),
      1e-5,
      1e-6,
    );
    expect(gHard.some((v) => Math.abs(v) > 1e-3)).toBe(true);
  });

  test('inference mode is hard even when hard: false', () => {
    const r = temperatureSoftmax(tf.tensor2d(L), { hard: false, mode: 'inference' });
    expect(values(r.output)).toEqual([0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0]);
  });

  test('stats: usage histogram and perplexity of the chosen indices', () => {
    const r = temperatureSoftmax(tf.tensor2d(L), { stats: true });
    expect(r.stats?.histogram).toEqual([0, 1, 2, 0]);
    // p = [1/3, 2/3]: exp(H) = 3 / 2^(2/3)
    expect(r.stats?.perplexity).toBeCloseTo(3 / 2 ** (2 / 3), 10);
  });
});

describe('TemperatureSoftmax', () => {
  test('uses the scheduled temperature at the given step', () => {
    const d = new TemperatureSoftmax({
      numCodes: 4,
      temperature: { kind: 'linear', start: 2, end: 0.5, steps: 100 },
      hard: false,
    });
    expect(d.temperatureAt(50)).toBeCloseTo(1.25, 12);
    const r = d.discretize(tf.tensor2d(L), { step: 50 });
    expectClose(
      r.output,
      L.flatMap((row) => softmax64(row, 1.25)),
      1e-5,
      1e-7,
    );
    expect(d.numCodes).toBe(4);
    expect(d.outputDim).toBe(4);
  });
});
