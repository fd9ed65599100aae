import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { Adam, Rng } from '../src';

const shapes = [[3, 4], [4], [2, 2, 3]];

/** Deterministic pseudo-random gradients for step `s` (the same for both optimizers). */
function gradsFor(vars: tf.Variable[], s: number): tf.NamedTensorMap {
  const rng = new Rng(100 + s);
  const out: tf.NamedTensorMap = {};
  for (const v of vars) out[v.name] = tf.tensor(rng.fill(v.size, 'normal'), v.shape);
  return out;
}

function makeVars(seed: number): tf.Variable[] {
  const rng = new Rng(seed);
  return shapes.map((s) =>
    tf.variable(
      tf.tensor(
        rng.fill(
          s.reduce((a, b) => a * b, 1),
          'normal',
        ),
        s,
      ),
    ),
  );
}

const bits = (v: tf.Tensor) => Array.from(new Uint32Array((v.dataSync() as Float32Array).slice().buffer));
const lrAt = (s: number) => 1e-2 * (1 + Math.cos(s));

describe('Adam', () => {
  test('matches tf.train.adam bit for bit over 25 steps with a changing learning rate', () => {
    const a = makeVars(1);
    const b = makeVars(1);
    const ours = new Adam(
      a.map((v, i) => [`p${i}`, v]),
      { lr: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
    );
    const theirs = tf.train.adam(1e-2, 0.9, 0.999, 1e-8);
    for (let s = 0; s < 25; s++) {
      ours.learningRate = lrAt(s);
      (theirs as unknown as { learningRate: number }).learningRate = lrAt(s);
      const ga = gradsFor(a, s);
      const gb = gradsFor(b, s);
      ours.apply(ga);
      // Keyed by b's own variable names, the same values.
      theirs.applyGradients(gb as unknown as Record<string, tf.Variable>);
      tf.dispose([...Object.values(ga), ...Object.values(gb)]);
    }
    for (let i = 0; i < a.length; i++) expect(bits(a[i])).toEqual(bits(b[i]));
    ours.dispose();
    theirs.dispose();
    tf.dispose([...a, ...b]);
  });

  test('agrees with the Adam update computed by hand in float64', () => {
    const v = tf.variable(tf.tensor1d([0.5, -1, 2]));
    const opt = new Adam([['w', v]], { lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    const gs = [
      [1, -2, 0.5],
      [0.3, 0.1, -4],
      [-1, 1, 1],
    ];
    let w = [0.5, -1, 2];
    let m = [0, 0, 0];
    let s2 = [0, 0, 0];
    for (let t = 1; t <= gs.length; t++) {
      const g = tf.tensor1d(gs[t - 1]);
      opt.apply({ [v.name]: g });
      g.dispose();
      m = m.map((mi, i) => 0.9 * mi + 0.1 * gs[t - 1][i]);
      s2 = s2.map((si, i) => 0.999 * si + 0.001 * gs[t - 1][i] ** 2);
      w = w.map((wi, i) => {
        const mh = m[i] / (1 - 0.9 ** t);
        const vh = s2[i] / (1 - 0.999 ** t);
        return wi - (0.1 * mh) / (Math.sqrt(vh) + 1e-8);
      });
    }
    const got = Array.from(v.dataSync());
    // float32: 1 − 0.999 carries ~3e-5 relative error, so 5 decimals of a 0.1-sized step.
    for (let i = 0; i < 3; i++) expect(got[i]).toBeCloseTo(w[i], 5);
    opt.dispose();
    v.dispose();
  });

  test('decoupled weight decay shrinks only the chosen parameters, after the Adam step', () => {
    const w = tf.variable(tf.tensor2d([[1, 2]]));
    const b = tf.variable(tf.tensor1d([1, 2]));
    const opt = new Adam(
      [
        ['w', w],
        ['b', b],
      ],
      { lr: 0.1, weightDecay: 0.5 },
      { decayed: (_n, v) => v.rank >= 2 },
    );
    const zero = { [w.name]: tf.zeros([1, 2]), [b.name]: tf.zeros([2]) };
    opt.apply(zero);
    // Zero gradients: Adam moves nothing (0 / (0 + eps)); decay multiplies w by 1 − 0.1·0.5.
    expect(Array.from(w.dataSync())).toEqual([Math.fround(0.95), Math.fround(1.9)]);
    expect(Array.from(b.dataSync())).toEqual([1, 2]);
    tf.dispose([w, b, ...Object.values(zero)]);
    opt.dispose();
  });

  test('state() / load() continue exactly: 7 + 6 steps equal 13 steps, bit for bit', () => {
    const full = makeVars(2);
    const optFull = new Adam(full.map((v, i) => [`p${i}`, v]));
    for (let s = 0; s < 13; s++) {
      optFull.learningRate = lrAt(s);
      const g = gradsFor(full, s);
      optFull.apply(g);
      tf.dispose(Object.values(g));
    }
    const part = makeVars(2);
    const first = new Adam(part.map((v, i) => [`p${i}`, v]));
    for (let s = 0; s < 7; s++) {
      first.learningRate = lrAt(s);
      const g = gradsFor(part, s);
      first.apply(g);
      tf.dispose(Object.values(g));
    }
    const saved = first.state();
    first.dispose();
    // A fresh optimizer over fresh variables holding the same weights (as after a restart).
    const again = part.map((v) => tf.variable(v));
    const second = new Adam(again.map((v, i) => [`p${i}`, v]));
    second.load(saved);
    expect(second.iterations).toBe(7);
    for (let s = 7; s < 13; s++) {
      second.learningRate = lrAt(s);
      const g = gradsFor(again, s);
      second.apply(g);
      tf.dispose(Object.values(g));
    }
    for (let i = 0; i < full.length; i++) expect(bits(again[i])).toEqual(bits(full[i]));
    // The running product is kept, not recomputed as pow(β, t): it is what tfjs would have after 13 steps.
    expect((second.state().accBeta1 as { data: Float32Array }).data[0]).toBe(
      (optFull.state().accBeta1 as { data: Float32Array }).data[0],
    );
    tf.dispose([...full, ...part, ...again]);
    optFull.dispose();
    second.dispose();
  });

  test('why tfjs resume drifted: its setWeights recomputes accBeta as pow(β, t + 1), not the running product', async () => {
    // After 20 updates tfjs holds accBeta2 = β2·β2·…(21 factors) in float32; setWeights writes pow(β2, 21).
    const v = makeVars(4);
    const theirs = tf.train.adam(1e-2, 0.9, 0.999, 1e-8);
    for (let s = 0; s < 20; s++) {
      const g = gradsFor(v, s);
      theirs.applyGradients(g as unknown as Record<string, tf.Variable>);
      tf.dispose(Object.values(g));
    }
    let product = Math.fround(0.999);
    for (let i = 0; i < 20; i++) product = Math.fround(product * Math.fround(0.999));
    const recomputed = tf.pow(0.999, 21).dataSync()[0];
    expect(recomputed).not.toBe(product); // the two differ in the last bits: the drift of issue #11
    const ours = new Adam(v.map((x, i) => [`p${i}`, x]));
    for (let s = 0; s < 20; s++) {
      const g = gradsFor(v, s);
      ours.apply(g);
      tf.dispose(Object.values(g));
    }
    expect((ours.state().accBeta2 as { data: Float32Array }).data[0]).toBe(product);
    ours.dispose();
    theirs.dispose();
    tf.dispose(v);
  });

  test('load() names the slot that is missing, misshapen or unknown', () => {
    const v = tf.variable(tf.zeros([2, 3]));
    const opt = new Adam([['enc.w', v]]);
    const good = opt.state();
    const { 'm.enc.w': _m, ...noM } = good;
    expect(() => opt.load(noM, 'ckpt.safetensors')).toThrow(
      "ckpt.safetensors: 'm.enc.w' is missing or not a tensor",
    );
    expect(() => opt.load({ ...good, 'v.enc.w': { shape: [3], data: new Float32Array(3) } }, 'ckpt')).toThrow(
      "ckpt: 'v.enc.w' has 3 values (shape [3]), expected shape [2, 3]",
    );
    expect(() => opt.load({ ...good, 'm.dec.w': good['m.enc.w'] }, 'ckpt')).toThrow(
      'ckpt: holds slots for parameters this model does not have: m.dec.w',
    );
    expect(() => opt.load({ ...good, iterations: -1 }, 'ckpt')).toThrow(
      /'iterations' must be a whole number/,
    );
    expect(
      () =>
        new Adam([
          ['a', v],
          ['a', v],
        ]),
    ).toThrow("Adam: parameter name 'a' is given twice");
    opt.dispose();
    v.dispose();
  });

  test('apply keeps numTensors flat', () => {
    const vars = makeVars(3);
    const opt = new Adam(
      vars.map((v, i) => [`p${i}`, v]),
      { weightDecay: 0.1 },
      { decayed: () => true },
    );
    const g = gradsFor(vars, 0);
    opt.apply(g);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) opt.apply(g);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...vars, ...Object.values(g)]);
    opt.dispose();
  });
});
