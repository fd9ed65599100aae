import { checkHeatmap, type Heatmap } from './image';

/**
 * Bilinear resize with half-pixel centres, the convention of
 * `tf.image.resizeBilinear(x, size, alignCorners = false, halfPixelCenters = true)`, of
 * TensorFlow's `tf.image.resize(method='bilinear')` and of PyTorch's
 * `F.interpolate(mode='bilinear', align_corners=False)`: output pixel i samples the input at
 * (i + 0.5) · in/out − 0.5, clamped to the edge pixels. Corners are not aligned, so each grid cell
 * covers an equal share of the output.
 */
export function resizeBilinear(map: Heatmap, width: number, height: number): Heatmap {
  checkHeatmap(map, 'resizeBilinear input');
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`resizeBilinear: output size must be positive integers, got ${width}×${height}`);
  }
  const xs = sampling(map.width, width);
  const ys = sampling(map.height, height);
  const out = new Float32Array(width * height);
  const src = map.data;
  for (let y = 0; y < height; y++) {
    const r0 = ys.lo[y] * map.width;
    const r1 = ys.hi[y] * map.width;
    const fy = ys.frac[y];
    for (let x = 0; x < width; x++) {
      const c0 = xs.lo[x];
      const c1 = xs.hi[x];
      const fx = xs.frac[x];
      const top = src[r0 + c0] + (src[r0 + c1] - src[r0 + c0]) * fx;
      const bottom = src[r1 + c0] + (src[r1 + c1] - src[r1 + c0]) * fx;
      out[y * width + x] = top + (bottom - top) * fy;
    }
  }
  return { width, height, data: out };
}

/** For each output index: the two input indices it blends and the weight of the second. */
function sampling(inSize: number, outSize: number) {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const frac = new Float64Array(outSize);
  const scale = inSize / outSize;
  for (let i = 0; i < outSize; i++) {
    const s = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), inSize - 1);
    lo[i] = Math.floor(s);
    hi[i] = Math.min(lo[i] + 1, inSize - 1);
    frac[i] = s - lo[i];
  }
  return { lo, hi, frac };
}
