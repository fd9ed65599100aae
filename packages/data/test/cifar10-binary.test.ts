import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CIFAR10_CLASSES,
  CIFAR10_RECORD_BYTES,
  cifar10BatchFiles,
  openCifar10Binary,
} from '../src/datasets/cifar10-binary';
import { decodeImage } from '../src/image/decode';
import type { RgbImage } from '../src/image/rgb-image';
import { CIFAR_JPEG, hasCifarJpeg, tempDir } from './helpers';

/** One CIFAR-10 record: label byte, then the R, G and B planes (each 32×32, row-major). */
function record(label: number, img: RgbImage): Uint8Array {
  const rec = new Uint8Array(CIFAR10_RECORD_BYTES);
  rec[0] = label;
  for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) rec[1 + c * 1024 + p] = img.data[p * 3 + c];
  return rec;
}

function patterned(seed: number): RgbImage {
  return {
    width: 32,
    height: 32,
    data: Uint8Array.from({ length: 3072 }, (_, i) => (i * 31 + seed * 17) % 256),
  };
}

async function writeBatches(
  dir: string,
  perFile: number,
  meta = true,
): Promise<{ images: RgbImage[]; labels: number[] }> {
  await mkdir(dir, { recursive: true });
  const images: RgbImage[] = [];
  const labels: number[] = [];
  for (const file of [...cifar10BatchFiles('train'), ...cifar10BatchFiles('test')]) {
    const recs: Uint8Array[] = [];
    for (let r = 0; r < perFile; r++) {
      const img = patterned(images.length);
      const label = (images.length * 3) % 10;
      images.push(img);
      labels.push(label);
      recs.push(record(label, img));
    }
    writeFileSync(join(dir, file), Buffer.concat(recs));
  }
  if (meta) writeFileSync(join(dir, 'batches.meta.txt'), `${CIFAR10_CLASSES.join('\n')}\n\n`);
  return { images, labels };
}

describe('openCifar10Binary', () => {
  it('reads labels and converts planar CHW records to interleaved RGB', async () => {
    const dir = join(await tempDir(), 'cifar-10-batches-bin');
    const { images, labels } = await writeBatches(dir, 3);
    const train = await openCifar10Binary(dir, 'train');
    expect(train.length).toBe(15);
    expect([train.height, train.width]).toEqual([32, 32]);
    expect(train.classes).toEqual(CIFAR10_CLASSES);
    expect(Array.from(train.labels)).toEqual(labels.slice(0, 15));
    for (let i = 0; i < 15; i++) expect(train.image(i).data).toEqual(images[i].data);
    // Record 2 of data_batch_2 is image 5: pixel (row 1, col 2) green is plane 1, offset 1·32+2.
    const raw = readFileSync(join(dir, 'data_batch_2.bin'));
    const g = raw[2 * CIFAR10_RECORD_BYTES + 1 + 1024 + 34];
    expect(train.image(5).data[34 * 3 + 1]).toBe(g);
    expect(train.source(5)).toBe(`${join(dir, 'data_batch_2.bin')}#2`);
    const test = await openCifar10Binary(dir, 'test');
    expect(test.length).toBe(3);
    expect(test.image(2).data).toEqual(images[17].data);
    const batch = test.load([2, 0], { size: 16 });
    expect([batch.count, batch.height, batch.width, batch.data.length]).toEqual([2, 16, 16, 2 * 16 * 16 * 3]);
    expect(Array.from(batch.labels)).toEqual([labels[17], labels[15]]);
  });

  it('names the file and the sizes of a truncated batch', async () => {
    const dir = join(await tempDir(), 'cifar-10-batches-bin');
    await writeBatches(dir, 2);
    const file = join(dir, 'data_batch_3.bin');
    writeFileSync(file, readFileSync(file).subarray(0, 2 * CIFAR10_RECORD_BYTES - 5));
    await expect(openCifar10Binary(dir, 'train')).rejects.toThrow(
      `${file} has 6141 bytes, expected a whole number of 3073-byte records (30730000 for the official 10000)`,
    );
    await expect(openCifar10Binary(dir, 'test')).resolves.toBeDefined();
  });

  it('names a missing batch file, a bad label and a wrong class list', async () => {
    const dir = join(await tempDir(), 'b');
    await writeBatches(dir, 1, false);
    const ds = await openCifar10Binary(dir, 'test');
    expect(ds.classes).toEqual(CIFAR10_CLASSES); // standard names without batches.meta.txt
    writeFileSync(join(dir, 'test_batch.bin'), record(12, patterned(0)));
    await expect(openCifar10Binary(dir, 'test')).rejects.toThrow(
      /test_batch\.bin record 0 has label 12, expected 0\.\.9/,
    );
    writeFileSync(join(dir, 'batches.meta.txt'), 'cat\ndog\n');
    await expect(openCifar10Binary(dir, 'train')).rejects.toThrow(
      /batches\.meta\.txt lists 2 class names, expected 10/,
    );
    await expect(openCifar10Binary(join(dir, 'nope'), 'train')).rejects.toThrow(
      /missing batch file .*nope\/data_batch_1\.bin/,
    );
  });

  it.skipIf(!hasCifarJpeg)('round-trips real CIFAR-10 images through the binary layout', async () => {
    // Real JPEGs decoded, written as binary records, read back: the same pixels and labels.
    const picks = [
      ['test/airplane/0000.jpg', 0],
      ['test/cat/0003.jpg', 3],
      ['train/truck/0042.jpg', 9],
    ] as const;
    const dir = join(await tempDir(), 'real');
    await mkdir(dir);
    const decoded = picks.map(([f]) => decodeImage(readFileSync(join(CIFAR_JPEG, f)), f));
    writeFileSync(join(dir, 'test_batch.bin'), Buffer.concat(picks.map(([, l], i) => record(l, decoded[i]))));
    const ds = await openCifar10Binary(dir, 'test');
    expect(Array.from(ds.labels)).toEqual([0, 3, 9]);
    for (let i = 0; i < 3; i++) expect(ds.image(i).data).toEqual(decoded[i].data);
    expect(ds.classes[ds.labels[1]]).toBe('cat');
  });

  it('fingerprints content, and subsets see the right images', async () => {
    const a = join(await tempDir(), 'a');
    await writeBatches(a, 2);
    const ds = await openCifar10Binary(a, 'train');
    const again = await openCifar10Binary(a, 'train');
    expect(ds.fingerprint()).toMatch(/^[0-9a-f]{64}$/);
    expect(again.fingerprint()).toBe(ds.fingerprint());
    const sub = ds.subset([7, 2]);
    expect(sub.length).toBe(2);
    expect(sub.image(0).data).toEqual(ds.image(7).data);
    expect(Array.from(sub.labels)).toEqual([ds.labels[7], ds.labels[2]]);
    expect(sub.fingerprint()).not.toBe(ds.fingerprint());
    expect(sub.fingerprint()).toBe(ds.subset([7, 2]).fingerprint());
    expect(() => ds.image(10)).toThrow(/image index 10 is outside 0\.\.9/);
    expect(() => ds.load([0], { size: 0 })).toThrow(/size must be a positive integer/);
  });
});
