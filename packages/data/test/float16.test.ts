import { float16ToFloat32, float32ToFloat16, floatToHalf } from '@symseq/nn';
import { describe, expect, it } from 'vitest';
import { reference } from './helpers';

// The feature cache stores float16 through @symseq/nn's converters; numpy gives the reference bits.

describe('float16 conversion', () => {
  it('rounds like numpy (nearest, ties to even; subnormals; overflow to Inf)', () => {
    const { values, bits } = reference.float16 as { values: number[]; bits: number[] };
    const ours = float32ToFloat16(Float32Array.from(values));
    const bad = bits.flatMap((b, i) =>
      ours[i] === b ? [] : [`${values[i]}: ${ours[i].toString(16)} vs ${b.toString(16)}`],
    );
    expect(bad).toEqual([]);
  });

  it('knows the landmark bit patterns', () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(-2)).toBe(0xc000);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00); // rounds up past the largest finite half
    expect(floatToHalf(2 ** -24)).toBe(0x0001);
    expect(floatToHalf(2 ** -14)).toBe(0x0400);
    expect(floatToHalf(Number.NEGATIVE_INFINITY)).toBe(0xfc00);
    expect(floatToHalf(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(floatToHalf(Number.NaN) & 0x3ff).not.toBe(0);
  });

  it('decodes every finite half exactly and round-trips it', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const f = float16ToFloat32(all);
    expect(f[0x3c00]).toBe(1);
    expect(f[0x7bff]).toBe(65504);
    expect(f[0x0001]).toBe(2 ** -24);
    expect(f[0x8000]).toBe(-0);
    expect(f[0x7c00]).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(f[0x7e00])).toBe(true);
    const finite = all.filter((h) => (h & 0x7c00) !== 0x7c00);
    const back = float32ToFloat16(float16ToFloat32(finite));
    expect(Array.from(back)).toEqual(Array.from(finite));
  });

  it('keeps relative error under 2^-11 in the normal range', () => {
    const x = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i * 12.9898) * 10 ** ((i % 9) - 4));
    const y = float16ToFloat32(float32ToFloat16(x));
    for (let i = 0; i < x.length; i++) {
      if (Math.abs(x[i]) < 2 ** -14) continue;
      expect(Math.abs(y[i] - x[i]) / Math.abs(x[i])).toBeLessThanOrEqual(2 ** -11);
    }
  });
});
