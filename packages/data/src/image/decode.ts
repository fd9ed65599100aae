import { readFile } from 'node:fs/promises';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { RgbImage } from './rgb-image';

export type ImageFormat = 'jpeg' | 'png';

/** Largest image decoded (jpeg-js's own default limit): a damaged size field must not allocate gigabytes. */
const MAX_MEGAPIXELS = 100;

/** The format named by the file's leading magic bytes, or undefined for anything else. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  return undefined;
}

/**
 * Decodes JPEG or PNG bytes (format found from the content, not the name) to 8-bit RGB. Grayscale is
 * replicated to three channels; alpha is dropped, as PIL's `convert('RGB')` does. `name` (a file path)
 * appears in every error, so a corrupt file in a dataset can be found.
 */
export function decodeImage(bytes: Uint8Array, name = '<bytes>'): RgbImage {
  const format = sniffImageFormat(bytes);
  if (!format) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(
      `decodeImage: ${name} is not a JPEG or PNG file (starts with bytes ${head || '(empty)'})`,
    );
  }
  if (format === 'png' && bytes.length >= 24) {
    // IHDR is the first chunk: width and height are big-endian at bytes 16 and 20.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const [w, h] = [view.getUint32(16), view.getUint32(20)];
    if (w * h > MAX_MEGAPIXELS * 1e6) {
      throw new Error(
        `decodeImage: ${name} declares a ${w}x${h} PNG, over the ${MAX_MEGAPIXELS}-megapixel limit; the file is corrupt or too large`,
      );
    }
  }
  let rgba: { width: number; height: number; data: Uint8Array };
  try {
    if (format === 'jpeg') {
      // formatAsRGBA gives 4 channels for every JPEG colour model (gray, YCbCr, CMYK), so one path handles all.
      rgba = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: MAX_MEGAPIXELS,
        maxMemoryUsageInMB: 1024,
      });
    } else {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      rgba = { width: png.width, height: png.height, data: png.data };
    }
  } catch (e) {
    const msg = (e as Error).message;
    // pngjs reports a file that ends early only as a stream error.
    const hint = /finished stream|unexpected end/i.test(msg) ? ' (the file ends early: truncated)' : '';
    throw new Error(`decodeImage: ${name} is a corrupt ${format.toUpperCase()} file: ${msg}${hint}`);
  }
  const { width, height } = rgba;
  if (!(width > 0 && height > 0) || rgba.data.length < width * height * 4) {
    throw new Error(`decodeImage: ${name} decoded to an empty or short ${width}x${height} image`);
  }
  return { width, height, data: rgbaToRgb(rgba.data, width * height) };
}

/** Reads and decodes one image file. */
export async function decodeImageFile(path: string): Promise<RgbImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`decodeImageFile: cannot read ${path}: ${(e as Error).message}`);
  }
  return decodeImage(bytes, path);
}

function rgbaToRgb(rgba: Uint8Array, pixels: number): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0, i = 0, j = 0; p < pixels; p++, i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return rgb;
}
