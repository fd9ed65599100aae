// Student wiring: training (overfitting a tiny batch), gradients reaching every parameter with each
// discretizer, memory discipline, checkpoints, the inference helpers, and config errors.
import { Student, type StudentConfigInput } from '@symseq/decoder';
import { readSafetensors, writeSafetensors } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { dinoCrossEntropy, maxAbs, randn, randomizeParams, tinyStudentConfig } from './helpers';

const B = 4;
const N = 6;
const DT = 12;
const K = 16;
const tiny = (discretizer: StudentConfigInput['discretizer'] = {}): StudentConfigInput =>
  tinyStudentConfig(DT, discretizer);

/** Each image gets its own target class: the loss can only get low if the symbols tell images apart. */
const oneHotTargets = () => tf.tidy(() => tf.cast(tf.oneHot(tf.range(0, 2 * B, 2, 'int32'), K), 'float32'));

function studentLoss(student: Student, tokens: tf.Tensor, target: tf.Tensor, lengths?: number[]) {
  const out = student.forward(tokens, { mode: 'train', lengths });
  let loss = out.auxLoss;
  for (const p of out.prefixes) loss = tf.add(loss, dinoCrossEntropy(p.projection, target));
  return loss as tf.Scalar;
}

test('overfits a tiny batch with Adam, with tf.memory().numTensors flat over 100 steps', () => {
  const student = new Student(tiny({ kind: 'temperature' }), { seed: 1 });
  // The default init (trunc-normal 0.02) starts every image on nearly the same symbols; a wider
  // random init gives the decoder distinct sequences to start from. Straight-through training
  // does not separate every image from every start: of four random starts tried, three reached a
  // loss below 0.01 and one kept two images on one sequence (loss 1.2). This test pins one start.
  randomizeParams(student.store, 3, 0.3);
  const tokens = randn([B, N, DT], 1);
  const target = oneHotTargets();
  const longest = () =>
    tf.tidy(
      () =>
        dinoCrossEntropy(
          student.forward(tokens, { mode: 'inference' }).prefixes[2].projection,
          target,
        ).dataSync()[0],
    );
  const before = longest();
  const optimizer = tf.train.adam(3e-3);
  const vars = student.trainableVariables();
  let tensorsAfterFirstStep = 0;
  for (let step = 0; step < 100; step++) {
    optimizer.minimize(() => studentLoss(student, tokens, target, [4]), false, vars);
    if (step === 0) tensorsAfterFirstStep = tf.memory().numTensors; // Adam's slots exist from here on
  }
  expect(tf.memory().numTensors).toBe(tensorsAfterFirstStep);
  const after = longest();
  // ln B is the best a student that writes the same symbols for every image can reach.
  expect(before).toBeGreaterThan(Math.log(B));
  expect(after).toBeLessThan(before / 100);
  const symbols = tf.tidy(() => student.encode(tokens).symbols.arraySync() as number[][]);
  expect(new Set(symbols.map((s) => s.join(','))).size).toBe(B);
  tf.dispose([tokens, target]);
  optimizer.dispose();
  student.dispose();
});

describe.each([
  { name: 'temperature softmax', discretizer: { kind: 'temperature' as const } },
  { name: 'Gumbel-softmax', discretizer: { kind: 'gumbel' as const } },
  { name: 'VQ, EMA codebook', discretizer: { kind: 'vq' as const, codeDim: 8 } },
  {
    name: 'VQ, gradient-learned codebook',
    discretizer: { kind: 'vq' as const, codeDim: 8, options: { learning: 'gradient' } },
  },
  { name: 'FSQ', discretizer: { kind: 'fsq' as const, levels: [4, 4] } },
])('gradients with $name', ({ discretizer }) => {
  test('every trainable variable gets a finite, non-zero gradient through the projector loss', () => {
    const student = new Student(tiny(discretizer), { seed: 2 });
    randomizeParams(student.store, 6, 0.3);
    const named = student.namedTrainableVariables();
    const names = named.map(([n]) => n);
    expect(names).not.toContain('projector.last_layer.weight_g');
    expect(names.includes('discretizer.codebook')).toBe(discretizer.options?.learning === 'gradient');
    const tokens = randn([4, N, DT], 3);
    const target = tf.softmax(randn([4, K], 4));
    const { grads } = tf.variableGrads(
      () => studentLoss(student, tokens, target),
      named.map(([, v]) => v),
    );
    const scale = Math.max(...named.map(([, v]) => maxAbs(grads[v.name])));
    for (const [name, v] of named) {
      const g = grads[v.name];
      expect(g, name).toBeDefined();
      expect(tf.all(tf.isFinite(g)).dataSync()[0], `${name} finite`).toBe(1);
      if (/attn\.k\.bias$/.test(name)) {
        // softmax(q·(k + b)) does not depend on b (the same shift for every key): zero gradient.
        expect(maxAbs(g), name).toBeLessThan(1e-5 * scale);
      } else {
        expect(maxAbs(g), `${name} non-zero`).toBeGreaterThan(1e-7 * scale);
      }
    }
    tf.dispose([grads, tokens, target]);
    student.dispose();
  });
});

test('inference calls keep tf.memory().numTensors flat', () => {
  const student = new Student(tiny({ kind: 'vq', codeDim: 8 }), { seed: 3 });
  const tokens = randn([2, N, DT], 5);
  const ids = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
  const once = () => {
    tf.dispose(student.forward(tokens, { mode: 'inference' }) as unknown as tf.TensorContainer);
    tf.dispose(student.encode(tokens) as unknown as tf.TensorContainer);
    tf.dispose(student.embedSymbols(ids));
  };
  once();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) once();
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([tokens, ids]);
  student.dispose();
});

describe('checkpoints', () => {
  async function roundTrip(config: StudentConfigInput, mode: 'train' | 'inference') {
    const student = new Student(config, { seed: 4 });
    randomizeParams(student.store, 7, 0.3);
    const tokens = randn([3, N, DT], 8);
    // Train-mode calls move the VQ's EMA state and the Gumbel noise stream before saving.
    for (let i = 0; i < 2; i++)
      tf.dispose(student.forward(tokens, { mode: 'train' }) as unknown as tf.TensorContainer);
    const { json, weights } = await student.save({ step: 2 });
    const loaded = Student.load(json, weights);
    expect(loaded.config).toEqual(student.config);
    const a = student.forward(tokens, { mode });
    const b = loaded.forward(tokens, { mode });
    expect(b.decoder.symbols.arraySync()).toEqual(a.decoder.symbols.arraySync());
    a.prefixes.forEach((p, i) => {
      expect(b.prefixes[i].projection.dataSync()).toEqual(p.projection.dataSync());
      expect(b.prefixes[i].embedding.dataSync()).toEqual(p.embedding.dataSync());
    });
    tf.dispose([a, b, tokens] as unknown as tf.TensorContainer);
    student.dispose();
    loaded.dispose();
  }

  test('save → load reproduces outputs exactly (VQ with its EMA state)', () =>
    roundTrip(tiny({ kind: 'vq', codeDim: 8 }), 'inference'));
  test('save → load restores the Gumbel noise stream: train-mode outputs match', () =>
    roundTrip(tiny({ kind: 'gumbel' }), 'train'));

  test('the JSON holds kind, format version, the full config and the student version', async () => {
    const student = new Student(tiny(), { seed: 5 });
    const { json } = await student.save({ step: 7 });
    const parsed = JSON.parse(json);
    expect(parsed).toMatchObject({ format: 'symseq-checkpoint', version: 1, kind: 'symseq-student' });
    expect(parsed.config).toEqual(student.config);
    expect(parsed.meta).toMatchObject({ step: 7, studentVersion: 1 });
    student.dispose();
  });

  test('wrong versions, kind, missing or misshapen tensors give clear errors', async () => {
    const student = new Student(tiny(), { seed: 6 });
    const { json, weights } = await student.save();
    const j = JSON.parse(json);
    const edit = (patch: Record<string, unknown>) => JSON.stringify({ ...j, ...patch });
    expect(() => Student.load(edit({ version: 2 }), weights, { source: 'run/student' })).toThrow(
      'run/student.json: format version 2 is not supported; this build reads version 1',
    );
    expect(() => Student.load(edit({ kind: 'symseq-teacher' }), weights)).toThrow(
      `checkpoint.json: field 'kind' is "symseq-teacher", expected 'symseq-student'`,
    );
    expect(() => Student.load(edit({ meta: { ...j.meta, studentVersion: 9 } }), weights)).toThrow(
      'checkpoint.json: meta.studentVersion is 9; this build reads student version 1',
    );
    expect(() => Student.load(edit({ config: { ...j.config, dModel: 'big' } }), weights)).toThrow(
      /invalid Student config:\n {2}dModel: Expected number, received string/,
    );
    const { tensors } = readSafetensors(weights);
    const { 'decoder.head.weight': _dropped, ...rest } = tensors;
    expect(() => Student.load(json, writeSafetensors(rest), { source: 'run/student' })).toThrow(
      "ParamStore.load (from run/student.safetensors): missing tensor 'decoder.head.weight'",
    );
    const wrongShape = { ...tensors, 'decoder.head.weight': { shape: [2, 2], data: new Float32Array(4) } };
    expect(() => Student.load(json, writeSafetensors(wrongShape))).toThrow(
      "tensor 'decoder.head.weight' has shape [2, 2], expected [32, 16]",
    );
    student.dispose();
  });
});

describe('inference helpers', () => {
  test('encode: symbols as in inference forward, attention maps [layers, B, heads, L, N] of probabilities', () => {
    const student = new Student({ ...tiny(), decoder: { layers: 2, mlpRatio: 2 } }, { seed: 7 });
    randomizeParams(student.store, 9, 0.3);
    const tokens = randn([3, N, DT], 10);
    const enc = student.encode(tokens);
    const fwd = student.forward(tokens, { mode: 'inference', lengths: [4] });
    expect(enc.symbols.dtype).toBe('int32');
    expect(enc.symbols.arraySync()).toEqual(fwd.decoder.symbols.arraySync());
    expect(enc.crossAttention.shape).toEqual([2, 3, 2, 4, N]);
    const sums = tf.sum(enc.crossAttention, -1).dataSync();
    for (const s of sums) expect(s).toBeCloseTo(1, 5);
    // Entry [l, b, h, t, :] is what decoder layer l's head h gave symbol t of image b.
    const att = enc.crossAttention.arraySync() as number[][][][][];
    for (let t = 0; t < 4; t++) {
      for (let l = 0; l < 2; l++) {
        const step = fwd.decoder.crossAttention[t][l].arraySync() as number[][][]; // [B, heads, N]
        for (let b = 0; b < 3; b++) {
          for (let h = 0; h < 2; h++) {
            for (let n = 0; n < N; n++) expect(att[l][b][h][t][n]).toBeCloseTo(step[b][h][n], 6);
          }
        }
      }
    }
    // Re-reading the written symbols as ids gives the embedding the forward pass computed.
    const again = student.embedSymbols(enc.symbols);
    expect(maxAbs(tf.sub(again, fwd.prefixes[0].embedding))).toBeLessThan(1e-5);
    tf.dispose([enc, fwd, tokens, again] as unknown as tf.TensorContainer);
    student.dispose();
  });

  test('the symbol encoder reads positions: a permuted sequence embeds differently', () => {
    const student = new Student(tiny(), { seed: 8 });
    randomizeParams(student.store, 11, 0.3);
    const a = student.embedSymbols(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'));
    const b = student.embedSymbols(tf.tensor2d([[3, 2, 1]], [1, 3], 'int32'));
    expect(maxAbs(tf.sub(a, b))).toBeGreaterThan(1e-2);
    expect(() => student.embedSymbols(tf.zeros([1, 5], 'int32'))).toThrow(
      'sequence length 5 is outside 1..4',
    );
    expect(() => student.embedSymbols(tf.zeros([1, 2]))).toThrow(
      'expected int32 symbols [B, T], got float32 [1, 2]',
    );
    student.dispose();
  });
});

test('config errors name the field and what was expected', () => {
  expect(() => new Student({} as StudentConfigInput)).toThrow(
    'invalid Student config:\n  teacherDim: Required',
  );
  expect(() => new Student({ ...tiny(), dModel: 30, heads: 4 })).toThrow(
    'heads: dModel 30 is not divisible by 4',
  );
  expect(() => new Student({ ...tiny(), lengths: [1, 8] })).toThrow('lengths: length 8 exceeds maxLength 4');
  expect(() => new Student({ ...tiny(), projecter: {} } as never)).toThrow(
    "projecter: unknown key (did you mean 'projector'?)",
  );
  expect(() => new Student(tiny({ kind: 'fsq' }))).toThrow("discretizer.levels: is required for kind 'fsq'");
  expect(() => new Student(tiny({ kind: 'fsq', levels: [4, 3] }))).toThrow(
    'vocabSize: is 16, but fsq levels [4, 3] give 12 symbols',
  );
  expect(() => new Student(tiny({ kind: 'temperature', options: { numCodes: 3 } }))).toThrow(
    'discretizer.options.numCodes: is set by the student; remove it',
  );
  // Options are checked against the class's own schema with the Student config, before anything is built.
  expect(() => new Student(tiny({ kind: 'temperature', options: { temprature: 2 } }))).toThrow(
    /invalid Student config:\n {2}discretizer\.options\.temprature: unknown key for the 'temperature' discretizer \(did you mean 'temperature'\?\)/,
  );
  expect(() => new Student(tiny({ kind: 'vq', options: { commitmentWieght: 1 } }))).toThrow(
    "discretizer.options.commitmentWieght: unknown key for the 'vq' discretizer (did you mean 'commitmentWeight'?)",
  );
  expect(() => new Student(tiny({ kind: 'gumbel', options: { hard: 'yes' } }))).toThrow(
    'discretizer.options.hard: Expected boolean, received string',
  );
  expect(() => new Student(tiny({ kind: 'temperature', codeDim: 8 }))).toThrow(
    "discretizer.codeDim: is only used by kinds 'vq' and 'fsq'",
  );
  const student = new Student(tiny());
  const tokens = tf.zeros([1, N, DT]);
  expect(() => student.forward(tokens, { lengths: [5] })).toThrow(
    'Student.forward: length 5 is outside 1..4',
  );
  expect(() => student.forward(tokens, { mode: 'eval' as never })).toThrow(
    `Student.forward: mode must be 'train' or 'inference', got "eval"`,
  );
  tokens.dispose();
  student.dispose();
});
