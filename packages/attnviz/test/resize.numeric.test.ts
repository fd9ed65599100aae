import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { resizeBilinear } from '../src';

describe('resizeBilinear (half-pixel centres, corners not aligned)', () => {
  it('2×2 → 4×4 by hand', () => {
    // Output index i samples input (i + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25 → clamped 0, 0.25, 0.75, 1.
    // Rows of [[0, 1], [2, 3]] at x = those: [0, .25, .75, 1] and [2, 2.25, 2.75, 3]; rows blend likewise.
    const out = resizeBilinear({ width: 2, height: 2, data: Float32Array.from([0, 1, 2, 3]) }, 4, 4);
    expect(Array.from(out.data)).toEqual([
      0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3,
    ]);
    expect([out.width, out.height]).toEqual([4, 4]);
  });

  it('matches tf.image.resizeBilinear(x, size, false, true) for odd ratios, up and down', async () => {
    const w = 5;
    const h = 3;
    const data = Float32Array.from({ length: w * h }, (_, i) => Math.sin(i * 1.7) * 3 + i * 0.1);
    for (const [W, H] of [
      [11, 7],
      [2, 2],
      [5, 3],
      [16, 1],
    ]) {
      const ours = resizeBilinear({ width: w, height: h, data }, W, H);
      const ref = tf.tidy(() =>
        tf.image.resizeBilinear(tf.tensor4d(data, [1, h, w, 1]), [H, W], false, true).dataSync(),
      );
      expect(ours.data.length).toBe(ref.length);
      for (let i = 0; i < ref.length; i++) expect(ours.data[i]).toBeCloseTo(ref[i], 5);
    }
  });

  it('differs from the legacy (halfPixelCenters = false) mapping', () => {
    const data = Float32Array.from([0, 1, 2, 3]);
    const legacy = tf.tidy(() =>
      tf.image.resizeBilinear(tf.tensor4d(data, [1, 2, 2, 1]), [4, 4], false, false).dataSync(),
    );
    const ours = resizeBilinear({ width: 2, height: 2, data }, 4, 4);
    expect(legacy[1]).toBeCloseTo(0.5, 6); // legacy samples x = i/2: 0, .5, 1, 1
    expect(ours.data[1]).toBe(0.25);
  });

  it('rejects bad sizes', () => {
    expect(() => resizeBilinear({ width: 2, height: 2, data: new Float32Array(4) }, 0, 3)).toThrow(
      /output size must be positive integers, got 0×3/,
    );
    expect(() => resizeBilinear({ width: 2, height: 3, data: new Float32Array(4) }, 4, 4)).toThrow(
      /resizeBilinear input: 4 values for 2×3, expected 6/,
    );
  });
});
