import { Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { kmeans } from '../src';

describe('k-means from given initial centres', () => {
  // Hand computation. Points (0,0), (0,1), (10,0), (10,1); start at (0,0) and (0,1).
  // Assignment 1: (0,0)→A, (0,1)→B, (10,0)→A (100 < 101), (10,1)→B (100 < 101);
  // update: A = (5,0), B = (5,1); the next assignment repeats it, so Lloyd stays there.
  // (k-means++ from these points would start far apart and end at (0,½), (10,½).)
  const points = [
    [0, 0],
    [0, 1],
    [10, 0],
    [10, 1],
  ];

  test('runs Lloyd from init instead of k-means++ (hand-computed fixed point)', () => {
    const x = tf.tensor2d(points);
    const init = tf.tensor2d([
      [0, 0],
      [0, 1],
    ]);
    const before = tf.memory().numTensors;
    const { centres, counts } = kmeans(x, 2, { rng: new Rng(0), iters: 3, init });
    expect(centres.arraySync()).toEqual([
      [5, 0],
      [5, 1],
    ]);
    expect(Array.from(counts.dataSync())).toEqual([2, 2]);
    // init is the caller's: still there, unchanged
    expect(init.arraySync()).toEqual([
      [0, 0],
      [0, 1],
    ]);
    tf.dispose([centres, counts]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, init]);
  });

  test('iters = 0 returns init itself with its assignment counts', () => {
    const x = tf.tensor2d(points);
    const init = tf.tensor2d([
      [0, 0],
      [10, 1],
    ]);
    const { centres, counts } = kmeans(x, 2, { rng: new Rng(0), iters: 0, init });
    expect(centres.arraySync()).toEqual(init.arraySync());
    expect(Array.from(counts.dataSync())).toEqual([2, 2]);
    tf.dispose([x, init, centres, counts]);
  });

  test('rejects init of the wrong shape', () => {
    const x = tf.tensor2d(points);
    const init = tf.zeros([3, 2]) as tf.Tensor2D;
    expect(() => kmeans(x, 2, { rng: new Rng(0), init })).toThrow(
      'kmeans: init has shape [3, 2], expected [2, 2]',
    );
    tf.dispose([x, init]);
  });
});
