import { ParamStore, Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { type Discretizer, FSQ, GumbelSoftmax, TemperatureSoftmax, VectorQuantizer } from '../src';

const CALLS = 1000;

/**
 * One training step as a model would run it: discretize in train mode, a loss on the output plus
 * the aux loss, gradients for every trainable parameter (or for the input when there are none).
 */
function step(d: Discretizer, x: tf.Tensor, store: ParamStore | undefined, i: number): void {
  tf.tidy(() => {
    const weight = tf.linspace(-1, 1, d.outputDim);
    const loss = (z: tf.Tensor) => {
      const r = d.discretize(z, { mode: 'train', step: i });
      return tf.add(tf.sum(tf.mul(r.output, weight)), r.auxLoss) as tf.Scalar;
    };
    const vars = store?.trainable() ?? [];
    if (vars.length) tf.variableGrads(() => loss(x), vars);
    else tf.grad(loss)(x);
  });
}

function expectFlat(d: Discretizer, store: ParamStore | undefined, x: tf.Tensor): void {
  step(d, x, store, 0); // first call may create lasting state (k-means init, restart buffer)
  const before = tf.memory().numTensors;
  for (let i = 1; i <= CALLS; i++) step(d, x, store, i);
  expect(tf.memory().numTensors).toBe(before);
}

describe(`tf.memory().numTensors is flat over ${CALLS} training steps`, () => {
  const rng = new Rng(0);
  const input = (n: number, d: number) => tf.tensor2d(rng.fill(n * d, 'normal'), [n, d]);

  test('TemperatureSoftmax (hard, scheduled temperature)', () => {
    const d = new TemperatureSoftmax({
      numCodes: 8,
      temperature: { kind: 'cosine', start: 1, end: 0.1, steps: 500 },
    });
    expectFlat(d, undefined, input(16, 8));
  });

  test('GumbelSoftmax (hard)', () => {
    expectFlat(new GumbelSoftmax({ numCodes: 8, seed: 1 }), undefined, input(16, 8));
  });

  test('VectorQuantizer: EMA, k-means init, dead-code restart, rotation trick', () => {
    const store = new ParamStore(new Rng(1));
    const vq = new VectorQuantizer(store.scope('vq'), {
      dim: 6,
      codebookSize: 16,
      kmeansInit: true,
      estimator: 'rotation',
      deadCodeThreshold: 2, // 32 vectors over 16 codes: restarts keep happening
      restartBufferSize: 48,
    });
    let restarts = 0;
    const x = input(32, 6);
    expectFlat(vq, store, x);
    for (let i = 0; i < 5; i++) {
      const r = vq.discretize(x, { stats: true });
      restarts += r.stats?.restartedCodes ?? 0;
      tf.dispose([r.indices, r.output, r.auxLoss]);
    }
    expect(restarts).toBeGreaterThan(0);
    vq.dispose();
  });

  test('VectorQuantizer: gradient-learned cosine codebook with projections', () => {
    const store = new ParamStore(new Rng(2));
    const vq = new VectorQuantizer(store.scope('vq'), {
      dim: 6,
      codebookSize: 16,
      codebookDim: 3,
      distance: 'cosine',
      learning: 'gradient',
      deadCodeThreshold: 0.5,
    });
    expectFlat(vq, store, input(32, 6));
    vq.dispose();
  });

  test('FSQ with projections', () => {
    const store = new ParamStore(new Rng(3));
    const fsq = new FSQ({ levels: [5, 4, 3], dim: 6 }, store.scope('fsq'));
    expectFlat(fsq, store, input(32, 6));
    fsq.dispose();
  });
});
