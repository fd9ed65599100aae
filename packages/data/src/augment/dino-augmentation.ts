import { assertLastDim, assertRank, type Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { gaussianBlur } from './blur';
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  maskTensor,
  randomGrayscale,
  solarize,
} from './color';
import { type AugmentationConfig, type AugmentationConfigInput, parseAugmentationConfig } from './config';
import { sampleViewParams, type ViewParams } from './sample';

const JITTER_OPS = [
  (x: tf.Tensor4D, f: number[]) => adjustBrightness(x, f),
  (x: tf.Tensor4D, f: number[]) => adjustContrast(x, f),
  (x: tf.Tensor4D, f: number[]) => adjustSaturation(x, f),
  (x: tf.Tensor4D, f: number[]) => adjustHue(x, f),
];
const JITTER_KEYS = ['brightness', 'contrast', 'saturation', 'hue'] as const;
const IDENTITY_FACTOR = [1, 1, 1, 0];

/**
 * DINO's view augmentations on a batch of float images [B, H, W, 3] in [0, 1], using only tfjs-core ops
 * (any backend). All randomness comes from the `Rng` passed in, so the same seed gives the same views.
 * Differences from torchvision on PIL images: the crop is resized bilinearly with corner-aligned sampling
 * (tf.image.cropAndResize) rather than bicubic, and colour operations act on floats rather than bytes.
 */
export class DinoAugmentation {
  readonly config: AugmentationConfig;

  constructor(config: AugmentationConfigInput = {}) {
    this.config = parseAugmentationConfig(config);
  }

  /** Draws the parameters of one view per image. */
  sample(count: number, height: number, width: number, rng: Rng): ViewParams[] {
    return sampleViewParams(this.config, count, height, width, rng);
  }

  /** One random view per image, of size `config.size`. */
  apply(images: tf.Tensor4D, rng: Rng): tf.Tensor4D {
    assertRank(images, 4, 'DinoAugmentation.apply images');
    const [b, h, w] = images.shape;
    return this.applyParams(images, this.sample(b, h, w, rng));
  }

  /** The views described by `params` (one entry per image). */
  applyParams(images: tf.Tensor4D, params: readonly ViewParams[]): tf.Tensor4D {
    assertRank(images, 4, 'DinoAugmentation images');
    assertLastDim(images, 3, 'DinoAugmentation images');
    const [batch, height, width] = images.shape;
    if (params.length !== batch) {
      throw new Error(
        `DinoAugmentation: got ${params.length} view parameters for a batch of ${batch} images`,
      );
    }
    return tf.tidy(() => {
      let x = cropAndFlip(images, params, this.config.size, height, width);
      x = colorJitter(x, params);
      if (params.some((p) => p.grayscale)) {
        x = randomGrayscale(
          x,
          params.map((p) => p.grayscale),
        );
      }
      x = gaussianBlur(
        x,
        params.map((p) => p.blurSigma),
      );
      if (params.some((p) => p.solarize)) {
        x = solarize(
          x,
          params.map((p) => p.solarize),
          this.config.solarize.threshold,
        );
      }
      return x;
    });
  }
}

/**
 * Each crop becomes a cropAndResize box through the centres of its corner pixels (so a full-image crop
 * at the same size is the identity); a flip swaps the box's left and right edges.
 */
function cropAndFlip(
  images: tf.Tensor4D,
  params: readonly ViewParams[],
  size: number,
  height: number,
  width: number,
): tf.Tensor4D {
  const boxes = new Float32Array(params.length * 4);
  const sy = Math.max(height - 1, 1);
  const sx = Math.max(width - 1, 1);
  params.forEach(({ crop, flip }, b) => {
    const x0 = crop.left / sx;
    const x1 = (crop.left + crop.width - 1) / sx;
    boxes.set([crop.top / sy, flip ? x1 : x0, (crop.top + crop.height - 1) / sy, flip ? x0 : x1], b * 4);
  });
  return tf.image.cropAndResize(
    images,
    tf.tensor2d(boxes, [params.length, 4]),
    tf.tensor1d(
      params.map((_, b) => b),
      'int32',
    ),
    [size, size],
    'bilinear',
  );
}

/**
 * torchvision's ColorJitter runs its four operations in a random order per image. Stage s applies, to
 * each jittered image, the operation at position s of its order; the operations of one stage touch
 * disjoint images, so each reads the stage's input.
 */
function colorJitter(x: tf.Tensor4D, params: readonly ViewParams[]): tf.Tensor4D {
  if (!params.some((p) => p.jitter)) return x;
  let out = x;
  for (let stage = 0; stage < 4; stage++) {
    for (let op = 0; op < 4; op++) {
      const mask = params.map((p) => p.jitter !== null && p.jitter.order[stage] === op);
      if (!mask.some(Boolean)) continue;
      const factors = params.map((p) => (p.jitter ? p.jitter[JITTER_KEYS[op]] : IDENTITY_FACTOR[op]));
      out = tf.where(maskTensor(mask, out), JITTER_OPS[op](out, factors), out) as tf.Tensor4D;
    }
  }
  return out;
}
