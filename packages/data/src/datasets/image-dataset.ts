import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { resizeRgb } from '../image/resize';
import type { RgbImage } from '../image/rgb-image';

/** Images of one batch: `data` holds `count * height * width * 3` bytes (RGB, row-major, image after image). */
export interface ImageBatch {
  count: number;
  height: number;
  width: number;
  data: Uint8Array;
  labels: Int32Array;
}

export interface LoadOptions {
  /** Resize every image to this size (`n` for n×n, or [height, width]); the native size when omitted. */
  size?: number | readonly [number, number];
}

/**
 * A labelled image dataset held in memory as 8-bit RGB, all images one size. CIFAR-10 binary batches and
 * ImageFolder trees both open into this shape, so the trainer, the feature cache and the probes do not
 * care where the pixels came from.
 */
export interface ImageDataset {
  /** Where it came from, e.g. `cifar10-binary:/data/cifar-10-batches-bin:train`. */
  readonly name: string;
  readonly length: number;
  /** Class names; label `k` means `classes[k]`. */
  readonly classes: readonly string[];
  /** One label per image, in dataset order. */
  readonly labels: Int32Array;
  /** Native size of every image. */
  readonly height: number;
  readonly width: number;
  /** sha256 (hex) of the classes, labels and pixels: equal fingerprints mean identical data. */
  fingerprint(): string;
  /** The images at `indices`, in that order, optionally resized. */
  load(indices: ArrayLike<number>, options?: LoadOptions): ImageBatch;
  /** One image at native size (a view, not a copy). */
  image(index: number): RgbImage;
  /** Where image `index` came from (a file path, or `batch.bin#record`), for messages and reports. */
  source(index: number): string;
  /** A dataset of the images at `indices` (no pixel copy). */
  subset(indices: ArrayLike<number>): ImageDataset;
}

/** Pixels of `count` same-size images plus their labels and origins: what dataset loaders produce. */
export interface PixelStore {
  name: string;
  classes: readonly string[];
  labels: Int32Array;
  height: number;
  width: number;
  pixels: Uint8Array;
  source: (index: number) => string;
}

/** The one `ImageDataset` implementation: a pixel store, optionally seen through an index map. */
export class InMemoryImageDataset implements ImageDataset {
  readonly name: string;
  readonly length: number;
  readonly classes: readonly string[];
  readonly labels: Int32Array;
  readonly height: number;
  readonly width: number;
  private cachedFingerprint: string | undefined;

  constructor(
    private readonly store: PixelStore,
    private readonly indexMap?: Int32Array,
  ) {
    const { height, width, pixels, labels } = store;
    const stored = labels.length;
    if (pixels.length !== stored * height * width * 3) {
      throw new Error(
        `${store.name}: pixel buffer holds ${pixels.length} bytes, expected ${stored} images of ${height}x${width}x3 = ${stored * height * width * 3}`,
      );
    }
    for (let i = 0; i < stored; i++) {
      if (!(labels[i] >= 0 && labels[i] < store.classes.length)) {
        throw new Error(
          `${store.name}: label ${labels[i]} of ${store.source(i)} is outside 0..${store.classes.length - 1}`,
        );
      }
    }
    this.name = store.name;
    this.classes = store.classes;
    this.height = height;
    this.width = width;
    this.length = indexMap ? indexMap.length : stored;
    this.labels = indexMap ? Int32Array.from(indexMap, (i) => labels[i]) : labels;
  }

  fingerprint(): string {
    if (this.cachedFingerprint === undefined) {
      const hash = createHash('sha256');
      hash.update(
        JSON.stringify({ classes: this.classes, height: this.height, width: this.width, n: this.length }),
      );
      hash.update(new Uint8Array(this.labels.buffer, this.labels.byteOffset, this.labels.byteLength));
      if (this.indexMap) {
        for (let i = 0; i < this.length; i++) hash.update(this.image(i).data);
      } else {
        hash.update(this.store.pixels);
      }
      this.cachedFingerprint = hash.digest('hex');
    }
    return this.cachedFingerprint;
  }

  image(index: number): RgbImage {
    const stored = this.storedIndex(index);
    const bytes = this.height * this.width * 3;
    return {
      height: this.height,
      width: this.width,
      data: this.store.pixels.subarray(stored * bytes, (stored + 1) * bytes),
    };
  }

  source(index: number): string {
    return this.store.source(this.storedIndex(index));
  }

  load(indices: ArrayLike<number>, options: LoadOptions = {}): ImageBatch {
    const [height, width] = targetSize(options.size, this.height, this.width);
    const count = indices.length;
    const bytes = height * width * 3;
    const data = new Uint8Array(count * bytes);
    const labels = new Int32Array(count);
    for (let b = 0; b < count; b++) {
      const img = this.image(indices[b]);
      resizeRgb(img, height, width, data.subarray(b * bytes, (b + 1) * bytes));
      labels[b] = this.labels[indices[b]];
    }
    return { count, height, width, data, labels };
  }

  subset(indices: ArrayLike<number>): ImageDataset {
    const map = Int32Array.from(indices, (i) => this.storedIndex(i));
    return new InMemoryImageDataset(this.store, map);
  }

  private storedIndex(index: number): number {
    if (!(Number.isInteger(index) && index >= 0 && index < this.length)) {
      throw new Error(`${this.name}: image index ${index} is outside 0..${this.length - 1}`);
    }
    return this.indexMap ? this.indexMap[index] : index;
  }
}

function targetSize(size: LoadOptions['size'], height: number, width: number): [number, number] {
  if (size === undefined) return [height, width];
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  if (!(Number.isInteger(h) && h > 0 && Number.isInteger(w) && w > 0)) {
    throw new Error(
      `ImageDataset.load: size must be a positive integer or [height, width], got ${JSON.stringify(size)}`,
    );
  }
  return [h, w];
}

/** A batch as a float32 tensor [count, height, width, 3] with values in [0, 1]. */
export function batchToTensor(batch: ImageBatch): tf.Tensor4D {
  const values = new Float32Array(batch.data.length);
  for (let i = 0; i < values.length; i++) values[i] = batch.data[i] / 255;
  return tf.tensor4d(values, [batch.count, batch.height, batch.width, 3], 'float32');
}
