import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { decodeCheckpoint, encodeCheckpoint, init, Linear, ParamStore, parseConfig, Rng } from '../src';

describe('ParamStore', () => {
  test('scoped names, trainable lists, host round trip', async () => {
    const store = new ParamStore(new Rng(0));
    new Linear(store.scope('enc').scope('fc'), 3, 2);
    store.add('frozen', [2], init.ones, { trainable: false });
    expect(store.names()).toEqual(['enc.fc.weight', 'enc.fc.bias', 'frozen']);
    expect(store.trainable().length).toBe(2);
    expect(store.numParams()).toBe(3 * 2 + 2 + 2);
    const host = await store.toHost();
    const other = new ParamStore(new Rng(99));
    new Linear(other.scope('enc').scope('fc'), 3, 2);
    other.add('frozen', [2], init.zeros, { trainable: false });
    other.load(host);
    expect(await other.get('enc.fc.weight').data()).toEqual(host['enc.fc.weight'].data);
    expect(Array.from(await other.get('frozen').data())).toEqual([1, 1]);
  });

  test('same seed, same initial weights', async () => {
    const make = async (seed: number) => {
      const s = new ParamStore(new Rng(seed));
      new Linear(s.scope('l'), 4, 4);
      return Array.from(await s.get('l.weight').data());
    };
    expect(await make(5)).toEqual(await make(5));
    expect(await make(5)).not.toEqual(await make(6));
  });

  test('load errors name the tensor and both shapes, and nothing is half-loaded', async () => {
    const store = new ParamStore(new Rng(0));
    store.add('a', [2, 3], init.zeros);
    store.add('b', [4], init.zeros);
    const a = { shape: [2, 3], data: new Float32Array(6).fill(1) };
    expect(() =>
      store.load({ a, b: { shape: [5], data: new Float32Array(5) } }, { source: 'm.safetensors' }),
    ).toThrow("ParamStore.load (from m.safetensors): tensor 'b' has shape [5], expected [4]");
    expect(Array.from(await store.get('a').data())).toEqual([0, 0, 0, 0, 0, 0]);
    expect(() => store.load({ a })).toThrow("missing tensor 'b'");
    expect(() => store.load({ a, b: { shape: [4], data: new Float32Array(4) }, c: a })).toThrow(
      "unexpected tensor 'c'",
    );
    expect(() => store.add('a', [1], init.zeros)).toThrow("parameter 'a' is already defined");
    expect(() => store.add('x', [0, 2], init.zeros)).toThrow('invalid shape [0, 2]');
  });

  test('initialisers: truncated normal stays within 2 std', () => {
    const v = init.truncNormal(0.02)([10_000], new Rng(1));
    expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(0.04);
    const std = Math.sqrt(v.reduce((a, b) => a + b * b, 0) / v.length);
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.02);
  });

  test('numTensors stays flat over repeated layer calls', () => {
    const store = new ParamStore(new Rng(0));
    const l = new Linear(store.scope('l'), 8, 8);
    const x = tf.ones([4, 8]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) tf.dispose(l.apply(x));
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('checkpoint format', () => {
  const tensors = { w: { shape: [2], data: new Float32Array([1, 2]) } };
  test('round trip', () => {
    const { json, weights } = encodeCheckpoint('toy', { dim: 2 }, tensors, { step: 3 });
    const ck = decodeCheckpoint<{ dim: number }>(json, weights, { kind: 'toy' });
    expect(ck.json.config.dim).toBe(2);
    expect(ck.json.meta).toEqual({ step: 3 });
    expect(ck.tensors.w.data).toEqual(tensors.w.data);
  });
  test('wrong version, wrong kind, wrong format give clear errors', () => {
    const { json, weights } = encodeCheckpoint('toy', {}, tensors);
    const j = JSON.parse(json);
    expect(() => decodeCheckpoint(JSON.stringify({ ...j, version: 99 }), weights, { source: 'ck' })).toThrow(
      'ck.json: format version 99 is not supported; this build reads version 1',
    );
    expect(() => decodeCheckpoint(json, weights, { kind: 'student' })).toThrow(
      `field 'kind' is "toy", expected 'student'`,
    );
    expect(() => decodeCheckpoint('{"format":"other"}', weights)).toThrow(`field 'format' is "other"`);
    expect(() => decodeCheckpoint('{', weights)).toThrow('not valid JSON');
  });
});

describe('parseConfig', () => {
  const schema = z
    .object({ lr: z.number().positive().default(1e-3), vocab: z.number().int().default(128) })
    .strict();
  test('defaults and readable errors with suggestions', () => {
    expect(parseConfig(schema, {}, 'config')).toEqual({ lr: 1e-3, vocab: 128 });
    expect(() => parseConfig(schema, { lr: -1 }, 'train config')).toThrow(/invalid train config:\n {2}lr: /);
    expect(() => parseConfig(schema, { vocb: 3 }, 'config')).toThrow(
      "vocb: unknown key (did you mean 'vocab'?)",
    );
  });
});
