// The fast paths of matmul.ts (rank-3 transpose of matrices, outer products as multiplies, per-channel
// gradients summed through a transpose) against plain JavaScript loops in float64.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import {
  addChannels,
  dense,
  LayerNorm,
  matMul,
  mulChannels,
  ParamStore,
  Rng,
  sumLeading,
  swapLast,
} from '../src';
import { expectClose } from './helpers';

const seq = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
const wave = (n: number, k: number) => seq(n, (i) => Math.sin(i * k + 0.3) * 2);

describe('swapLast', () => {
  // Even rows ≥ 64 (the rank-3 route through the rows), odd rows with even columns ≥ 64 (through
  // the columns), small matrices (plain transpose) and a batched rank-4 tensor.
  test.each([[[128, 3]], [[4096, 6]], [[65, 130]], [[7, 5]], [[3, 4, 6, 5]]])(
    '%j: every element moved to its transposed place',
    async (shape) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = seq(n, (i) => i);
      const out = swapLast(tf.tensor(data, shape));
      const [r, c] = shape.slice(-2);
      const lead = n / (r * c);
      expect(out.shape).toEqual([...shape.slice(0, -2), c, r]);
      const got = await out.data();
      const want = new Float32Array(n);
      for (let b = 0; b < lead; b++)
        for (let i = 0; i < r; i++)
          for (let j = 0; j < c; j++) want[b * r * c + j * r + i] = data[b * r * c + i * c + j];
      expect(Array.from(got)).toEqual(Array.from(want));
      out.dispose();
    },
  );
});

describe('matMul gradient with a contracted axis of 1 (outer products)', () => {
  test('one-query attention scores: gradients of q [B,h,1,d] · kᵀ [B,h,d,S] equal the loop sums', async () => {
    const [B, h, d, S] = [3, 2, 4, 5];
    const q = tf.tensor(wave(B * h * d, 0.7), [B, h, 1, d]);
    const kT = tf.tensor(wave(B * h * d * S, 1.3), [B, h, d, S]);
    const r = tf.tensor(wave(B * h * S, 0.4), [B, h, 1, S]);
    const qv = tf.variable(q, true, 'q_outer');
    const kv = tf.variable(kT, true, 'k_outer');
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(matMul(qv, kv), r)) as tf.Scalar, [qv, kv]);
    const [qa, ka, ra] = [await q.data(), await kT.data(), await r.data()];
    const dq = new Float64Array(B * h * d);
    const dk = new Float64Array(B * h * d * S);
    for (let bh = 0; bh < B * h; bh++)
      for (let i = 0; i < d; i++)
        for (let s = 0; s < S; s++) {
          dq[bh * d + i] += ra[bh * S + s] * ka[bh * d * S + i * S + s];
          dk[bh * d * S + i * S + s] = qa[bh * d + i] * ra[bh * S + s];
        }
    expectClose(grads.q_outer, dq);
    expectClose(grads.k_outer, dk, 1e-6, 1e-7);
    tf.dispose([q, kT, r, ...Object.values(grads)]);
    tf.dispose([qv, kv]);
  });
});

describe('per-channel vectors', () => {
  test('sumLeading sums every axis but the last', async () => {
    const x = tf.tensor(wave(2 * 65 * 3, 0.9), [2, 65, 3]);
    const xs = await x.data();
    const want = [0, 0, 0];
    for (let i = 0; i < 130; i++) for (let c = 0; c < 3; c++) want[c] += xs[i * 3 + c];
    expectClose(sumLeading(x), want);
    x.dispose();
  });

  test('addChannels / mulChannels refuse a vector of the wrong size, naming both shapes', () => {
    const x = tf.zeros([4, 3]);
    expect(() => addChannels(x, tf.zeros([4]))).toThrow(
      'addChannels: expected a vector of 3 channels for input [4,3], got [4]',
    );
    expect(() => mulChannels(x, tf.zeros([3, 1]))).toThrow('mulChannels: expected a vector of 3 channels');
  });

  test('dense and LayerNorm: weight and bias gradients of Σ y·R equal the float64 loop sums', async () => {
    const [N, I, O] = [130, 5, 3];
    const store = new ParamStore(new Rng(0));
    const x = tf.tensor(wave(N * I, 0.37), [2, N / 2, I]);
    const w = tf.variable(tf.tensor(wave(I * O, 1.1), [I, O]), true, 'dense_w');
    const b = tf.variable(tf.tensor([0.1, -0.2, 0.3]), true, 'dense_b');
    const R = tf.tensor(wave(N * O, 0.23), [2, N / 2, O]);
    const g = tf.variableGrads(() => tf.sum(tf.mul(dense(x, w, b), R)) as tf.Scalar, [w, b]).grads;
    const [xa, ra] = [await x.data(), await R.data()];
    const dw = new Float64Array(I * O);
    const db = new Float64Array(O);
    for (let n = 0; n < N; n++)
      for (let o = 0; o < O; o++) {
        db[o] += ra[n * O + o];
        for (let i = 0; i < I; i++) dw[i * O + o] += xa[n * I + i] * ra[n * O + o];
      }
    expectClose(g.dense_w, dw);
    expectClose(g.dense_b, db);

    const ln = new LayerNorm(store.scope('ln'), I);
    const gamma = store.get('ln.weight') as tf.Variable;
    gamma.assign(tf.tensor(wave(I, 2.1)));
    const RL = tf.tensor(wave(N * I, 0.61), [2, N / 2, I]);
    const gl = tf.variableGrads(
      () => tf.sum(tf.mul(ln.apply(x), RL)) as tf.Scalar,
      [gamma, store.get('ln.bias') as tf.Variable],
    ).grads;
    const rl = await RL.data();
    const dGamma = new Float64Array(I);
    const dBeta = new Float64Array(I);
    for (let n = 0; n < N; n++) {
      const row = Array.from(xa.subarray(n * I, (n + 1) * I));
      const mean = row.reduce((a, v) => a + v, 0) / I;
      const v = row.reduce((a, u) => a + (u - mean) ** 2, 0) / I;
      for (let i = 0; i < I; i++) {
        dGamma[i] += ((row[i] - mean) / Math.sqrt(v + 1e-6)) * rl[n * I + i];
        dBeta[i] += rl[n * I + i];
      }
    }
    expectClose(gl[gamma.name], dGamma);
    expectClose(gl[store.get('ln.bias').name], dBeta);
    tf.dispose([x, R, RL, ...Object.values(g), ...Object.values(gl)]);
    w.dispose();
    b.dispose();
    store.dispose();
  });
});
