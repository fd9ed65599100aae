import { readdirSync, readFileSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { CIFAR10_CLASSES } from '../src/datasets/cifar10-binary';
import { describeSkipped, openImageFolder } from '../src/datasets/image-folder';
import { decodeImage } from '../src/image/decode';
import { CIFAR_JPEG, hasCifarJpeg, tempDir } from './helpers';

function rgba(w: number, h: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: w * h * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 13 + seed * 29) % 256));
}
const jpg = (w: number, h: number, seed: number) =>
  jpeg.encode({ width: w, height: h, data: rgba(w, h, seed) }, 90).data;
function png(w: number, h: number, seed: number): Buffer {
  const p = new PNG({ width: w, height: h });
  p.data = Buffer.from(rgba(w, h, seed));
  return PNG.sync.write(p);
}

/** split/<class>/ files: two classes written in reverse order, mixed formats, junk and two bad files. */
async function makeTree(root: string, size = 8): Promise<void> {
  const dog = join(root, 'train', 'dog');
  const cat = join(root, 'train', 'cat');
  await mkdir(dog, { recursive: true });
  await mkdir(cat, { recursive: true });
  writeFileSync(join(dog, 'b.jpg'), jpg(size, size, 1));
  writeFileSync(join(dog, 'a.PNG'), png(size, size, 2));
  writeFileSync(join(dog, 'c.jpeg'), jpg(size, size, 3));
  writeFileSync(join(dog, 'notes.txt'), 'not an image');
  writeFileSync(join(dog, '.hidden.jpg'), 'ignored');
  writeFileSync(join(cat, 'x.png'), png(size, size, 4));
  writeFileSync(join(cat, 'y.jpg'), Buffer.from('this is not a jpeg'));
  writeFileSync(join(cat, 'z.png'), png(size, size, 5).subarray(0, 30));
}

describe('openImageFolder', () => {
  it('sorts classes and files, decodes every image, and lists the corrupt ones it skipped', async () => {
    const root = await tempDir();
    await makeTree(root);
    const ds = await openImageFolder({ root, split: 'train', quiet: true });
    expect(ds.classes).toEqual(['cat', 'dog']);
    expect(ds.length).toBe(4);
    expect(Array.from(ds.labels)).toEqual([0, 1, 1, 1]);
    const files = ['cat/x.png', 'dog/a.PNG', 'dog/b.jpg', 'dog/c.jpeg'];
    files.forEach((f, i) => {
      const path = join(root, 'train', f);
      expect(ds.source(i)).toBe(path);
      expect(ds.image(i).data).toEqual(decodeImage(readFileSync(path), path).data);
    });
    expect(ds.skipped.map((s) => s.file)).toEqual(['cat/y.jpg', 'cat/z.png']);
    expect(ds.skipped[0].reason).toMatch(/cat\/y\.jpg is not a JPEG or PNG file/);
    expect(ds.skipped[1].reason).toMatch(/cat\/z\.png is a corrupt PNG file/);
    expect(ds.cache).toBe('none');
  });

  it('reports every skipped file, with the count, not only the first', async () => {
    const root = await tempDir();
    await makeTree(root);
    const ds = await openImageFolder({ root, split: 'train', quiet: true });
    const report = describeSkipped(ds.skipped, 'train: skipped');
    expect(report.split('\n')).toEqual([
      'train: skipped 2 unreadable image(s):',
      `  cat/y.jpg: ${ds.skipped[0].reason}`,
      `  cat/z.png: ${ds.skipped[1].reason}`,
    ]);
    expect(describeSkipped(ds.skipped, undefined, 1).split('\n')).toEqual([
      `  cat/y.jpg: ${ds.skipped[0].reason}`,
      '  … and 1 more',
    ]);
  });

  it('an unwritable pixel cache fails before any image is decoded', async () => {
    const root = await tempDir();
    await makeTree(root);
    writeFileSync(join(root, 'blocker'), 'a file where the cache folder should go');
    const cacheDir = join(root, 'blocker', 'pixels');
    // strict would stop at the first corrupt image (cat/y.jpg) if decoding ran before the cache check.
    await expect(
      openImageFolder({ root, split: 'train', quiet: true, strict: true, cacheDir }),
    ).rejects.toThrow(`ImageFolder: pixel cache folder ${cacheDir} is not writable (ENOTDIR)`);
  });

  it('throws on the first bad file with strict', async () => {
    const root = await tempDir();
    await makeTree(root);
    await expect(openImageFolder({ root, split: 'train', strict: true, quiet: true })).rejects.toThrow(
      /ImageFolder \(strict\): cat\/y\.jpg: .*not a JPEG or PNG/,
    );
  });

  it('needs imageSize when sizes differ, and resizes with it', async () => {
    const root = await tempDir();
    await makeTree(root);
    writeFileSync(join(root, 'train', 'dog', 'd.jpg'), jpg(12, 6, 7));
    await expect(openImageFolder({ root, split: 'train', quiet: true })).rejects.toThrow(
      /dog\/d\.jpg is 6x12 but earlier images are 8x8; pass imageSize/,
    );
    const ds = await openImageFolder({ root, split: 'train', imageSize: [4, 5], quiet: true });
    expect([ds.length, ds.height, ds.width]).toEqual([5, 4, 5]);
  });

  it('explains a folder without classes or without images', async () => {
    const root = await tempDir();
    await mkdir(join(root, 'empty', 'cls'), { recursive: true });
    await expect(openImageFolder({ root, split: 'nope' })).rejects.toThrow(
      /cannot read folder .*nope: ENOENT/,
    );
    await expect(openImageFolder({ root: join(root, 'empty', 'cls') })).rejects.toThrow(
      /has no class sub-folders/,
    );
    await expect(openImageFolder({ root, split: 'empty' })).rejects.toThrow(
      /class folder .*cls holds no \.jpg\/\.jpeg\/\.png files/,
    );
  });

  it('caches decoded pixels and rebuilds when a file changes or the cache is damaged', async () => {
    const root = await tempDir();
    const cacheDir = join(root, 'cache');
    await makeTree(root);
    const first = await openImageFolder({ root, split: 'train', cacheDir, quiet: true });
    expect(first.cache).toBe('written');
    const files = readdirSync(cacheDir).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^pixels-[0-9a-f]{20}\.bin$/);
    expect(files[1]).toMatch(/^pixels-[0-9a-f]{20}\.json$/);

    const hit = await openImageFolder({ root, split: 'train', cacheDir, quiet: true });
    expect(hit.cache).toBe('hit');
    expect(hit.fingerprint()).toBe(first.fingerprint());
    expect(hit.skipped).toEqual(first.skipped);
    expect(hit.source(2)).toBe(first.source(2));
    await expect(openImageFolder({ root, split: 'train', cacheDir, strict: true })).rejects.toThrow(
      /strict.*cat\/y\.jpg/,
    );

    const other = await openImageFolder({ root, split: 'train', cacheDir, imageSize: 4, quiet: true });
    expect(other.cache).toBe('written'); // the decode size is part of the key

    utimesSync(join(root, 'train', 'dog', 'b.jpg'), new Date(), new Date(Date.now() + 5000));
    const changed = await openImageFolder({ root, split: 'train', cacheDir, quiet: true });
    expect(changed.cache).toBe('written');

    const bin = readdirSync(cacheDir)
      .filter((f) => f.endsWith('.bin'))
      .map((f) => join(cacheDir, f));
    for (const f of bin) truncateSync(f, 10);
    const damaged = await openImageFolder({ root, split: 'train', cacheDir, quiet: true });
    expect(damaged.cache).toBe('written');
    expect(damaged.fingerprint()).toBe(first.fingerprint());
  });

  it.skipIf(!hasCifarJpeg)(
    'opens the real CIFAR-10 test split (10,000 JPEGs) and then reads it from the cache',
    async () => {
      const cacheDir = await tempDir();
      let t = performance.now();
      const ds = await openImageFolder({ root: CIFAR_JPEG, split: 'test', cacheDir, quiet: true });
      const decodeMs = performance.now() - t;
      expect(ds.classes).toEqual(CIFAR10_CLASSES);
      expect(ds.length).toBe(10_000);
      expect(ds.skipped).toEqual([]);
      const perClass = new Array(10).fill(0);
      for (const l of ds.labels) perClass[l]++;
      expect(perClass).toEqual(new Array(10).fill(1000));
      const probe = join(CIFAR_JPEG, 'test', 'horse', '0005.jpg');
      const index = 7 * 1000 + 5;
      expect(ds.source(index)).toBe(probe);
      expect(ds.image(index).data).toEqual(decodeImage(readFileSync(probe)).data);
      t = performance.now();
      const cached = await openImageFolder({ root: CIFAR_JPEG, split: 'test', cacheDir, quiet: true });
      const cachedMs = performance.now() - t;
      expect(cached.cache).toBe('hit');
      expect(cached.image(index).data).toEqual(ds.image(index).data);
      expect(cachedMs).toBeLessThan(decodeMs);
    },
  );
});
