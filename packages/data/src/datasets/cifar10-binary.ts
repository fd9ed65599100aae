import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type ImageDataset, InMemoryImageDataset } from './image-dataset';

/** The class names of CIFAR-10, in label order (also the content of `batches.meta.txt`). */
export const CIFAR10_CLASSES: readonly string[] = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

const SIDE = 32;
const IMAGE_BYTES = SIDE * SIDE * 3;
/** One record: a label byte, then 1024 red, 1024 green and 1024 blue bytes (row-major planes). */
export const CIFAR10_RECORD_BYTES = 1 + IMAGE_BYTES;
const OFFICIAL_RECORDS = 10_000;

export type Cifar10Split = 'train' | 'test';

/** Batch file names of a split in the official `cifar-10-batches-bin` layout. */
export function cifar10BatchFiles(split: Cifar10Split): string[] {
  return split === 'train' ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ['test_batch.bin'];
}

/**
 * Opens a split of CIFAR-10 in its official binary layout (`dir` is the `cifar-10-batches-bin` folder).
 * Batch files may hold fewer than the official 10,000 records (small test sets), but each must be a whole
 * number of 3073-byte records. Pixels are converted from the file's planar CHW to interleaved RGB.
 */
export async function openCifar10Binary(dir: string, split: Cifar10Split): Promise<ImageDataset> {
  const files = cifar10BatchFiles(split).map((f) => join(dir, f));
  const buffers: Buffer[] = [];
  for (const file of files) {
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      throw new Error(
        `CIFAR-10 binary: missing batch file ${file} (the ${split} split needs ${cifar10BatchFiles(split).join(', ')})`,
      );
    }
    if (size === 0 || size % CIFAR10_RECORD_BYTES !== 0) {
      throw new Error(
        `CIFAR-10 binary: ${file} has ${size} bytes, expected a whole number of ${CIFAR10_RECORD_BYTES}-byte records ` +
          `(${OFFICIAL_RECORDS * CIFAR10_RECORD_BYTES} for the official ${OFFICIAL_RECORDS}); the file is truncated or not a CIFAR-10 batch`,
      );
    }
    buffers.push(await readFile(file));
  }
  const classes = await readClassNames(dir);
  const count = buffers.reduce((n, b) => n + b.length / CIFAR10_RECORD_BYTES, 0);
  const pixels = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Int32Array(count);
  const origin: { file: string; first: number }[] = [];
  let n = 0;
  for (let f = 0; f < buffers.length; f++) {
    const buf = buffers[f];
    origin.push({ file: files[f], first: n });
    for (let r = 0; r < buf.length / CIFAR10_RECORD_BYTES; r++, n++) {
      const rec = r * CIFAR10_RECORD_BYTES;
      const label = buf[rec];
      if (label >= classes.length) {
        throw new Error(
          `CIFAR-10 binary: ${files[f]} record ${r} has label ${label}, expected 0..${classes.length - 1}`,
        );
      }
      labels[n] = label;
      const plane = SIDE * SIDE;
      const out = n * IMAGE_BYTES;
      for (let p = 0; p < plane; p++) {
        pixels[out + p * 3] = buf[rec + 1 + p];
        pixels[out + p * 3 + 1] = buf[rec + 1 + plane + p];
        pixels[out + p * 3 + 2] = buf[rec + 1 + 2 * plane + p];
      }
    }
  }
  return new InMemoryImageDataset({
    name: `cifar10-binary:${dir}:${split}`,
    classes,
    labels,
    height: SIDE,
    width: SIDE,
    pixels,
    source: (i) => {
      let k = origin.length - 1;
      while (origin[k].first > i) k--;
      return `${origin[k].file}#${i - origin[k].first}`;
    },
  });
}

/** Class names from `batches.meta.txt` (one per line); the standard names when the file is absent. */
async function readClassNames(dir: string): Promise<readonly string[]> {
  const meta = join(dir, 'batches.meta.txt');
  if (!existsSync(meta)) return CIFAR10_CLASSES;
  const names = (await readFile(meta, 'utf8'))
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length !== CIFAR10_CLASSES.length) {
    throw new Error(
      `CIFAR-10 binary: ${meta} lists ${names.length} class names, expected ${CIFAR10_CLASSES.length}`,
    );
  }
  return names;
}
