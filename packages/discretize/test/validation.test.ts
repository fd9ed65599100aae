import { ParamStore, Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import {
  FSQ,
  GumbelSoftmax,
  gumbelSoftmax,
  TemperatureSoftmax,
  temperatureSoftmax,
  VectorQuantizer,
  type VectorQuantizerConfig,
} from '../src';

// biome-ignore lint/suspicious/noExplicitAny: these tests play a JavaScript caller making mistakes
type Any = any;

const logits = () => tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
const vq = (config: Partial<VectorQuantizerConfig> = {}) =>
  new VectorQuantizer(new ParamStore(new Rng(0)).scope('vq'), { dim: 4, codebookSize: 8, ...config });

describe('input validation', () => {
  test('wrong rank', () => {
    expect(() => temperatureSoftmax(tf.tensor1d([1, 2]))).toThrow(
      'temperatureSoftmax: expected a tensor of rank ≥ 2 ([..., V]), got shape [2]',
    );
    expect(() => vq().discretize(tf.tensor1d([1, 2, 3, 4]))).toThrow(
      'VectorQuantizer: expected a tensor of rank ≥ 2 ([..., D]), got shape [4]',
    );
    expect(() => new FSQ({ levels: [3, 3] }).discretize(tf.scalar(1))).toThrow(
      /FSQ: expected a tensor of rank ≥ 2/,
    );
  });

  test('V / D mismatch names the expected size', () => {
    expect(() => new TemperatureSoftmax({ numCodes: 4 }).discretize(logits())).toThrow(
      'TemperatureSoftmax: input ([..., V]): expected last dimension 4, got shape [2, 3]',
    );
    expect(() => new GumbelSoftmax({ numCodes: 5, seed: 1 }).discretize(logits())).toThrow(
      'GumbelSoftmax: input ([..., V]): expected last dimension 5, got shape [2, 3]',
    );
    expect(() => vq().discretize(tf.zeros([3, 5]))).toThrow(
      'VectorQuantizer: input ([..., D]): expected last dimension 4, got shape [3, 5]',
    );
    expect(() => new FSQ({ levels: [3, 3] }).discretize(tf.zeros([2, 3]))).toThrow(
      'FSQ: input ([..., D]): expected last dimension 2, got shape [2, 3]',
    );
  });

  test('non-finite values', () => {
    expect(() => temperatureSoftmax(tf.tensor2d([[1, Number.NaN]]))).toThrow(
      'temperatureSoftmax: input: contains non-finite values (NaN or Inf)',
    );
    expect(() => gumbelSoftmax(tf.tensor2d([[1, Number.POSITIVE_INFINITY]]), { rng: new Rng(1) })).toThrow(
      /gumbelSoftmax: input: contains non-finite/,
    );
    expect(() => vq().discretize(tf.tensor2d([[0, 0, Number.NEGATIVE_INFINITY, 0]]))).toThrow(
      /VectorQuantizer: input: contains non-finite/,
    );
    expect(() => new FSQ({ levels: [3, 3] }).discretize(tf.tensor2d([[Number.NaN, 0]]))).toThrow(
      /FSQ: input: contains non-finite/,
    );
    expect(() => vq().initCodebook(tf.tensor2d([[0, 0, Number.NaN, 0]]))).toThrow(
      /VectorQuantizer.initCodebook: input: contains non-finite/,
    );
  });

  test('temperature ≤ 0 or not a number', () => {
    expect(() => temperatureSoftmax(logits(), { temperature: 0 })).toThrow(
      'temperatureSoftmax: temperature: must be a finite number > 0, got 0',
    );
    expect(() => gumbelSoftmax(logits(), { rng: new Rng(1), temperature: -0.5 })).toThrow(
      'gumbelSoftmax: temperature: must be a finite number > 0, got -0.5',
    );
    expect(() => temperatureSoftmax(logits(), { temperature: Number.NaN })).toThrow(
      /temperature: must be a finite/,
    );
    expect(() => new TemperatureSoftmax({ numCodes: 3, temperature: 0 })).toThrow(
      /invalid TemperatureSoftmax config:\n {2}temperature/,
    );
  });

  test('other bad inputs: dtype, non-tensors, mode, missing rng or step', () => {
    expect(() => temperatureSoftmax(tf.tensor2d([[1, 2]], [1, 2], 'int32'))).toThrow(
      'temperatureSoftmax: expected a float32 tensor, got int32',
    );
    expect(() => temperatureSoftmax([[1, 2]] as Any)).toThrow(
      'temperatureSoftmax: input must be a tf.Tensor, got an array',
    );
    expect(() => temperatureSoftmax(logits(), { mode: 'eval' as Any })).toThrow(
      `temperatureSoftmax: mode must be 'train' or 'inference', got "eval"`,
    );
    expect(() => vq().discretize(tf.zeros([2, 4]), { mode: 'test' as Any })).toThrow(/VectorQuantizer: mode/);
    expect(() => gumbelSoftmax(logits())).toThrow(
      'gumbelSoftmax: train mode needs an Rng for the Gumbel noise (opts.rng)',
    );
    const scheduled = new GumbelSoftmax({
      numCodes: 3,
      seed: 1,
      temperature: { kind: 'cosine', start: 1, end: 0.1, steps: 10 },
    });
    expect(() => scheduled.discretize(logits())).toThrow(/needs the training step \(\{ step \}\)/);
    expect(() => temperatureSoftmax(tf.zeros([0, 3]))).toThrow(
      'temperatureSoftmax: input is empty (shape [0, 3])',
    );
  });

  test('helpers reject bad arguments', () => {
    const q = vq();
    expect(() => q.setCodebook(tf.zeros([8, 3]))).toThrow(
      'VectorQuantizer.setCodebook: expected codes [8, 4], got [8, 3]',
    );
    expect(() => q.lookup(tf.tensor1d([1, 2]))).toThrow(/indices must be int32/);
    const fsq = new FSQ({ levels: [3, 3] });
    expect(() => fsq.indicesToCodes(tf.tensor1d([1]))).toThrow(/indices must be int32/);
    expect(() => fsq.codesToIndices(tf.zeros([2, 3]))).toThrow(
      'FSQ.codesToIndices: expected codes [..., 2], got [2, 3]',
    );
  });
});

describe('config validation', () => {
  test('VectorQuantizer: each bad field is named, typos get a suggestion', () => {
    expect(() => vq({ codebookSize: 0 })).toThrow(
      /invalid VectorQuantizer config:\n {2}codebookSize: Number must be greater than 0/,
    );
    expect(() => vq({ decay: 1 })).toThrow(/decay: Number must be less than 1/);
    expect(() => vq({ distance: 'euclid' as Any })).toThrow(
      /distance: Invalid enum value. Expected 'l2' \| 'cosine'/,
    );
    expect(() => vq({ decy: 0.9 } as Any)).toThrow(/decy: unknown key \(did you mean 'decay'\?\)/);
    expect(() => vq({ estimator: 'rotate' as Any })).toThrow(/estimator/);
  });

  test('FSQ, Gumbel and schedules', () => {
    expect(() => new FSQ({ levels: [1, 4] })).toThrow(
      /invalid FSQ config:\n {2}levels.0: Number must be greater than or equal to 2/,
    );
    expect(() => new FSQ({ levels: [] })).toThrow(/levels/);
    expect(() => new FSQ({ levels: [3, 3], dim: 5 })).toThrow(
      'FSQ: dim 5 differs from levels.length 2, so a ParamScope is needed for the projections',
    );
    expect(() => new GumbelSoftmax({ numCodes: 3 })).toThrow(/give exactly one of rng \(an Rng\) or seed/);
    expect(() => new GumbelSoftmax({ numCodes: 3, seed: 1, rng: new Rng(1) })).toThrow(/give exactly one/);
    expect(() => new GumbelSoftmax({ numCodes: 3, rng: {} as Any })).toThrow(
      /rng: expected an Rng from @symseq\/nn/,
    );
    expect(() => new TemperatureSoftmax({ numCodes: 3, temperature: { kind: 'linear', start: 1 } })).toThrow(
      /temperature.end: required for a linear schedule\n {2}temperature.steps: required for a linear schedule/,
    );
    expect(() => new TemperatureSoftmax({ numCodes: 1 })).toThrow(
      /numCodes: Number must be greater than or equal to 2/,
    );
  });
});
