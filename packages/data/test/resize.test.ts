import { describe, expect, it } from 'vitest';
import { resizeRgb } from '../src/image/resize';
import { maxAbsDiff, reference } from './helpers';

describe('resizeRgb', () => {
  const src = {
    height: reference.resize.src.height,
    width: reference.resize.src.width,
    data: Uint8Array.from(reference.resize.src.rgb),
  };

  for (const c of reference.resize.cases as { height: number; width: number; rgb: number[] }[]) {
    it(`matches PIL BILINEAR 9x13 -> ${c.height}x${c.width} within one level`, () => {
      // PIL uses fixed-point weights and rounds between its two passes; we round once.
      expect(maxAbsDiff(resizeRgb(src, c.height, c.width), c.rgb)).toBeLessThanOrEqual(1);
    });
  }

  it('upsamples a 1x2 row by hand-computed triangle weights', () => {
    // Output centres at source x = 0.25, 0.75, 1.25, 1.75 (minus 0.5: -0.25, 0.25, 0.75, 1.25): with the
    // edge taps renormalised, pixel 0 and 3 copy the ends, 1 and 2 mix 3:1.
    const img = { height: 1, width: 2, data: Uint8Array.from([0, 100, 200, 200, 100, 0]) };
    expect(Array.from(resizeRgb(img, 1, 4))).toEqual([0, 100, 200, 50, 100, 150, 150, 100, 50, 200, 100, 0]);
  });

  it('shrinks a 1x4 row with the widened (support 2) triangle filter', () => {
    // Output 0 is centred at source x = 1.0: taps x = 0, 1, 2 weigh 0.75, 0.75, 0.25 → 3/7, 3/7, 1/7.
    // Output 1 is centred at 3.0: taps x = 1, 2, 3 weigh 0.25, 0.75, 0.75 → 1/7, 3/7, 3/7.
    const row = [0, 70, 140, 210].flatMap((v) => [v, v, v]);
    const out = resizeRgb({ height: 1, width: 4, data: Uint8Array.from(row) }, 1, 2);
    expect(Array.from(out)).toEqual([50, 50, 50, 160, 160, 160]);
  });

  it('copies when the size is unchanged and rejects bad sizes', () => {
    expect(Array.from(resizeRgb(src, 9, 13))).toEqual(Array.from(src.data));
    expect(() => resizeRgb(src, 0, 4)).toThrow(/positive integers, got 0x4/);
    expect(() => resizeRgb(src, 2, 2, new Uint8Array(5))).toThrow(/holds 5 bytes, need 12/);
  });
});
