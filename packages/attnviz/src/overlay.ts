import { parseConfig } from '@symseq/nn';
import { z } from 'zod';
import { type SymbolMaps, symbolMap } from './attention-maps';
import { colorize, colormapNames } from './colormap';
import { channelsOf, checkHeatmap, type Heatmap, type ImageInput, type RgbaImage } from './image';
import { resizeBilinear } from './resize';

const overlaySchema = z
  .object({
    colormap: z.enum(colormapNames as ['viridis', 'magma']).default('viridis'),
    /** Weight of the heatmap colour: out = (1 − α) · image + α · colour. */
    alpha: z.number().min(0).max(1).default(0.5),
    /** Scale α by the map value, so low-attention regions keep the image as it is. */
    alphaByValue: z.boolean().default(false),
  })
  .strict();

export type OverlayOptions = z.input<typeof overlaySchema>;

/**
 * Blends a heatmap (values in [0, 1]) over an RGB(A) image: the map is upsampled bilinearly to
 * the image size when smaller (see `resizeBilinear`), coloured with the colour map, and mixed per
 * channel as round((1 − α) · image + α · colour). The result is opaque RGBA.
 */
export function overlayHeatmap(image: ImageInput, map: Heatmap, options: OverlayOptions = {}): RgbaImage {
  const cfg = parseConfig(overlaySchema, options, 'overlayHeatmap options');
  const ch = channelsOf(image, 'overlayHeatmap image');
  checkHeatmap(map, 'overlayHeatmap map');
  const { width, height } = image;
  const full = map.width === width && map.height === height ? map : resizeBilinear(map, width, height);
  const colours = colorize(full, { colormap: cfg.colormap });
  const out = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const v = full.data[p];
    // NaN (no value) leaves the image as it is.
    const a = Number.isNaN(v) ? 0 : cfg.alphaByValue ? cfg.alpha * Math.min(Math.max(v, 0), 1) : cfg.alpha;
    for (let c = 0; c < 3; c++) {
      out[4 * p + c] = Math.round((1 - a) * image.data[ch * p + c] + a * colours.data[4 * p + c]);
    }
    out[4 * p + 3] = 255;
  }
  return { width, height, data: out };
}

/** One overlay per symbol of image `b`: the inputs of a `montage` row. */
export function symbolOverlays(
  image: ImageInput,
  maps: SymbolMaps,
  b: number,
  options: OverlayOptions = {},
): RgbaImage[] {
  return Array.from({ length: maps.symbols }, (_, t) =>
    overlayHeatmap(image, symbolMap(maps, b, t), options),
  );
}
