import * as tf from '@tensorflow/tfjs-core';

/** Normalised gaussian taps for offsets −radius..radius (a delta for sigma 0). */
export function gaussianKernel1d(sigma: number, radius: number): Float32Array {
  const taps = new Float32Array(2 * radius + 1);
  if (!(sigma > 0)) {
    taps[radius] = 1;
    return taps;
  }
  let total = 0;
  for (let d = -radius; d <= radius; d++) {
    taps[d + radius] = Math.exp(-(d * d) / (2 * sigma * sigma));
    total += taps[d + radius];
  }
  for (let k = 0; k < taps.length; k++) taps[k] /= total;
  return taps;
}

/**
 * Separable gaussian blur with a different sigma per image (0 leaves the image unchanged), borders
 * reflected. The batch is moved into the channel axis so one depthwise convolution per direction blurs
 * every image with its own kernel; the kernel radius is 3·max sigma (capped by the image size).
 */
export function gaussianBlur(x: tf.Tensor4D, sigmas: readonly number[]): tf.Tensor4D {
  const [batch, height, width] = x.shape;
  if (sigmas.length !== batch)
    throw new Error(`gaussianBlur: got ${sigmas.length} sigmas for a batch of ${batch}`);
  const maxSigma = Math.max(0, ...sigmas);
  if (maxSigma === 0) return tf.clone(x);
  const ry = Math.min(Math.ceil(3 * maxSigma), height - 1);
  const rx = Math.min(Math.ceil(3 * maxSigma), width - 1);
  return tf.tidy(() => {
    // [B, H, W, 3] → [1, H, W, B·3]: channel b·3 + c is colour c of image b.
    let y = tf.reshape(tf.transpose(x, [1, 2, 0, 3]), [1, height, width, batch * 3]) as tf.Tensor4D;
    if (ry > 0) {
      y = tf.mirrorPad(
        y,
        [
          [0, 0],
          [ry, ry],
          [0, 0],
          [0, 0],
        ],
        'reflect',
      );
      y = tf.depthwiseConv2d(y, filters(sigmas, ry, 'vertical'), 1, 'valid');
    }
    if (rx > 0) {
      y = tf.mirrorPad(
        y,
        [
          [0, 0],
          [0, 0],
          [rx, rx],
          [0, 0],
        ],
        'reflect',
      );
      y = tf.depthwiseConv2d(y, filters(sigmas, rx, 'horizontal'), 1, 'valid');
    }
    return tf.transpose(tf.reshape(y, [height, width, batch, 3]), [2, 0, 1, 3]) as tf.Tensor4D;
  });
}

/** Depthwise filter [K, 1, B·3, 1] (vertical) or [1, K, B·3, 1] (horizontal), one kernel per image. */
function filters(
  sigmas: readonly number[],
  radius: number,
  direction: 'vertical' | 'horizontal',
): tf.Tensor4D {
  const k = 2 * radius + 1;
  const channels = sigmas.length * 3;
  const values = new Float32Array(k * channels);
  sigmas.forEach((sigma, b) => {
    const taps = gaussianKernel1d(sigma, radius);
    for (let t = 0; t < k; t++) for (let c = 0; c < 3; c++) values[t * channels + b * 3 + c] = taps[t];
  });
  const shape: [number, number, number, number] =
    direction === 'vertical' ? [k, 1, channels, 1] : [1, k, channels, 1];
  return tf.tensor4d(values, shape);
}
