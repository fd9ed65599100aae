// `decoder.standardizeTokens`: frozen per-channel token statistics applied before the token
// projection, equal to feeding pre-standardised tokens to a plain decoder with the same weights.
import { Student, type StudentConfigInput } from '@symseq/decoder';
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { maxAbs, randn, tinyStudentConfig } from './helpers';

const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => maxAbs(tf.sub(a, b)));

const DT = 12;
const config = (standardizeTokens: boolean): StudentConfigInput =>
  tinyStudentConfig(DT, { kind: 'temperature' }, { standardizeTokens });

// Channels with offsets and scales far from 0 and 1, as real teacher tokens have (ReLU outputs).
const mean = Array.from({ length: DT }, (_, c) => 3 + 0.5 * c);
const std = Array.from({ length: DT }, (_, c) => 0.2 + 0.3 * c);

test('the standardised decoder on raw tokens equals a plain decoder on (x − mean) / std', () => {
  const a = new Student(config(true), { seed: 5 });
  const b = new Student(config(false), { seed: 5 });
  // The frozen statistics draw nothing from the seed: every other weight is the same.
  for (const [name, v] of b.namedTrainableVariables()) {
    expect(maxDiff(a.store.get(name), v), name).toBe(0);
  }
  a.decoder.setTokenStatistics(mean, std);
  const standard = randn([3, 5, DT], 2);
  const raw = tf.tidy(() => tf.add(tf.mul(standard, tf.tensor1d(std)), tf.tensor1d(mean)));
  const oa = a.forward(raw, { mode: 'inference' });
  const ob = b.forward(standard, { mode: 'inference' });
  expect(Array.from(oa.decoder.symbols.dataSync())).toEqual(Array.from(ob.decoder.symbols.dataSync()));
  for (let t = 0; t < oa.decoder.logits.length; t++) {
    expect(maxDiff(oa.decoder.logits[t], ob.decoder.logits[t])).toBeLessThan(1e-4);
  }
  // Without the statistics the same raw tokens give other logits: the option is not a no-op.
  const c = new Student(config(true), { seed: 5 });
  const oc = c.forward(raw, { mode: 'inference' });
  expect(maxDiff(oc.decoder.logits[0], oa.decoder.logits[0])).toBeGreaterThan(1e-2);
  // The statistics are frozen: not among the optimiser's variables.
  const names = a.namedTrainableVariables().map(([n]) => n);
  expect(names).not.toContain('decoder.token_mean');
  expect(names).not.toContain('decoder.token_std');
  tf.dispose([standard, raw, ...[oa, ob, oc].map((o) => o as unknown as tf.TensorContainer)]);
});

test('the statistics travel with the checkpoint', async () => {
  const a = new Student(config(true), { seed: 7 });
  a.decoder.setTokenStatistics(mean, std);
  const { json, weights } = await a.save();
  const back = Student.load(json, weights);
  expect(Array.from(back.store.get('decoder.token_mean').dataSync())).toEqual(
    Array.from(new Float32Array(mean)),
  );
  expect(Array.from(back.store.get('decoder.token_std').dataSync())).toEqual(
    Array.from(new Float32Array(std)),
  );
  const x = randn([2, 5, DT], 3, 4);
  const [s1, s2] = [a.encode(x).symbols, back.encode(x).symbols];
  expect(Array.from(s2.dataSync())).toEqual(Array.from(s1.dataSync()));
  tf.dispose([x, s1, s2]);
});

test('bad statistics are refused with the field and the expected value', () => {
  const a = new Student(config(true), { seed: 1 });
  expect(() => a.decoder.setTokenStatistics(mean.slice(1), std)).toThrow(
    'mean has 11 values, expected teacherDim 12',
  );
  const zeroStd = std.slice();
  zeroStd[4] = 0;
  expect(() => a.decoder.setTokenStatistics(mean, zeroStd)).toThrow(
    'std[4] is 0; expected a finite number > 0',
  );
  const nanMean = mean.slice();
  nanMean[2] = Number.NaN;
  expect(() => a.decoder.setTokenStatistics(nanMean, std)).toThrow('mean[2] is NaN');
  const plain = new Student(config(false), { seed: 1 });
  expect(() => plain.decoder.setTokenStatistics(mean, std)).toThrow('built without standardizeTokens');
  expect(() => new Student({ ...config(true), decoder: { standardizeTokens: 'yes' } } as never)).toThrow(
    /standardizeTokens/,
  );
});
