import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { expectClose as sharedExpectClose } from '../../../tools/test-utils';

export interface FixtureTensor {
  shape: number[];
  data: number[];
}

export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
}

export const fromFixture = (f: FixtureTensor) => tf.tensor(f.data, f.shape, 'float32');

/** Element-wise closeness (see tools/test-utils.ts) with this package's default tolerances. */
export const expectClose = (
  actual: tf.Tensor | ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-5,
  atol = 1e-6,
) => sharedExpectClose(actual, expected, rtol, atol);

/** Plain row-major arrays from a tensor. */
export const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/** softmax of a row, in float64. */
export function softmax64(row: number[], temperature = 1): number[] {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp((v - m) / temperature));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** d/dlogits Σ w·softmax(logits/τ) = (1/τ)·p ⊙ (w − p·w), in float64. */
export function softmaxGrad64(row: number[], w: number[], temperature = 1): number[] {
  const p = softmax64(row, temperature);
  const pw = p.reduce((a, pi, i) => a + pi * w[i], 0);
  return p.map((pi, i) => (pi * (w[i] - pw)) / temperature);
}

/** Central finite differences of a scalar function of one tensor, evaluated in float32 by TF.js. */
export function finiteDifferences(
  f: (x: tf.Tensor) => tf.Scalar,
  x: number[],
  shape: number[],
  h = 1e-2,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const plus = [...x];
    const minus = [...x];
    plus[i] += h;
    minus[i] -= h;
    const fp = tf.tidy(() => f(tf.tensor(plus, shape)).dataSync()[0]);
    const fm = tf.tidy(() => f(tf.tensor(minus, shape)).dataSync()[0]);
    out.push((fp - fm) / (2 * h));
  }
  return out;
}

/** Rows of a [N, D] tensor as arrays. */
export function rows(t: tf.Tensor): number[][] {
  const d = t.shape[t.rank - 1];
  const v = values(t);
  return Array.from({ length: v.length / d }, (_, i) => v.slice(i * d, (i + 1) * d));
}
