import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';

test('backend and gradients', () => {
  expect(tf.getBackend()).toBe(process.env.SYMSEQ_BACKEND);
  const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1, 2]));
  expect(Array.from(g.dataSync())).toEqual([2, 4]);
});
