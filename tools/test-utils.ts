import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/**
 * Element-wise |actual − expected| ≤ atol + rtol·|expected|; a failure names the worst element.
 * Shared by the packages' numeric tests (each picks its own default tolerances).
 */
export function expectClose(
  actual: tf.Tensor | ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  atol: number,
  what = '',
): void {
  const a = actual instanceof tf.Tensor ? actual.dataSync() : actual;
  expect(a.length, `${what} length`).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const excess = Math.abs(a[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (Number.isNaN(excess) || excess > worst) {
      worst = Number.isNaN(excess) ? Number.POSITIVE_INFINITY : excess;
      at = i;
    }
  }
  expect(at, at >= 0 ? `${what} element ${at}: got ${a[at]}, expected ${expected[at]}` : '').toBe(-1);
}
