import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { noGrad, roundStraightThrough, stopGradient, straightThrough } from '../src';
import { values } from './helpers';

describe('gradient helpers', () => {
  test('stopGradient: value unchanged, no gradient through it', () => {
    const x = tf.tensor1d([1, -2, 3]);
    expect(values(stopGradient(x))).toEqual([1, -2, 3]);
    // d/dx Σ sg(x)·x = sg(x) = x, where without the stop it would be 2x
    expect(values(tf.grad((z: tf.Tensor) => tf.sum(tf.mul(stopGradient(z), z)))(x))).toEqual([1, -2, 3]);
  });

  test('noGrad runs its ops off the tape and leaks nothing', () => {
    const x = tf.tensor1d([0.5, 2]);
    const before = tf.memory().numTensors;
    const g = tf.grad((z: tf.Tensor) => tf.add(tf.sum(z), tf.sum(noGrad(() => tf.exp(z)))))(x);
    expect(values(g)).toEqual([1, 1]);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('straightThrough: forward exactly hard, backward identity to soft', () => {
    const soft = tf.tensor1d([0.2, 0.7, 0.1]);
    const hard = tf.tensor1d([0, 1, 0]);
    expect(values(straightThrough(soft, hard))).toEqual([0, 1, 0]);
    const w = tf.tensor1d([3, -1, 2]);
    expect(values(tf.grad((s: tf.Tensor) => tf.sum(tf.mul(straightThrough(s, hard), w)))(soft))).toEqual([
      3, -1, 2,
    ]);
    expect(() => straightThrough(soft, tf.zeros([2]))).toThrow(
      'straightThrough: soft [3] and hard [2] differ',
    );
  });

  test('roundStraightThrough: rounds half to even, gradient 1', () => {
    const x = tf.tensor1d([-1.5, -0.4, 0.5, 1.5, 2.6]);
    expect(values(roundStraightThrough(x))).toEqual([-2, -0, 0, 2, 3]);
    expect(values(tf.grad((z: tf.Tensor) => tf.sum(tf.mul(roundStraightThrough(z), 2)))(x))).toEqual([
      2, 2, 2, 2, 2,
    ]);
  });
});
