import type { RgbImage } from './rgb-image';

/**
 * Resizes an RGB image with a triangle (bilinear) filter whose support widens when shrinking, like
 * PIL's `Image.resize(size, BILINEAR)`: downscaling averages every source pixel under the output pixel
 * instead of aliasing. Pixel centres sit at half-integers (no corner alignment). Writes into `out` when
 * given (so batches fill one buffer without copies).
 */
export function resizeRgb(image: RgbImage, height: number, width: number, out?: Uint8Array): Uint8Array {
  if (!(Number.isInteger(height) && height > 0 && Number.isInteger(width) && width > 0)) {
    throw new Error(`resizeRgb: target size must be positive integers, got ${height}x${width}`);
  }
  const size = height * width * 3;
  const target = out ?? new Uint8Array(size);
  if (target.length < size)
    throw new Error(`resizeRgb: output buffer holds ${target.length} bytes, need ${size}`);
  if (image.height === height && image.width === width) {
    target.set(image.data.subarray(0, size));
    return target;
  }
  const cols = filterTaps(image.width, width);
  const rows = filterTaps(image.height, height);
  // Horizontal pass into float rows, then vertical pass with rounding: one rounding step only.
  const tmp = new Float32Array(image.height * width * 3);
  const src = image.data;
  for (let y = 0; y < image.height; y++) {
    const srcRow = y * image.width * 3;
    const dstRow = y * width * 3;
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      const start = cols.start[x];
      for (let k = 0; k < cols.count[x]; k++) {
        const w = cols.weights[x * cols.maxTaps + k];
        const s = srcRow + (start + k) * 3;
        r += w * src[s];
        g += w * src[s + 1];
        b += w * src[s + 2];
      }
      const d = dstRow + x * 3;
      tmp[d] = r;
      tmp[d + 1] = g;
      tmp[d + 2] = b;
    }
  }
  const rowLen = width * 3;
  for (let y = 0; y < height; y++) {
    const start = rows.start[y];
    const dstRow = y * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let v = 0;
      for (let k = 0; k < rows.count[y]; k++)
        v += rows.weights[y * rows.maxTaps + k] * tmp[(start + k) * rowLen + i];
      target[dstRow + i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
  }
  return target;
}

interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float64Array;
  maxTaps: number;
}

/** Normalised triangle-filter weights of every output position along one axis (PIL's precompute_coeffs). */
function filterTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * maxTaps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    let total = 0;
    for (let i = lo; i < hi; i++) {
      const w = Math.max(0, 1 - Math.abs((i - center + 0.5) / filterScale));
      weights[o * maxTaps + (i - lo)] = w;
      total += w;
    }
    for (let i = lo; i < hi; i++) weights[o * maxTaps + (i - lo)] /= total || 1;
    start[o] = lo;
    count[o] = hi - lo;
  }
  return { start, count, weights, maxTaps };
}
