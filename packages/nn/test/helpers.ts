import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { expectClose as sharedExpectClose } from '../../../tools/test-utils';

export interface FixtureTensor {
  shape: number[];
  data: number[];
}

export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
}

export const fromFixture = (f: FixtureTensor) => tf.tensor(f.data, f.shape);

/** Element-wise closeness (see tools/test-utils.ts) with this package's default tolerances. */
export const expectClose = (
  actual: tf.Tensor | ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-4,
  atol = 1e-5,
) => sharedExpectClose(actual, expected, rtol, atol);
