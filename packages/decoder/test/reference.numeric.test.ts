// The whole student against an independent float64 PyTorch implementation
// (tools/reference/decoder_reference.py): forward values and every parameter gradient, through
// the autoregressive chain with straight-through one-hots and with soft one-hots.
import { Student, type StudentConfigInput } from '@symseq/decoder';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { expectClose, type FixtureTensor, fixture, fromFixture, sumAll, toHost } from './helpers';

interface Case {
  temperature: number;
  hard: boolean;
  symbols: number[][];
  logits: FixtureTensor[];
  crossAttention: FixtureTensor[][];
  embeddings: Record<string, FixtureTensor>;
  projections: Record<string, FixtureTensor>;
  loss: number;
  grads: Record<string, FixtureTensor>;
}

const fx = fixture<{
  config: StudentConfigInput & { lengths: number[] };
  tokens: FixtureTensor;
  params: Record<string, FixtureTensor>;
  lossWeights: Record<string, FixtureTensor>;
  cases: Record<'hard' | 'soft', Case>;
}>('student_reference.json');

function buildStudent(c: Case): Student {
  const student = new Student({
    ...fx.config,
    discretizer: { kind: 'temperature', options: { temperature: c.temperature, hard: c.hard } },
  });
  student.store.load(Object.fromEntries(Object.entries(fx.params).map(([k, v]) => [k, toHost(v)])));
  return student;
}

describe.each(['hard', 'soft'] as const)('student against PyTorch (%s one-hots)', (name) => {
  const c = fx.cases[name];
  let student: Student;
  let tokens: tf.Tensor;
  beforeAll(() => {
    student = buildStudent(c);
    tokens = fromFixture(fx.tokens);
  });
  afterAll(() => {
    student.dispose();
    tokens.dispose();
  });

  test('symbols, head logits and cross-attention of every step', () => {
    const out = student.forward(tokens, { mode: 'train' });
    expect(out.decoder.symbols.dtype).toBe('int32');
    expect(out.decoder.symbols.arraySync()).toEqual(c.symbols);
    for (const [t, l] of c.logits.entries()) {
      expectClose(out.decoder.logits[t], l.data, 1e-4, 1e-5, `logits step ${t}`);
    }
    for (const [t, perLayer] of c.crossAttention.entries()) {
      for (const [l, a] of perLayer.entries()) {
        expectClose(out.decoder.crossAttention[t][l], a.data, 1e-4, 1e-6, `attention step ${t} layer ${l}`);
      }
    }
    tf.dispose(out as unknown as tf.TensorContainer);
  });

  test('encoder embedding and projector output per prefix length', () => {
    const out = student.forward(tokens, { mode: 'train' });
    expect(out.prefixes.map((p) => p.length)).toEqual(fx.config.lengths);
    for (const p of out.prefixes) {
      expectClose(p.embedding, c.embeddings[p.length].data, 1e-4, 1e-5, `embedding l=${p.length}`);
      expectClose(p.projection, c.projections[p.length].data, 1e-4, 1e-5, `projection l=${p.length}`);
    }
    tf.dispose(out as unknown as tf.TensorContainer);
  });

  test('gradient of every trainable parameter', () => {
    const named = student.namedTrainableVariables();
    const vars = named.map(([, v]) => v);
    // weight_g is frozen (norm_last_layer): the only parameter without a gradient.
    expect(named.map(([n]) => n).sort()).toEqual(
      Object.keys(c.grads)
        .filter((n) => n !== 'projector.last_layer.weight_g')
        .sort(),
    );
    const weights = Object.fromEntries(Object.entries(fx.lossWeights).map(([k, v]) => [k, fromFixture(v)]));
    const { value, grads } = tf.variableGrads(() => {
      const out = student.forward(tokens, { mode: 'train' });
      return sumAll(out.prefixes.map((p) => tf.sum(tf.mul(p.projection, weights[p.length])))) as tf.Scalar;
    }, vars);
    expect(value.dataSync()[0]).toBeCloseTo(c.loss, 4);
    for (const [name, v] of named) {
      // Tolerance relative to the tensor's largest gradient: float32 vs float64 through 4 steps.
      const ref = c.grads[name].data;
      const scale = Math.max(...ref.map(Math.abs));
      expectClose(grads[v.name], ref, 2e-3, 2e-3 * scale + 1e-7, `grad ${name}`);
    }
    tf.dispose([value, grads, weights]);
  });
});

test('inference mode gives the hard case exactly', () => {
  const student = buildStudent(fx.cases.soft);
  const tokens = fromFixture(fx.tokens);
  const out = student.forward(tokens, { mode: 'inference' });
  expect(out.decoder.symbols.arraySync()).toEqual(fx.cases.hard.symbols);
  for (const p of out.prefixes) {
    expectClose(
      p.projection,
      fx.cases.hard.projections[p.length].data,
      1e-4,
      1e-5,
      `projection l=${p.length}`,
    );
  }
  tf.dispose(out as unknown as tf.TensorContainer);
  student.dispose();
  tokens.dispose();
});
