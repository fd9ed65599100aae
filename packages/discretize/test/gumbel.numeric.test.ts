import { Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { GumbelSoftmax, gumbelSoftmax, sampleGumbel } from '../src';
import { expectClose, softmax64, softmaxGrad64, values } from './helpers';

const L = [
  [1, 2, 3, -1],
  [0.5, -0.25, 0.5, 0],
];
const W = [
  [0.3, -1, 2, 0.5],
  [1, 2, 3, 4],
];

/** The noise an Rng seeded with `seed` gives, drawn independently of sampleGumbel: −log(−log U). */
function twinNoise(seed: number, n: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => -Math.log(-Math.log(rng.uniformOpen())));
}

describe('gumbelSoftmax', () => {
  test('sampleGumbel draws −log(−log U) from the Rng, reproducibly', () => {
    const g = sampleGumbel([2, 3], new Rng(7));
    expectClose(g, twinNoise(7, 6), 1e-6, 1e-6);
    expect(values(sampleGumbel([2, 3], new Rng(7)))).toEqual(values(g));
  });

  test('soft forward is softmax((logits + g)/τ) with the seeded noise', () => {
    const g = twinNoise(3, 8);
    const r = gumbelSoftmax(tf.tensor2d(L), { rng: new Rng(3), temperature: 0.5, hard: false });
    const expected = L.flatMap((row, i) =>
      softmax64(
        row.map((v, j) => v + g[i * 4 + j]),
        0.5,
      ),
    );
    expectClose(r.output, expected, 1e-5, 1e-7);
    const argmax = L.map((row, i) => {
      const s = row.map((v, j) => v + g[i * 4 + j]);
      return s.indexOf(Math.max(...s));
    });
    expect(values(r.indices)).toEqual(argmax);
  });

  test('hard: forward exactly one-hot at argmax(logits + g), backward exactly the relaxed-sample gradient', () => {
    const tau = 0.7;
    const g = twinNoise(11, 8);
    const x = tf.tensor2d(L);
    const w = tf.tensor2d(W);
    const r = gumbelSoftmax(x, { rng: new Rng(11), temperature: tau });
    const idx = values(r.indices);
    const oneHot = idx.flatMap((k) => [0, 1, 2, 3].map((j) => (j === k ? 1 : 0)));
    expect(values(r.output)).toEqual(oneHot);

    const grad = (hard: boolean) =>
      values(
        tf.grad((z: tf.Tensor) =>
          tf.sum(tf.mul(gumbelSoftmax(z, { rng: new Rng(11), temperature: tau, hard }).output, w)),
        )(x),
      );
    const gHard = grad(true);
    expect(gHard).toEqual(grad(false));
    const expected = L.flatMap((row, i) =>
      softmaxGrad64(
        row.map((v, j) => v + g[i * 4 + j]),
        W[i],
        tau,
      ),
    );
    expectClose(gHard, expected, 1e-5, 1e-6);
  });

  test('hard samples follow softmax(logits): chi-square over 40,000 draws', () => {
    const logits = [1.2, 0.5, 0, -0.5, -1.5];
    const n = 40_000;
    const batch = tf.tile(tf.tensor2d([logits]), [n, 1]);
    const r = gumbelSoftmax(batch, { rng: new Rng(2024), temperature: 0.3, checkFinite: false });
    const counts = [0, 0, 0, 0, 0];
    for (const k of r.indices.dataSync()) counts[k]++;
    const chi2 = (p: number[]) => counts.reduce((a, c, k) => a + (c - n * p[k]) ** 2 / (n * p[k]), 0);
    // df = 4, p = 0.001 critical value 18.47.
    expect(chi2(softmax64(logits))).toBeLessThan(18.47);
    // Power check: the same counts are far from a slightly different distribution (τ-sharpened softmax).
    expect(chi2(softmax64(logits, 0.9))).toBeGreaterThan(100);
    // The column sums of the one-hot output are the same counts.
    expect(values(tf.sum(r.output, 0))).toEqual(counts);
  });

  test('inference mode: no noise, one-hot of argmax logits, rng untouched', () => {
    const rng = new Rng(5);
    const before = rng.getState();
    const r = gumbelSoftmax(tf.tensor2d(L), { rng, mode: 'inference', hard: false });
    expect(values(r.output)).toEqual([0, 0, 1, 0, 1, 0, 0, 0]);
    expect(rng.getState()).toEqual(before);
    // needs no rng at all
    expect(values(gumbelSoftmax(tf.tensor2d(L), { mode: 'inference' }).indices)).toEqual([2, 0]);
  });
});

describe('GumbelSoftmax', () => {
  test('seeded instances repeat; a schedule sets τ from the step', () => {
    const make = () =>
      new GumbelSoftmax({
        numCodes: 4,
        seed: 9,
        hard: false,
        temperature: { kind: 'exponential', start: 1, end: 0.25, steps: 10 },
      });
    const a = make();
    const b = make();
    expect(a.temperatureAt(5)).toBeCloseTo(0.5, 12);
    const ra = a.discretize(tf.tensor2d(L), { step: 5 });
    expect(values(b.discretize(tf.tensor2d(L), { step: 5 }).output)).toEqual(values(ra.output));
    const g = twinNoise(9, 8);
    expectClose(
      ra.output,
      L.flatMap((row, i) =>
        softmax64(
          row.map((v, j) => v + g[i * 4 + j]),
          0.5,
        ),
      ),
      1e-5,
      1e-7,
    );
    // the stream advances: the next call draws new noise
    expect(values(a.discretize(tf.tensor2d(L), { step: 5 }).output)).not.toEqual(values(ra.output));
  });
});
