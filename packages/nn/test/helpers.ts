import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

export interface FixtureTensor {
  shape: number[];
  data: number[];
}

export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
}

export const fromFixture = (f: FixtureTensor) => tf.tensor(f.data, f.shape);

/** Max |a−b| / (|b| + atol) ≤ rtol, element-wise, with a message naming the worst element. */
export function expectClose(
  actual: tf.Tensor | ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-4,
  atol = 1e-5,
) {
  const a = actual instanceof tf.Tensor ? actual.dataSync() : actual;
  expect(a.length).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i] - expected[i]) / (Math.abs(expected[i]) + atol / rtol);
    if (!(err <= worst) || Number.isNaN(err)) {
      worst = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err;
      at = i;
    }
  }
  expect(worst, `element ${at}: got ${a[at]}, expected ${expected[at]}`).toBeLessThanOrEqual(rtol);
}
