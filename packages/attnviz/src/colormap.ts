import { MAGMA, VIRIDIS } from './colormap-data';
import { checkHeatmap, type Heatmap, type RgbaImage } from './image';

/** Perceptually uniform colour maps from matplotlib. */
export type ColormapName = 'viridis' | 'magma';

const TABLES: Record<ColormapName, readonly number[]> = { viridis: VIRIDIS, magma: MAGMA };

export const colormapNames = Object.keys(TABLES) as ColormapName[];

function table(name: ColormapName): readonly number[] {
  const t = TABLES[name];
  if (!t)
    throw new Error(`colormap: unknown colour map '${name}', expected one of ${colormapNames.join(', ')}`);
  return t;
}

/**
 * The table entry for a value in [0, 1] (clipped), chosen as matplotlib does: index ⌊v · 256⌋,
 * with 1 mapped to the last entry. Returns the published RGB floats in [0, 1].
 */
export function colormapRgb(name: ColormapName, value: number): [number, number, number] {
  const t = table(name);
  const i = colormapIndex(value);
  return [t[3 * i], t[3 * i + 1], t[3 * i + 2]];
}

function colormapIndex(value: number): number {
  const v = Math.min(Math.max(value, 0), 1);
  return Math.min(Math.floor(v * 256), 255);
}

/** 8-bit RGB for a value: the table entry × 255, rounded (as matplotlib's `to_hex`). */
export function colormapBytes(name: ColormapName, value: number): [number, number, number] {
  const [r, g, b] = colormapRgb(name, value);
  return [Math.round(r * 255), Math.round(g * 255), Math.round(b * 255)];
}

/**
 * Colours a heatmap: each value is mapped from `range` (default [0, 1]) onto the colour map and
 * clipped; NaN becomes transparent black, as matplotlib's default "bad" colour.
 */
export function colorize(
  map: Heatmap,
  opts: { colormap?: ColormapName; range?: readonly [number, number] } = {},
): RgbaImage {
  checkHeatmap(map, 'colorize map');
  const name = opts.colormap ?? 'viridis';
  const [lo, hi] = opts.range ?? [0, 1];
  if (!(hi > lo)) throw new Error(`colorize: range [${lo}, ${hi}] must have hi > lo`);
  const lut = new Uint8ClampedArray(256 * 3);
  const t = table(name);
  for (let i = 0; i < 768; i++) lut[i] = Math.round(t[i] * 255);
  const out = new Uint8ClampedArray(map.data.length * 4);
  for (let p = 0; p < map.data.length; p++) {
    const v = map.data[p];
    if (Number.isNaN(v)) continue;
    const i = colormapIndex((v - lo) / (hi - lo));
    out[4 * p] = lut[3 * i];
    out[4 * p + 1] = lut[3 * i + 1];
    out[4 * p + 2] = lut[3 * i + 2];
    out[4 * p + 3] = 255;
  }
  return { width: map.width, height: map.height, data: out };
}
