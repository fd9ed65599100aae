import * as tf from '@tensorflow/tfjs-core';

/** Per-channel affine map applied to [0, 1] RGB: (x − mean) / std. */
export interface PixelNormalization {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** ImageNet statistics, as DINO and torchvision use. */
export const IMAGENET_NORMALIZATION: PixelNormalization = {
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

/** [0, 1] → [−1, 1], as MobileNet (tfjs-models) expects. */
export const SIGNED_UNIT_NORMALIZATION: PixelNormalization = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

/** Leaves [0, 1] pixels as they are. */
export const IDENTITY_NORMALIZATION: PixelNormalization = { mean: [0, 0, 0], std: [1, 1, 1] };

/** Throws a message naming `what` unless `images` is a non-empty float32 batch [B, H, W, 3]. */
export function assertImages(images: tf.Tensor, what: string): asserts images is tf.Tensor4D {
  if (images.rank !== 4) {
    throw new Error(
      `${what}: images must be [batch, height, width, 3], got shape [${images.shape.join(', ')}]`,
    );
  }
  const [b, h, w, c] = images.shape;
  if (c !== 3) {
    throw new Error(
      `${what}: images must have 3 channels (RGB) in the last axis, got shape [${images.shape.join(', ')}]`,
    );
  }
  if (b < 1 || h < 1 || w < 1) {
    throw new Error(`${what}: images must be non-empty, got shape [${images.shape.join(', ')}]`);
  }
  if (images.dtype !== 'float32') {
    throw new Error(
      `${what}: images must be float32 RGB in [0, 1], got dtype ${images.dtype} (divide 0–255 pixels by 255)`,
    );
  }
}

/**
 * [0, 1] RGB [B, H, W, 3] → resized to `size` × `size` (bilinear, half-pixel centres like
 * torch's `align_corners=False`; skipped when already that size) and normalised, in whichever order
 * touches fewer pixels (the same values up to float rounding).
 */
export function preprocessImages(
  images: tf.Tensor4D,
  size: number,
  norm: PixelNormalization,
  what: string,
): tf.Tensor4D {
  assertImages(images, what);
  return tf.tidy(() => {
    const [, h, w] = images.shape;
    if (h === size && w === size) return normalizePixels(images, norm);
    // Bilinear weights sum to one, so the affine normalisation commutes with resizing: apply it on
    // whichever side has fewer pixels (CIFAR's 32 px upscaled to 128 px: 16× fewer).
    if (h * w < size * size)
      return tf.image.resizeBilinear(normalizePixels(images, norm), [size, size], false, true);
    return normalizePixels(tf.image.resizeBilinear(images, [size, size], false, true), norm);
  });
}

/** (x − mean) / std per channel. */
export function normalizePixels(images: tf.Tensor4D, norm: PixelNormalization): tf.Tensor4D {
  return tf.tidy(() => {
    const mean = tf.tensor1d([...norm.mean]);
    const invStd = tf.tensor1d(norm.std.map((s) => 1 / s));
    return tf.mul(tf.sub(images, mean), invStd) as tf.Tensor4D;
  });
}
