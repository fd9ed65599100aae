import * as tf from '@tensorflow/tfjs-core';

/** ITU-R 601 luma weights, the ones PIL's `convert('L')` uses (DINO augments PIL images). */
export const GRAY_WEIGHTS: readonly [number, number, number] = [0.299, 0.587, 0.114];

/** Luma of [B, H, W, 3] images as [B, H, W, 1]. */
export function toGray(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sum(tf.mul(x, tf.tensor1d(Array.from(GRAY_WEIGHTS))), -1, true) as tf.Tensor4D);
}

/** Per-image factors [B] as a broadcastable [B, 1, 1, 1] tensor. */
function perImage(values: ArrayLike<number>): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from(values as ArrayLike<number>), [values.length, 1, 1, 1]);
}

function blend(x: tf.Tensor, other: tf.Tensor, factor: tf.Tensor): tf.Tensor4D {
  // factor·x + (1 − factor)·other, clamped like torchvision's `_blend`.
  return tf.clipByValue(tf.add(tf.mul(factor, x), tf.mul(tf.sub(1, factor), other)), 0, 1) as tf.Tensor4D;
}

/** x · factor, clamped to [0, 1]. */
export function adjustBrightness(x: tf.Tensor4D, factors: ArrayLike<number>): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.mul(x, perImage(factors)), 0, 1) as tf.Tensor4D);
}

/** Blend with the image's mean luma (a flat gray): factor 0 gives that gray, 1 the image. */
export function adjustContrast(x: tf.Tensor4D, factors: ArrayLike<number>): tf.Tensor4D {
  return tf.tidy(() => blend(x, tf.mean(toGray(x), [1, 2, 3], true), perImage(factors)));
}

/** Blend with the image's own luma: factor 0 gives grayscale, 1 the image. */
export function adjustSaturation(x: tf.Tensor4D, factors: ArrayLike<number>): tf.Tensor4D {
  return tf.tidy(() => blend(x, toGray(x), perImage(factors)));
}

/** Rotates hue by `shifts` turns (in [-0.5, 0.5]) through HSV, as torchvision's `adjust_hue` does. */
export function adjustHue(x: tf.Tensor4D, shifts: ArrayLike<number>): tf.Tensor4D {
  return tf.tidy(() => {
    const [h, s, v] = rgbToHsv(x);
    const shifted = tf.sub(tf.add(h, perImage(shifts)), tf.floor(tf.add(h, perImage(shifts))));
    return hsvToRgb(shifted, s, v);
  });
}

/** Hue in [0, 1), saturation, value; each [B, H, W, 1]. */
function rgbToHsv(x: tf.Tensor4D): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const [r, g, b] = tf.split(x, 3, -1);
  const maxc = tf.maximum(tf.maximum(r, g), b);
  const minc = tf.minimum(tf.minimum(r, g), b);
  const flat = tf.equal(maxc, minc);
  const ones = tf.onesLike(maxc);
  const chroma = tf.sub(maxc, minc);
  const s = tf.div(chroma, tf.where(flat, ones, maxc));
  const divisor = tf.where(flat, ones, chroma);
  const rc = tf.div(tf.sub(maxc, r), divisor);
  const gc = tf.div(tf.sub(maxc, g), divisor);
  const bc = tf.div(tf.sub(maxc, b), divisor);
  const isR = tf.equal(maxc, r);
  const isG = tf.logicalAnd(tf.equal(maxc, g), tf.logicalNot(isR));
  const isB = tf.logicalNot(tf.logicalOr(isR, isG));
  const zero = tf.zerosLike(maxc);
  const hue = tf.addN([
    tf.where(isR, tf.sub(bc, gc), zero),
    tf.where(isG, tf.add(2, tf.sub(rc, bc)), zero),
    tf.where(isB, tf.add(4, tf.sub(gc, rc)), zero),
  ]);
  const h6 = tf.add(tf.div(hue, 6), 1);
  return [tf.sub(h6, tf.floor(h6)), s, maxc];
}

function hsvToRgb(h: tf.Tensor, s: tf.Tensor, v: tf.Tensor): tf.Tensor4D {
  const h6 = tf.mul(h, 6);
  const sector = tf.floor(h6);
  const f = tf.sub(h6, sector);
  const i = tf.sub(sector, tf.mul(6, tf.floor(tf.div(sector, 6))));
  const p = tf.clipByValue(tf.mul(v, tf.sub(1, s)), 0, 1);
  const q = tf.clipByValue(tf.mul(v, tf.sub(1, tf.mul(s, f))), 0, 1);
  const t = tf.clipByValue(tf.mul(v, tf.sub(1, tf.mul(s, tf.sub(1, f)))), 0, 1);
  const pick = (table: tf.Tensor[]) => {
    let out = table[5];
    for (let k = 4; k >= 0; k--) out = tf.where(tf.equal(i, k), table[k], out);
    return out;
  };
  return tf.concat(
    [pick([v, q, p, p, t, v]), pick([t, v, v, q, p, p]), pick([p, p, t, v, v, q])],
    -1,
  ) as tf.Tensor4D;
}

/** Replaces the images whose `mask` entry is true by their luma on all three channels. */
export function randomGrayscale(x: tf.Tensor4D, mask: readonly boolean[]): tf.Tensor4D {
  return tf.tidy(() => tf.where(maskTensor(mask, x), tf.tile(toGray(x), [1, 1, 1, 3]), x) as tf.Tensor4D);
}

/** In the images whose `mask` entry is true, values ≥ threshold become 1 − value (PIL's solarize). */
export function solarize(x: tf.Tensor4D, mask: readonly boolean[], threshold: number): tf.Tensor4D {
  return tf.tidy(() => {
    const hit = tf.logicalAnd(maskTensor(mask, x), tf.greaterEqual(x, threshold));
    return tf.where(hit, tf.sub(1, x), x) as tf.Tensor4D;
  });
}

/** A per-image boolean mask broadcast to the shape of `x` (tf.where needs equal shapes). */
export function maskTensor(mask: readonly boolean[], x: tf.Tensor4D): tf.Tensor {
  const [, h, w, c] = x.shape;
  return tf.tile(tf.tensor4d(Array.from(mask), [mask.length, 1, 1, 1], 'bool'), [1, h, w, c]);
}
