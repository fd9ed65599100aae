import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { symbolAttentionMaps, symbolMap } from '../src';

// [B=1, heads=2, L=2, N=4] on a 2×2 grid. Head 0 / head 1 rows per symbol.
const attn = [
  [
    [
      [0.1, 0.2, 0.3, 0.4],
      [0.7, 0.1, 0.1, 0.1],
    ],
    [
      [0.3, 0.2, 0.3, 0.2],
      [0.1, 0.1, 0.1, 0.7],
    ],
  ],
];

describe('symbolAttentionMaps', () => {
  it('averages heads and min-max normalises each map', () => {
    const maps = symbolAttentionMaps(attn, { grid: [2, 2] });
    expect([maps.batch, maps.symbols, maps.height, maps.width]).toEqual([1, 2, 2, 2]);
    // symbol 0 mean over heads: [0.2, 0.2, 0.3, 0.3] → [0, 0, 1, 1]
    expect(Array.from(symbolMap(maps, 0, 0).data)).toEqual([0, 0, 1, 1]);
    // symbol 1: [0.4, 0.1, 0.1, 0.4] → [1, 0, 0, 1]
    const m1 = symbolMap(maps, 0, 1).data;
    for (const [i, v] of [1, 0, 0, 1].entries()) expect(m1[i]).toBeCloseTo(v, 6);
  });

  it('picks one head, and leaves values raw or max-normalised on request', () => {
    const raw = symbolAttentionMaps(attn, { grid: [2, 2], head: 1, normalize: 'none' });
    expect(Array.from(symbolMap(raw, 0, 1).data)).toEqual(
      Array.from(Float32Array.from([0.1, 0.1, 0.1, 0.7])),
    );
    const byMax = symbolAttentionMaps(attn, { grid: [2, 2], head: 0, normalize: 'max' });
    const m = symbolMap(byMax, 0, 0).data;
    for (const [i, v] of [0.25, 0.5, 0.75, 1].entries()) expect(m[i]).toBeCloseTo(v, 6);
  });

  it('a constant map becomes zeros under min-max', () => {
    const flat = symbolAttentionMaps(
      { data: new Float32Array(4).fill(0.25), shape: [1, 1, 1, 4] },
      { grid: [2, 2] },
    );
    expect(Array.from(flat.data)).toEqual([0, 0, 0, 0]);
  });

  it('reads tensors, { data, shape }, layer lists and [layers, …] arrays alike', () => {
    const t = tf.tensor(attn);
    const layer0 = tf.mul(t, 0) as tf.Tensor;
    const fromTensor = symbolAttentionMaps(t, { grid: [2, 2] });
    const fromList = symbolAttentionMaps([layer0, t], { grid: [2, 2], layer: 1 });
    const fromListLast = symbolAttentionMaps([layer0, t], { grid: [2, 2] });
    const stacked = tf.stack([t, layer0]);
    const from5d = symbolAttentionMaps(stacked, { grid: [2, 2], layer: -2 });
    const fromHost = symbolAttentionMaps({ data: t.dataSync(), shape: t.shape }, { grid: [2, 2] });
    for (const m of [fromList, fromListLast, from5d, fromHost])
      expect(Array.from(m.data)).toEqual(Array.from(fromTensor.data));
    // layer 0 is all zeros → constant maps → zeros
    expect(Array.from(symbolAttentionMaps([layer0, t], { grid: [2, 2], layer: 0 }).data)).toEqual(
      new Array(8).fill(0),
    );
    tf.dispose([t, layer0, stacked]);
  });

  it('drops prefix tokens (e.g. CLS) before the grid', () => {
    // N = 5: token 0 is CLS, then the 2×2 grid
    const maps = symbolAttentionMaps(
      { data: [0.9, 0.01, 0.02, 0.03, 0.04], shape: [1, 1, 1, 5] },
      { grid: [2, 2], prefixTokens: 1, normalize: 'none' },
    );
    expect(Array.from(maps.data)).toEqual(Array.from(Float32Array.from([0.01, 0.02, 0.03, 0.04])));
  });

  it('rejects bad input with clear errors', () => {
    expect(() => symbolAttentionMaps(attn, { grid: [3, 2] })).toThrow(
      /grid 3×2 = 6 tokens, but the attention has N = 4 \(shape \[1, 2, 2, 4\]\)/,
    );
    expect(() => symbolAttentionMaps({ data: new Float32Array(8), shape: [2, 4] }, { grid: [2, 2] })).toThrow(
      /attention has shape \[2, 4\], expected \[B, heads, L, N\] or \[layers, B, heads, L, N\]/,
    );
    expect(() => symbolAttentionMaps(attn, { grid: [2, 2], head: 2 })).toThrow(
      /head 2 does not exist, the attention has 2 heads/,
    );
    expect(() => symbolAttentionMaps(attn, { grid: [2, 2], layer: 3 })).toThrow(
      /layer 3 requested, but the attention holds a single layer/,
    );
    const t = tf.tensor(attn);
    expect(() => symbolAttentionMaps([t, t], { grid: [2, 2], layer: 2 })).toThrow(
      /layer 2 out of range for 2 layers/,
    );
    t.dispose();
    expect(() =>
      symbolAttentionMaps({ data: new Float32Array(3), shape: [1, 1, 1, 4] }, { grid: [2, 2] }),
    ).toThrow(/shape \[1, 1, 1, 4\] needs 4 values, got 3/);
    expect(() => symbolAttentionMaps(attn, { grid: [2, 2], heads: 1 } as never)).toThrow(
      /heads: unknown key \(did you mean 'head'\?\)/,
    );
    expect(() => symbolMap(symbolAttentionMaps(attn, { grid: [2, 2] }), 0, 2)).toThrow(
      /symbol position 2 out of range \[0, 2\)/,
    );
  });
});
