import '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { corpusCases, expectRefusal } from '../../../tools/malformed/expect-refusal';
import { openCifar10Binary } from '../src/datasets/cifar10-binary';
import { openImageFolder } from '../src/datasets/image-folder';
import { openFeatureCache } from '../src/features/feature-cache';
import { decodeImage, decodeImageFile } from '../src/image/decode';
import { fileSystemModelHandler } from '../src/io/file-system-handler';

// The malformed-input corpus (tools/malformed/generate.mjs) against every reader of @symseq/data.
const dir = mkdtempSync(join(tmpdir(), 'symseq-malformed-data-'));
const name = (p: string) => p.slice(dir.length + 1);

describe('image decoding on the malformed corpus', () => {
  for (const c of corpusCases(dir, 'image')) {
    it(name(c.path), async () => {
      if (c.expect === null) {
        const img = await decodeImageFile(c.path);
        expect([img.width, img.height, img.data.length]).toEqual([8, 8, 8 * 8 * 3]);
        // The controls are a gradient (r = 37·i mod 256); PNG is lossless, so pixel 3 is exact there.
        if (c.path.endsWith('.png')) expect(Array.from(img.data.subarray(9, 12))).toEqual([111, 33, 15]);
        return;
      }
      await expectRefusal(c, () => decodeImageFile(c.path));
      await expectRefusal(c, () => decodeImage(readFileSync(c.path), c.path));
    });
  }
});

describe('CIFAR-10 binary batches on the malformed corpus', () => {
  for (const c of corpusCases(dir, 'cifar10-binary')) {
    it(name(c.path), async () => {
      if (c.expect === null) {
        const ds = await openCifar10Binary(c.path, 'test');
        expect(Array.from(ds.labels)).toEqual([3, 7]);
        // Record 1's red plane starts at (0 + 1) mod 256, green at 1024 + 1, blue at 2048 + 1 (mod 256).
        const px = ds.load([1]).data;
        expect(Array.from(px.subarray(0, 3))).toEqual([1, 1, 1]);
        expect(Array.from(px.subarray(3, 6))).toEqual([2, 2, 2]);
        return;
      }
      await expectRefusal(c, () => openCifar10Binary(c.path, 'test'));
    });
  }
});

describe('ImageFolder on the malformed corpus', () => {
  for (const c of corpusCases(dir, 'image-folder')) {
    const open = (strict: boolean, cacheDir?: string) =>
      openImageFolder({ root: c.path, split: 'train', imageSize: 8, quiet: true, strict, cacheDir });
    it(name(c.path), async () => {
      if (c.expect === null) {
        // Lenient: every bad file is reported (count and names), the good ones load; from the cache too.
        const cacheDir = join(c.path, '..', `${basename(c.path)}-cache`);
        rmSync(cacheDir, { recursive: true, force: true });
        for (const expected of ['written', 'hit'] as const) {
          const ds = await open(false, cacheDir);
          expect(ds.cache).toBe(expected);
          expect(ds.skipped.map((s) => s.file)).toEqual(c.skipped);
          for (const s of ds.skipped) expect(s.reason).toContain(s.file);
          expect(ds.length).toBe(2);
          expect(ds.classes).toEqual(['a', 'b']);
        }
        // Strict: the first bad file in listing order stops the open.
        await expectRefusal({ ...c, expect: new RegExp(`strict.*${c.skipped![0]}`) }, () => open(true));
        return;
      }
      await expectRefusal(c, () => open(false));
    });
  }
});

describe('TF.js layers models (file-system handler) on the malformed corpus', () => {
  for (const c of corpusCases(dir, 'layers-model')) {
    it(name(c.path), async () => {
      if (c.expect === null) {
        const model = await loadLayersModel(fileSystemModelHandler(c.path));
        // kernel [[1,2],[3,4],[5,6]], bias [0.5,-0.5]: [1,1,1]·W + b = [9.5, 11.5].
        const y = tf.tidy(() => model.predict(tf.tensor2d([[1, 1, 1]])) as tf.Tensor);
        expect(Array.from(await y.data())).toEqual([9.5, 11.5]);
        y.dispose();
        model.dispose();
        return;
      }
      await expectRefusal(c, () => loadLayersModel(fileSystemModelHandler(c.path)));
    });
  }
});

describe('feature caches on the malformed corpus', () => {
  for (const c of corpusCases(dir, 'feature-cache')) {
    it(name(c.path), async () => {
      if (c.expect === null) {
        const cache = await openFeatureCache(c.path);
        // Shard 0 holds pooled rows 0..3 then tokens 4..11 (values = positions); shard 1 restarts at 0.
        expect(Array.from(cache.pooled([0, 1, 2]))).toEqual([0, 1, 2, 3, 0, 1]);
        expect(Array.from(cache.tokens([1]))).toEqual([8, 9, 10, 11]);
        expect(Array.from(cache.tokens([2]))).toEqual([2, 3, 4, 5]);
        return;
      }
      await expectRefusal(c, () => openFeatureCache(c.path));
    });
  }
});
