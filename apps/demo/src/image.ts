/** An 8-bit RGBA image as a canvas gives it. */
export interface PageImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
  /** Where it came from, for messages. */
  name: string;
  /** Set when the image was scaled down to `MAX_SIDE` before use: its original size. */
  scaledFrom?: [number, number];
}

/** Larger images are scaled down first, so a phone photo does not make a 100-megapixel tensor. */
export const MAX_SIDE = 1024;

/** The file is not an image the browser can decode. */
export class NotAnImageError extends Error {}

/**
 * Decodes an image file (anything the browser reads: PNG, JPEG, WebP, GIF…) to RGBA pixels, with no
 * colour-space conversion, so a PNG gives exactly the bytes in the file, as the trainer reads it.
 */
export async function decodeImageBlob(blob: Blob, name: string): Promise<PageImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    const type = blob.type ? ` (${blob.type})` : '';
    throw new NotAnImageError(
      `“${name}”${type} is not an image this browser can read. Choose a PNG, JPEG, WebP or GIF file.`,
    );
  }
  try {
    const { width, height } = bitmap;
    if (width < 1 || height < 1)
      throw new NotAnImageError(`“${name}” is an empty image (${width}×${height}).`);
    const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
    const w = Math.max(1, Math.round(width * scale));
    const h = Math.max(1, Math.round(height * scale));
    const ctx = context2d(w, h);
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, w, h);
    const data = ctx.getImageData(0, 0, w, h).data;
    return { width: w, height: h, data, name, ...(scale < 1 ? { scaledFrom: [width, height] } : {}) };
  } finally {
    bitmap.close();
  }
}

/** RGBA bytes → float RGB in [0, 1], what the teacher takes (alpha is dropped, as the trainer does). */
export function toUnitRgb(image: { width: number; height: number; data: ArrayLike<number> }): Float32Array {
  const n = image.width * image.height;
  const out = new Float32Array(n * 3);
  for (let p = 0; p < n; p++) {
    out[3 * p] = image.data[4 * p] / 255;
    out[3 * p + 1] = image.data[4 * p + 1] / 255;
    out[3 * p + 2] = image.data[4 * p + 2] / 255;
  }
  return out;
}

/** The image scaled (smoothly) so its longer side is `side`, for display and overlays. */
export function resizeForDisplay(
  image: PageImage,
  side: number,
): { width: number; height: number; data: Uint8ClampedArray } {
  const scale = side / Math.max(image.width, image.height);
  const w = Math.max(1, Math.round(image.width * scale));
  const h = Math.max(1, Math.round(image.height * scale));
  const src = context2d(image.width, image.height);
  src.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
  const dst = context2d(w, h);
  dst.imageSmoothingQuality = 'high';
  dst.drawImage(src.canvas, 0, 0, w, h);
  return { width: w, height: h, data: dst.getImageData(0, 0, w, h).data };
}

function context2d(width: number, height: number): CanvasRenderingContext2D {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('this browser gives no 2D canvas context');
  return ctx;
}
