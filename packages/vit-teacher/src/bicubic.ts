/**
 * Bicubic resampling of a host grid [h, w, c] (channels last), equal to torch's
 * `F.interpolate(mode='bicubic', align_corners=False)`: cubic convolution with a = −0.75,
 * source index = (dst + 0.5) / scale − 0.5, neighbours clamped to the border.
 * When `scale` is given it maps coordinates (as torch does when called with `scale_factor`);
 * otherwise the scale is out / in. DINO relies on the first form for its positional embeddings.
 */
export function bicubicResample(
  src: Float32Array,
  inShape: readonly [number, number, number],
  outSize: readonly [number, number],
  scale?: readonly [number, number],
): Float32Array {
  const [h, w, c] = inShape;
  const [oh, ow] = outSize;
  if (src.length !== h * w * c) {
    throw new Error(
      `bicubicResample: source holds ${src.length} values, expected ${h}·${w}·${c} = ${h * w * c}`,
    );
  }
  if (!(oh > 0 && ow > 0 && Number.isInteger(oh) && Number.isInteger(ow))) {
    throw new Error(`bicubicResample: output size must be positive integers, got [${oh}, ${ow}]`);
  }
  const rows = taps(h, oh, scale ? scale[0] : oh / h);
  const cols = taps(w, ow, scale ? scale[1] : ow / w);
  const out = new Float32Array(oh * ow * c);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const o = (y * ow + x) * c;
      for (let i = 0; i < 4; i++) {
        const wy = rows.weights[y * 4 + i];
        const sy = rows.index[y * 4 + i];
        for (let j = 0; j < 4; j++) {
          const wxy = wy * cols.weights[x * 4 + j];
          const s = (sy * w + cols.index[x * 4 + j]) * c;
          for (let k = 0; k < c; k++) out[o + k] += wxy * src[s + k];
        }
      }
    }
  }
  return out;
}

/** The four source indices (clamped) and weights for each output position along one axis. */
function taps(inSize: number, outSize: number, scale: number): { index: Int32Array; weights: Float64Array } {
  const index = new Int32Array(outSize * 4);
  const weights = new Float64Array(outSize * 4);
  for (let d = 0; d < outSize; d++) {
    const real = (d + 0.5) / scale - 0.5;
    const base = Math.floor(real);
    const t = real - base;
    const wts = cubicWeights(t);
    for (let i = 0; i < 4; i++) {
      index[d * 4 + i] = Math.min(Math.max(base - 1 + i, 0), inSize - 1);
      weights[d * 4 + i] = wts[i];
    }
  }
  return { index, weights };
}

/** Keys' cubic convolution weights for the taps at −1, 0, 1, 2 around a point at fraction t (a = −0.75). */
export function cubicWeights(t: number, a = -0.75): [number, number, number, number] {
  const near = (x: number) => ((a + 2) * x - (a + 3)) * x * x + 1;
  const far = (x: number) => ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}
