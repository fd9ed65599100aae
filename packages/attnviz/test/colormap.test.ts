import { describe, expect, it } from 'vitest';
import { colorize } from '../src';
import { colormapBytes, colormapRgb } from '../src/colormap';

const hex = (h: string) => [1, 3, 5].map((i) => Number.parseInt(h.slice(i, i + 2), 16));

describe('colour maps against matplotlib', () => {
  // Published table entries (matplotlib _cm_listed.py) at indices 0, 128 (v = 0.5) and 255.
  it('viridis endpoints and midpoint', () => {
    expect(colormapRgb('viridis', 0)).toEqual([0.267004, 0.004874, 0.329415]);
    expect(colormapRgb('viridis', 0.5)).toEqual([0.127568, 0.566949, 0.550556]);
    expect(colormapRgb('viridis', 1)).toEqual([0.993248, 0.906157, 0.143936]);
  });

  it('magma endpoints and midpoint', () => {
    expect(colormapRgb('magma', 0)).toEqual([0.001462, 0.000466, 0.013866]);
    expect(colormapRgb('magma', 0.5)).toEqual([0.716387, 0.214982, 0.47529]);
    expect(colormapRgb('magma', 1)).toEqual([0.987053, 0.991438, 0.749504]);
  });

  it("8-bit colours equal matplotlib's to_hex(cmap(v))", () => {
    const expected = {
      viridis: ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725'],
      magma: ['#000004', '#51127c', '#b73779', '#fc8961', '#fcfdbf'],
    };
    for (const [name, hexes] of Object.entries(expected)) {
      [0, 0.25, 0.5, 0.75, 1].forEach((v, i) => {
        expect(colormapBytes(name as 'viridis' | 'magma', v)).toEqual(hex(hexes[i]));
      });
    }
  });

  it('picks entry ⌊v·256⌋ and clips outside [0, 1]', () => {
    // entry 1 of viridis is [0.268510, 0.009605, 0.335427]: v in [1/256, 2/256)
    expect(colormapRgb('viridis', 1.5 / 256)).toEqual([0.26851, 0.009605, 0.335427]);
    expect(colormapRgb('viridis', 0.999 / 256)).toEqual([0.267004, 0.004874, 0.329415]);
    expect(colormapRgb('viridis', -3)).toEqual(colormapRgb('viridis', 0));
    expect(colormapRgb('viridis', 7)).toEqual(colormapRgb('viridis', 1));
  });
});

describe('colorize', () => {
  it('maps a range onto the colour map, NaN transparent', () => {
    const img = colorize(
      { width: 4, height: 1, data: Float32Array.from([2, 4, 6, Number.NaN]) },
      { range: [2, 6] },
    );
    expect(Array.from(img.data)).toEqual([
      ...hex('#440154'),
      255,
      ...hex('#21918c'),
      255,
      ...hex('#fde725'),
      255,
      0,
      0,
      0,
      0,
    ]);
  });

  it('rejects bad input', () => {
    expect(() => colorize({ width: 2, height: 2, data: new Float32Array(3) })).toThrow(
      /colorize map: 3 values for 2×2, expected 4/,
    );
    expect(() => colorize({ width: 1, height: 1, data: new Float32Array(1) }, { range: [1, 1] })).toThrow(
      /range \[1, 1\] must have hi > lo/,
    );
    expect(() =>
      colorize({ width: 1, height: 1, data: new Float32Array(1) }, { colormap: 'jet' as never }),
    ).toThrow(/unknown colour map 'jet', expected one of viridis, magma/);
  });
});
