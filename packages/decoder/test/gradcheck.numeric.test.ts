// Finite-difference gradient checks on a tiny student, per parameter tensor (a random direction in
// that tensor; central differences), through each discretizer's differentiable path:
// - soft temperature softmax and soft Gumbel-softmax (fixed noise): the loss is smooth, so autodiff
//   must equal the finite difference of the real function;
// - straight-through temperature softmax and the vector quantizer: the forward pass is piecewise
//   constant in the logits, so autodiff (through the real discretizer) is compared with the finite
//   difference of the straight-through surrogate: the recorded forward output plus (soft − soft₀) or
//   (x − x₀), and for VQ the commitment loss β·mean‖x − q₀‖² — the function the estimator differentiates.
import { Student, type StudentConfigInput } from '@symseq/decoder';
import type { DiscretizerOutput } from '@symseq/discretize';
import { Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { dinoCrossEntropy, randn, randomizeParams } from './helpers';

const config = (discretizer: StudentConfigInput['discretizer']): StudentConfigInput => ({
  teacherDim: 4,
  dModel: 8,
  heads: 2,
  vocabSize: 5,
  maxLength: 3,
  lengths: [1, 3],
  decoder: { layers: 1, mlpRatio: 2 },
  encoder: { layers: 1, mlpRatio: 2 },
  projector: { layers: 2, hiddenDim: 8, bottleneckDim: 4, outDim: 6 },
  discretizer,
});

type Discretized = DiscretizerOutput;

interface Case {
  name: string;
  discretizer: StudentConfigInput['discretizer'];
  mode: 'train' | 'inference';
  /** For straight-through paths: the surrogate output given the recorded call and the new input. */
  surrogate?: (student: Student, recorded: { x: tf.Tensor; out: Discretized }, x: tf.Tensor) => Discretized;
}

const cases: Case[] = [
  {
    name: 'soft temperature softmax',
    discretizer: { kind: 'temperature', options: { temperature: 0.7, hard: false } },
    mode: 'train',
  },
  {
    name: 'soft Gumbel-softmax with fixed noise',
    discretizer: { kind: 'gumbel', options: { temperature: 0.7, hard: false } },
    mode: 'train',
  },
  {
    name: 'straight-through temperature softmax',
    discretizer: { kind: 'temperature', options: { temperature: 0.7 } },
    mode: 'train',
    surrogate: (_s, rec, x) => ({
      indices: rec.out.indices,
      output: tf.add(rec.out.output, tf.sub(tf.softmax(tf.div(x, 0.7)), tf.softmax(tf.div(rec.x, 0.7)))),
      auxLoss: tf.scalar(0),
    }),
  },
  {
    name: 'vector quantizer (straight-through, commitment loss)',
    discretizer: { kind: 'vq', codeDim: 3, options: { commitmentWeight: 0.25 } },
    mode: 'inference', // no EMA update between evaluations
    surrogate: (_s, rec, x) => ({
      indices: rec.out.indices,
      output: tf.add(rec.out.output, tf.sub(x, rec.x)),
      auxLoss: tf.mul(tf.mean(tf.squaredDifference(x, rec.out.output)), 0.25) as tf.Scalar,
    }),
  },
];

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(cases)('finite differences: $name', (c) => {
  test('every parameter tensor: autodiff = central difference', () => {
    const student = new Student(config(c.discretizer), { seed: 1 });
    randomizeParams(student.store, 2, 0.3);
    const tokens = randn([2, 3, 4], 3);
    const target = tf.softmax(randn([2, 6], 4));
    const noiseState = student.noiseRng.getState();
    const loss = () => {
      student.noiseRng.setState(noiseState); // the same Gumbel noise at every evaluation
      const out = student.forward(tokens, { mode: c.mode });
      let l = out.auxLoss;
      for (const p of out.prefixes) l = tf.add(l, dinoCrossEntropy(p.projection, target, 0.5));
      return l as tf.Scalar;
    };

    const named = student.namedTrainableVariables();
    const { grads } = tf.variableGrads(
      loss,
      named.map(([, v]) => v),
    );

    if (c.surrogate) {
      // Record the discretizer's inputs and outputs at the base point, then replay the surrogate.
      const recorded: { x: tf.Tensor; out: Discretized }[] = [];
      const original = student.discretizer.discretize.bind(student.discretizer);
      tf.tidy(() => {
        const spy = vi.spyOn(student.discretizer, 'discretize').mockImplementation((x, opts) => {
          const out = original(x, opts);
          for (const t of [out.indices, out.output, out.auxLoss]) tf.keep(t);
          recorded.push({ x: tf.keep(tf.clone(x)), out });
          return out;
        });
        loss();
        spy.mockRestore();
      });
      let call = 0;
      vi.spyOn(student.discretizer, 'discretize').mockImplementation((x) => {
        const r = recorded[call++ % recorded.length];
        return c.surrogate!(student, r, x);
      });
    }

    const rng = new Rng(5);
    const eps = 1e-2;
    const results: { name: string; ad: number; fd: number }[] = [];
    for (const [name, v] of named) {
      const base = tf.clone(v);
      const dir = tf.tensor(rng.fill(v.size, 'normal'), v.shape, 'float32');
      const u = tf.div(dir, tf.sqrt(tf.sum(tf.square(dir))));
      const at = (s: number) => {
        v.assign(tf.tidy(() => tf.add(base, tf.mul(u, s))));
        return tf.tidy(() => loss().dataSync()[0]);
      };
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      v.assign(base);
      const ad = tf.tidy(() => tf.sum(tf.mul(grads[v.name], u)).dataSync()[0]);
      results.push({ name, ad, fd });
      tf.dispose([base, dir, u]);
    }
    const scale = Math.max(...results.map((r) => Math.abs(r.ad)));
    expect(scale).toBeGreaterThan(1e-3);
    const bad = results.filter((r) => !(Math.abs(r.ad - r.fd) <= 3e-2 * Math.abs(r.fd) + 2e-3 * scale));
    expect(bad, `scale ${scale}`).toEqual([]);
    tf.dispose([grads, tokens, target]);
    student.dispose();
  });
});
