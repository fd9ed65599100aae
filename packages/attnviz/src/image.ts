/** An RGBA image, row-major, 4 bytes per pixel: what a canvas ImageData or a PNG encoder takes. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** An 8-bit RGB or RGBA image, row-major (channels inferred from the data length). */
export interface ImageInput {
  width: number;
  height: number;
  data: ArrayLike<number>;
}

/** A single-channel float image (an attention map, a heatmap), row-major. */
export interface Heatmap {
  width: number;
  height: number;
  data: Float32Array;
}

/** An RGBA colour, 0–255 per channel. */
export type Rgba = readonly [number, number, number, number];

/** Channels per pixel of an image input (3 or 4), or a clear error naming `what`. */
export function channelsOf(image: ImageInput, what: string): 3 | 4 {
  const { width, height } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`${what}: width and height must be positive integers, got ${width}×${height}`);
  }
  const pixels = width * height;
  if (image.data.length === pixels * 4) return 4;
  if (image.data.length === pixels * 3) return 3;
  throw new Error(
    `${what}: ${image.data.length} values for ${width}×${height} pixels, expected ${pixels * 3} (RGB) or ${pixels * 4} (RGBA)`,
  );
}

/** A copy of an RGB or RGBA image as RGBA (alpha 255 where the input has none). */
export function toRgba(image: ImageInput, what = 'image'): RgbaImage {
  const ch = channelsOf(image, what);
  const n = image.width * image.height;
  const data = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    data[4 * i] = image.data[ch * i];
    data[4 * i + 1] = image.data[ch * i + 1];
    data[4 * i + 2] = image.data[ch * i + 2];
    data[4 * i + 3] = ch === 4 ? image.data[4 * i + 3] : 255;
  }
  return { width: image.width, height: image.height, data };
}

export function checkHeatmap(map: Heatmap, what: string): void {
  const { width, height } = map;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`${what}: width and height must be positive integers, got ${width}×${height}`);
  }
  if (map.data.length !== width * height) {
    throw new Error(`${what}: ${map.data.length} values for ${width}×${height}, expected ${width * height}`);
  }
}
