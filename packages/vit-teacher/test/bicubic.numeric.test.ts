import { describe, expect, it } from 'vitest';
import { bicubicResample, cubicWeights } from '../src/bicubic';
import { interpolatePosEmbed } from '../src/posEmbed';
import { expectClose, fixture } from './helpers';

describe('cubicWeights', () => {
  it('gives the Keys kernel (a = −0.75) values computed by hand', () => {
    expect(cubicWeights(0)).toEqual([0, 1, 0, 0]);
    // t = 0.5: near(0.5) = (1.25·0.5 − 2.25)·0.25 + 1 = 0.59375, far(1.5) = −0.09375
    const w = cubicWeights(0.5);
    [-0.09375, 0.59375, 0.59375, -0.09375].forEach((v, i) => {
      expect(w[i]).toBeCloseTo(v, 12);
    });
  });

  it('sums to one for any fraction (interpolation of a constant is exact)', () => {
    for (const t of [0.1, 0.25, 0.37, 0.9])
      expect(cubicWeights(t).reduce((a, b) => a + b)).toBeCloseTo(1, 12);
  });
});

describe('bicubicResample', () => {
  const { tensors, metadata } = fixture('bicubic.safetensors');
  const cases = JSON.parse(metadata.cases) as Record<
    string,
    { scale: [number, number]; out: [number, number] }
  >;

  for (const [name, c] of Object.entries(cases)) {
    it(`matches torch F.interpolate(bicubic, scale_factor) for case ${name}`, () => {
      const input = tensors[`${name}.input`];
      const expected = tensors[`${name}.output`];
      const [h, w, ch] = input.shape;
      const out = bicubicResample(input.data, [h, w, ch], c.out, c.scale);
      expectClose({ shape: [...c.out, ch], data: out }, expected, 1e-5, name);
    });
  }

  it('differs from the out/in scale when the scale factor is given (the DINO +0.1 matters)', () => {
    const input = tensors['up6.input'];
    const withScale = bicubicResample(input.data, [4, 4, 2], [6, 6], [6.1 / 4, 6.1 / 4]);
    const plain = bicubicResample(input.data, [4, 4, 2], [6, 6]);
    const diff = Math.max(...withScale.map((v, i) => Math.abs(v - plain[i])));
    expect(diff).toBeGreaterThan(1e-3);
  });

  it('rejects a source of the wrong length', () => {
    expect(() => bicubicResample(new Float32Array(5), [2, 2, 2], [3, 3])).toThrow(
      /holds 5 values, expected 2·2·2 = 8/,
    );
  });
});

describe('interpolatePosEmbed', () => {
  const dim = 2;
  // CLS (9, 9) then a 2×2 grid
  const pe = new Float32Array([9, 9, 0, 1, 2, 3, 4, 5, 6, 7]);

  it('returns the embedding unchanged for the native square grid, as DINO does', () => {
    expect(interpolatePosEmbed(pe, dim, 2, 2)).toBe(pe);
  });

  it('keeps the CLS entry and resamples the grid to rows × cols', () => {
    const out = interpolatePosEmbed(pe, dim, 3, 1);
    expect(out.length).toBe((1 + 3) * dim);
    expect(Array.from(out.subarray(0, 2))).toEqual([9, 9]);
    const grid = bicubicResample(pe.subarray(2), [2, 2, 2], [3, 1], [3.1 / 2, 1.1 / 2]);
    expect(Array.from(out.subarray(2))).toEqual(Array.from(grid));
  });

  it('rejects an embedding that is not 1 + n² tokens', () => {
    expect(() => interpolatePosEmbed(new Float32Array(6 * 2), 2, 2, 2)).toThrow(/square grid/);
  });
});
