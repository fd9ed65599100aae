import { ParamStore, Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { rotationTrick, VectorQuantizer, type VectorQuantizerConfig } from '../src';
import { expectClose, type FixtureTensor, fixture, fromFixture, rows, values } from './helpers';

const CODES = [
  [0, 0],
  [1, 1],
  [-1, 2],
];
const X = [
  [0.1, -0.2],
  [0.9, 1.3],
  [-0.8, 1.5],
  [0.6, 0.6],
];
const W = [
  [0.5, -1],
  [2, 0.25],
  [-0.75, 1],
  [1.5, -0.5],
];
// Nearest codes by hand: row 3 is 0.32 from code 1 and 0.72 from code 0.
const NEAREST = [0, 1, 2, 1];

function makeVq(
  config: Partial<VectorQuantizerConfig> = {},
  codes = CODES,
): { vq: VectorQuantizer; store: ParamStore } {
  const store = new ParamStore(new Rng(1));
  const vq = new VectorQuantizer(store.scope('vq'), { dim: 2, codebookSize: codes.length, ...config });
  vq.setCodebook(tf.tensor2d(codes));
  return { vq, store };
}

const sub = (a: number[], b: number[]) => a.map((v, i) => v - b[i]);
const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
const norm = (a: number[]) => Math.sqrt(dot(a, a));

describe('VectorQuantizer forward', () => {
  test('L2: nearest code, output exactly the code, commitment loss β·mean‖z − q‖²', () => {
    const { vq } = makeVq({ commitmentWeight: 0.25 });
    const r = vq.discretize(tf.tensor2d(X), { mode: 'inference' });
    expect(values(r.indices)).toEqual(NEAREST);
    expect(values(r.output)).toEqual(NEAREST.flatMap((k) => CODES[k]));
    // squared errors .05 + .1 + .29 + .32 = .76 over 8 elements
    expect(r.auxLoss.dataSync()[0]).toBeCloseTo((0.25 * 0.76) / 8, 6);
  });

  test('keeps leading axes and reports usage stats', () => {
    const { vq } = makeVq();
    const r = vq.discretize(tf.tensor3d([X, X.map(([a, b]) => [b, a])]), { mode: 'inference', stats: true });
    expect(r.indices.shape).toEqual([2, 4]);
    expect(r.output.shape).toEqual([2, 4, 2]);
    // swapped rows: [-0.2, 0.1] → 0, [1.3, 0.9] → 1, [1.5, -0.8] → 0 (2.29 vs 3.13), [0.6, 0.6] → 1
    expect(values(r.indices)).toEqual([...NEAREST, 0, 1, 0, 1]);
    expect(r.stats?.histogram).toEqual([3, 4, 1]);
    expect(r.stats?.restartedCodes).toBe(0);
  });

  test('cosine: nearest by angle (not by distance), output the unit code', () => {
    const codes = [
      [3, 0],
      [0.2, 0.2],
    ];
    const x = [[1, 0.05]];
    const l2 = makeVq({}, codes).vq.discretize(tf.tensor2d(x), { mode: 'inference' });
    expect(values(l2.indices)).toEqual([1]);
    const { vq } = makeVq({ distance: 'cosine', commitmentWeight: 1 }, codes);
    const r = vq.discretize(tf.tensor2d(x), { mode: 'inference' });
    expect(values(r.indices)).toEqual([0]);
    expectClose(r.output, [1, 0], 0, 1e-7);
    // commitment between the normalised input and the unit code
    const u = [1 / Math.hypot(1, 0.05), 0.05 / Math.hypot(1, 0.05)];
    expect(r.auxLoss.dataSync()[0]).toBeCloseTo(((u[0] - 1) ** 2 + u[1] ** 2) / 2, 6);
  });

  test('lookup returns the code vectors for given indices', () => {
    const { vq } = makeVq();
    expect(values(vq.lookup(tf.tensor2d([2, 0, 1, 1], [2, 2], 'int32')))).toEqual([-1, 2, 0, 0, 1, 1, 1, 1]);
  });
});

describe('VectorQuantizer gradients', () => {
  const loss = (vq: VectorQuantizer, x: tf.Tensor, mode: 'train' | 'inference' = 'inference') => {
    const r = vq.discretize(x, { mode });
    return tf.add(tf.sum(tf.mul(r.output, tf.tensor2d(W))), r.auxLoss) as tf.Scalar;
  };

  test('straight-through: dL/dx = dL/dout + β·2(x − q)/(N·D)', () => {
    const beta = 0.4;
    const { vq } = makeVq({ commitmentWeight: beta });
    const g = tf.grad((x: tf.Tensor) => loss(vq, x))(tf.tensor2d(X));
    const expected = X.flatMap((x, i) =>
      x.map((v, j) => W[i][j] + (beta * 2 * (v - CODES[NEAREST[i]][j])) / 8),
    );
    expectClose(g, expected, 1e-5, 1e-6);
  });

  test('gradient learning: the codebook gets only the codebook loss gradient, w·2(q_k − z_i)/(N·D)', () => {
    const cw = 0.7;
    const { vq, store } = makeVq({ learning: 'gradient', codebookWeight: cw });
    expect(store.trainable()).toEqual([vq.codebook]);
    const { grads } = tf.variableGrads(() => loss(vq, tf.tensor2d(X)), [vq.codebook]);
    const expected = CODES.flatMap((code, k) =>
      code.map((c, j) => X.reduce((s, x, i) => s + (NEAREST[i] === k ? (cw * 2 * (c - x[j])) / 8 : 0), 0)),
    );
    expectClose(grads[vq.codebook.name], expected, 1e-5, 1e-7);
  });

  test('EMA learning: the codebook is not trainable', () => {
    const { store } = makeVq();
    expect(store.trainable()).toEqual([]);
    expect(store.names()).toEqual(['vq.codebook', 'vq.clusterSize', 'vq.embedSum']);
  });

  test('rotation trick matches PyTorch autograd (vector-quantize-pytorch formulation)', () => {
    const f = fixture<Record<'x' | 'q' | 'dy' | 'out' | 'gradX', FixtureTensor>>('rotation_trick.json');
    const q = fromFixture(f.q);
    const dy = fromFixture(f.dy);
    const x = fromFixture(f.x);
    expect(values(rotationTrick(x, q))).toEqual(values(q));
    const g = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(rotationTrick(z, q), dy)))(x);
    expectClose(g, f.gradX.data, 1e-4, 1e-4);
    // the torch forward (s·R·x) reproduces q, so the fixture is a rotation onto q
    expectClose(f.out.data, f.q.data, 1e-9, 1e-9);
  });

  test('VQ with the rotation trick: dL/dx = s·Rᵀ·dL/dout + commitment term, R built by hand', () => {
    const beta = 0.25;
    const { vq } = makeVq({ estimator: 'rotation', commitmentWeight: beta });
    const g = rows(tf.grad((x: tf.Tensor) => loss(vq, x))(tf.tensor2d(X)));
    X.forEach((x, i) => {
      const q = CODES[NEAREST[i]];
      let expected: number[];
      if (norm(q) === 0) {
        expected = [0, 0]; // q = 0: s = 0, nothing flows through the rotation
      } else {
        const u = x.map((v) => v / norm(x));
        const qh = q.map((v) => v / norm(q));
        const sum = u.map((v, j) => v + qh[j]);
        const w = sum.map((v) => v / norm(sum));
        // R = I − 2wwᵀ + 2q̂ûᵀ as an explicit matrix; check it rotates û onto q̂.
        const R = [0, 1].map((a) =>
          [0, 1].map((b) => (a === b ? 1 : 0) - 2 * w[a] * w[b] + 2 * qh[a] * u[b]),
        );
        expectClose(
          R.map((r) => dot(r, u)),
          qh,
          1e-12,
          1e-12,
        );
        const s = norm(q) / norm(x);
        expected = [0, 1].map((b) => s * (R[0][b] * W[i][0] + R[1][b] * W[i][1]));
      }
      const commit = sub(x, q).map((v) => (beta * 2 * v) / 8);
      expectClose(
        g[i],
        expected.map((v, j) => v + commit[j]),
        1e-5,
        1e-6,
      );
    });
  });

  test('projections: dimension D → codebookDim → D, gradients of both projections by hand', () => {
    const beta = 0.3;
    const store = new ParamStore(new Rng(4));
    const vq = new VectorQuantizer(store.scope('vq'), {
      dim: 3,
      codebookSize: 3,
      codebookDim: 2,
      commitmentWeight: beta,
    });
    vq.setCodebook(tf.tensor2d(CODES));
    expect(store.names()).toEqual([
      'vq.codebook',
      'vq.clusterSize',
      'vq.embedSum',
      'vq.projectIn.weight',
      'vq.projectIn.bias',
      'vq.projectOut.weight',
      'vq.projectOut.bias',
    ]);
    const x = [
      [0.5, -1, 2],
      [1, 0.3, -0.2],
      [-1.5, 2, 0.1],
      [0, 0, 1],
    ];
    const w = [
      [1, -2, 0.5],
      [0.3, 0.3, -1],
      [2, 0, 1],
      [-1, 1, 1],
    ];
    const win = rows(vq.projectIn!.weight);
    const bin = values(vq.projectIn!.bias!);
    const wout = rows(vq.projectOut!.weight);
    const bout = values(vq.projectOut!.bias!);
    // forward by hand
    const z = x.map((xi) =>
      [0, 1].map(
        (c) =>
          dot(
            xi,
            win.map((r) => r[c]),
          ) + bin[c],
      ),
    );
    const idx = z.map((zi) => {
      const d = CODES.map((c) => dot(sub(zi, c), sub(zi, c)));
      return d.indexOf(Math.min(...d));
    });
    const q = idx.map((k) => CODES[k]);
    const out = q.map((qi) => [0, 1, 2].map((o) => dot(qi, [wout[0][o], wout[1][o]]) + bout[o]));

    const names = ['vq.projectIn.weight', 'vq.projectIn.bias', 'vq.projectOut.weight', 'vq.projectOut.bias'];
    const vars = names.map((n) => store.get(n));
    const { value, grads } = tf.variableGrads(() => {
      const r = vq.discretize(tf.tensor2d(x), { mode: 'inference' });
      expect(values(r.indices)).toEqual(idx);
      expectClose(r.output, out.flat(), 1e-5, 1e-6);
      return tf.add(tf.sum(tf.mul(r.output, tf.tensor2d(w))), r.auxLoss) as tf.Scalar;
    }, vars);
    const commit = z.reduce((s, zi, i) => s + dot(sub(zi, q[i]), sub(zi, q[i])), 0) / 8;
    expectClose(
      [value.dataSync()[0]],
      [out.flat().reduce((s, v, i) => s + v * w.flat()[i], 0) + beta * commit],
      1e-5,
    );
    // dL/dz = w·Woutᵀ (straight through) + β·2(z − q)/(N·Dc)
    const dz = z.map((zi, i) => [0, 1].map((c) => dot(w[i], wout[c]) + (beta * 2 * (zi[c] - q[i][c])) / 8));
    const outer = (a: number[][], b: number[][], m: number, n: number) =>
      Array.from({ length: m }, (_, r) =>
        Array.from({ length: n }, (_, c) => a.reduce((s, ai, i) => s + ai[r] * b[i][c], 0)),
      ).flat();
    expectClose(grads[store.get('vq.projectIn.weight').name], outer(x, dz, 3, 2), 1e-5, 1e-6);
    expectClose(
      grads[store.get('vq.projectIn.bias').name],
      [0, 1].map((c) => dz.reduce((s, d) => s + d[c], 0)),
      1e-5,
      1e-6,
    );
    expectClose(grads[store.get('vq.projectOut.weight').name], outer(q, w, 2, 3), 1e-5, 1e-6);
    expectClose(
      grads[store.get('vq.projectOut.bias').name],
      [0, 1, 2].map((o) => w.reduce((s, wi) => s + wi[o], 0)),
      1e-5,
      1e-6,
    );
  });
});

describe('VectorQuantizer EMA', () => {
  test('one train step updates clusterSize, embedSum and the codebook as computed by hand', () => {
    const decay = 0.5;
    const eps = 1e-3;
    const { vq } = makeVq({ decay, eps });
    const r = vq.discretize(tf.tensor2d(X), { mode: 'train' });
    // the step's output uses the codebook before the update
    expect(values(r.output)).toEqual(NEAREST.flatMap((k) => CODES[k]));
    const counts = [0, 1, 2].map((k) => NEAREST.filter((n) => n === k).length);
    const batchSum = [0, 1, 2].map((k) =>
      [0, 1].map((j) => X.reduce((s, x, i) => s + (NEAREST[i] === k ? x[j] : 0), 0)),
    );
    const cs = counts.map((c) => decay * 1 + (1 - decay) * c);
    const es = CODES.map((code, k) => code.map((v, j) => decay * v + (1 - decay) * batchSum[k][j]));
    const n = cs.reduce((a, b) => a + b, 0);
    const smoothed = cs.map((c) => ((c + eps) / (n + 3 * eps)) * n);
    expectClose(vq.clusterSize, cs, 1e-6);
    expectClose(vq.embedSum!, es.flat(), 1e-6, 1e-7);
    expectClose(
      vq.codebook,
      es.flatMap((row, k) => row.map((v) => v / smoothed[k])),
      1e-5,
      1e-7,
    );
  });

  test('cosine EMA step: the codebook is the normalised EMA of normalised inputs', () => {
    const decay = 0.8;
    const codes = [
      [1, 0],
      [0, 1],
      [-Math.SQRT1_2, Math.SQRT1_2],
    ];
    const { vq } = makeVq({ decay, distance: 'cosine' }, codes);
    const r = vq.discretize(tf.tensor2d(X));
    const unit = X.map((x) => x.map((v) => v / norm(x)));
    // nearest by largest dot product with the unit codes
    const idx = unit.map((u) => {
      const sims = codes.map((c) => dot(u, c));
      return sims.indexOf(Math.max(...sims));
    });
    expect(values(r.indices)).toEqual(idx);
    const es = codes.map((code, k) =>
      code.map(
        (v, j) => decay * v + (1 - decay) * unit.reduce((s, u, i) => s + (idx[i] === k ? u[j] : 0), 0),
      ),
    );
    expectClose(vq.embedSum!, es.flat(), 1e-5, 1e-7);
    // dividing a row by its (positive) smoothed size does not change its direction
    expectClose(
      vq.codebook,
      es.flatMap((row) => row.map((v) => v / norm(row))),
      1e-5,
      1e-7,
    );
  });

  test('inference mode changes no state', () => {
    const { vq, store } = makeVq({ deadCodeThreshold: 5, kmeansInit: true });
    const before = store.names().map((n) => values(store.get(n)));
    const rngBefore = vq.rng.getState();
    vq.discretize(tf.tensor2d(X), { mode: 'inference' });
    expect(store.names().map((n) => values(store.get(n)))).toEqual(before);
    expect(vq.rng.getState()).toEqual(rngBefore);
  });
});
