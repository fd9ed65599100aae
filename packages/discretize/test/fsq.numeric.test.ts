import { ParamStore, Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { FSQ } from '../src';
import { expectClose, rows, values } from './helpers';

const EPS = 1e-3;

/**
 * FSQ of one value on one axis with L levels, in float64, from the definition (Mentzer et al. 2023, with
 * the bound h = (L − 1)(1 + eps)/2 of lucidrains' vector-quantize-pytorch, where atanh(offset/h) exists for L = 2).
 */
function fsqScalar(z: number, L: number) {
  const halfL = ((L - 1) * (1 + EPS)) / 2;
  const offset = L % 2 === 0 ? 0.5 : 0;
  const shift = Math.atanh(offset / halfL);
  const bounded = Math.tanh(z + shift) * halfL - offset;
  const halfWidth = Math.floor(L / 2);
  const r = Math.round(bounded);
  const dCode = (halfL * (1 - Math.tanh(z + shift) ** 2)) / halfWidth;
  return { bounded, code: r / halfWidth, digit: r + halfWidth, dCode };
}

const LEVELS = [3, 4];
// z pairs chosen away from rounding boundaries (checked below)
const Z = [
  [-2, -2],
  [-0.3, -0.6],
  [0.1, 0.05],
  [0.7, 0.45],
  [3, 3],
  [-0.9, 1.2],
];
const W = [
  [1, -0.5],
  [0.25, 2],
  [-1, 1],
  [0.5, 0.5],
  [2, -1],
  [-0.3, 0.7],
];

describe('FSQ', () => {
  test('forward: bound, round, scale and mixed-radix index match the definition', () => {
    const fsq = new FSQ({ levels: LEVELS });
    expect(fsq.numCodes).toBe(12);
    const expected = Z.map((row) => row.map((z, i) => fsqScalar(z, LEVELS[i])));
    for (const e of expected.flat())
      expect(Math.abs(e.bounded - Math.round(e.bounded))).not.toBeCloseTo(0.5, 3);
    const r = fsq.discretize(tf.tensor2d(Z));
    expectClose(
      r.output,
      expected.flatMap((row) => row.map((e) => e.code)),
      0,
      1e-7,
    );
    expect(values(r.indices)).toEqual(expected.map((row) => row[0].digit + 3 * row[1].digit));
    // the extremes reach the ends of each grid: -1 and +1 for L = 3, -1 and +0.5 for L = 4
    expect(rows(r.output)[0]).toEqual([-1, -1]);
    expect(rows(r.output)[4]).toEqual([1, 0.5]);
    expect(r.auxLoss.dataSync()[0]).toBe(0);
  });

  test('gradient passes straight through the rounding: dL/dz = w·h(1 − tanh²(z + shift))/⌊L/2⌋', () => {
    const fsq = new FSQ({ levels: LEVELS });
    const g = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(fsq.discretize(z).output, tf.tensor2d(W))))(
      tf.tensor2d(Z),
    );
    const expected = Z.flatMap((row, n) => row.map((z, i) => W[n][i] * fsqScalar(z, LEVELS[i]).dCode));
    expectClose(g, expected, 1e-5, 1e-7);
    expect(values(g).every((v) => v !== 0)).toBe(true);
  });

  test('two levels: both codes are reached and nothing is NaN', () => {
    const fsq = new FSQ({ levels: [2, 3] });
    const z = [
      [-6, -3],
      [-4.5, 0],
      [0, 3],
      [3, 0.4],
    ];
    const r = fsq.discretize(tf.tensor2d(z));
    const expected = z.map((row) => row.map((v, i) => fsqScalar(v, [2, 3][i])));
    expect(expected.flat().every((e) => Number.isFinite(e.bounded))).toBe(true);
    // L = 2: codes −1 and 0 (÷ ⌊2/2⌋ = 1). The shift atanh(0.5/h) ≈ 3.8 maps z = 0 to ẑ = 0 (code 0),
    // so the boundary ẑ = −0.5 sits at z = −3.8.
    expect(expected.map((row) => row[0].code)).toEqual([-1, -1, 0, 0]);
    expectClose(
      r.output,
      expected.flatMap((row) => row.map((e) => e.code)),
      0,
      1e-7,
    );
    expect(values(r.indices)).toEqual(expected.map((row) => row[0].digit + 2 * row[1].digit));
    expect(() => new FSQ({ levels: [8], eps: 0.2 })).toThrow(/eps: eps · \(largest level − 1\) must be < 1/);
  });

  test('indices round-trip: index → code → index over the whole codebook, and the code table', () => {
    const fsq = new FSQ({ levels: LEVELS });
    const all = tf.range(0, 12, 1, 'int32');
    const codes = fsq.indicesToCodes(all);
    const table = Array.from({ length: 12 }, (_, i) => [(i % 3) - 1, (Math.floor(i / 3) - 2) / 2]);
    expect(rows(codes)).toEqual(table);
    expect(values(fsq.codesToIndices(codes))).toEqual(values(all));

    const big = new FSQ({ levels: [8, 5, 5, 5] });
    expect(big.numCodes).toBe(1000);
    const idx = tf.range(0, 1000, 1, 'int32');
    expect(values(big.codesToIndices(big.indicesToCodes(idx)))).toEqual(values(idx));
  });

  test('code → index → code for discretized outputs of random inputs', () => {
    const fsq = new FSQ({ levels: [8, 5, 5, 5] });
    const z = tf.mul(tf.tensor(new Rng(1).fill(3 * 50 * 4, 'normal'), [3, 50, 4]), 2);
    const r = fsq.discretize(z);
    expect(r.indices.shape).toEqual([3, 50]);
    expect(values(fsq.codesToIndices(r.output))).toEqual(values(r.indices));
    expectClose(fsq.indicesToCodes(r.indices), values(r.output), 0, 0); // (−0 and 0 are equal here)
  });

  test('projections D → d → D: shapes, names, gradient to projectIn by hand', () => {
    const store = new ParamStore(new Rng(3));
    const fsq = new FSQ({ levels: LEVELS, dim: 3 }, store.scope('fsq'));
    expect(store.names()).toEqual([
      'fsq.projectIn.weight',
      'fsq.projectIn.bias',
      'fsq.projectOut.weight',
      'fsq.projectOut.bias',
    ]);
    const x = [
      [0.5, -1, 0.2],
      [1, 0.3, -0.7],
    ];
    const w = [
      [1, 2, -1],
      [0.5, -0.5, 1],
    ];
    const win = rows(fsq.projectIn!.weight);
    const bin = values(fsq.projectIn!.bias!);
    const wout = rows(fsq.projectOut!.weight);
    const z = x.map((xi) => [0, 1].map((c) => xi.reduce((s, v, k) => s + v * win[k][c], 0) + bin[c]));
    // dL/dcode = w·Woutᵀ; dL/dz = that × code'(z)
    const dz = z.map((zi, n) =>
      zi.map((v, c) => w[n].reduce((s, wv, o) => s + wv * wout[c][o], 0) * fsqScalar(v, LEVELS[c]).dCode),
    );
    const expected = [0, 1, 2].flatMap((k) =>
      [0, 1].map((c) => x.reduce((s, xi, n) => s + xi[k] * dz[n][c], 0)),
    );
    const { grads } = tf.variableGrads(() => {
      const r = fsq.discretize(tf.tensor2d(x));
      expect(r.output.shape).toEqual([2, 3]);
      return tf.sum(tf.mul(r.output, tf.tensor2d(w))) as tf.Scalar;
    }, [fsq.projectIn!.weight]);
    expectClose(grads[fsq.projectIn!.weight.name], expected, 1e-5, 1e-6);
  });
});
