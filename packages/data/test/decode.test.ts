import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { decodeImage, decodeImageFile, sniffImageFormat } from '../src/image/decode';
import { CIFAR_JPEG, FIXTURES, hasCifarJpeg, maxAbsDiff, reference } from './helpers';

describe('decodeImage', () => {
  // PIL's convert('RGB') is the reference. PNG is lossless, so equal bytes; two JPEG decoders
  // (libjpeg vs jpeg-js) differ by rounding in the IDCT and colour conversion only.
  for (const [name, expected] of Object.entries(reference.decode) as [
    string,
    { height: number; width: number; rgb: number[] },
  ][]) {
    it(`decodes ${name} like PIL`, async () => {
      const img = await decodeImageFile(join(FIXTURES, 'images', name));
      expect([img.height, img.width]).toEqual([expected.height, expected.width]);
      expect(img.data.length).toBe(expected.height * expected.width * 3);
      const tolerance = name.endsWith('.jpg') ? 3 : 0;
      expect(maxAbsDiff(img.data, expected.rgb)).toBeLessThanOrEqual(tolerance);
    });
  }

  it('promotes grayscale to three equal channels', async () => {
    const img = await decodeImageFile(join(FIXTURES, 'images', 'gray.png'));
    for (let p = 0; p < img.width * img.height; p++) {
      expect(img.data[p * 3 + 1]).toBe(img.data[p * 3]);
      expect(img.data[p * 3 + 2]).toBe(img.data[p * 3]);
    }
  });

  it.skipIf(!hasCifarJpeg)('decodes real CIFAR-10 JPEGs like PIL', () => {
    for (const { file, height, width, rgb } of reference.realJpeg) {
      const img = decodeImage(readFileSync(join(CIFAR_JPEG, file)), file);
      expect([img.height, img.width]).toEqual([height, width]);
      // libjpeg's "fancy" chroma upsampling differs from jpeg-js's at colour edges: a few levels on
      // average, more at single pixels. A channel-order or geometry error would be off by tens on average.
      const mean = img.data.reduce((s, v, i) => s + Math.abs(v - rgb[i]), 0) / rgb.length;
      expect(mean).toBeLessThan(2.5);
      expect(maxAbsDiff(img.data, rgb)).toBeLessThanOrEqual(24);
    }
  });

  it('detects the format from the bytes, not the name', () => {
    const png = readFileSync(join(FIXTURES, 'images', 'rgb.png'));
    expect(sniffImageFormat(png)).toBe('png');
    expect(sniffImageFormat(readFileSync(join(FIXTURES, 'images', 'rgb.jpg')))).toBe('jpeg');
    expect(sniffImageFormat(new Uint8Array([0x47, 0x49, 0x46, 0x38]))).toBeUndefined();
    expect(decodeImage(png, 'photo.jpg').width).toBe(5);
  });

  it('names the file for unknown formats, corrupt and truncated data', () => {
    expect(() => decodeImage(new TextEncoder().encode('GIF89a...'), 'cats/01.jpg')).toThrow(
      /cats\/01\.jpg is not a JPEG or PNG file \(starts with bytes 47 49 46 38\)/,
    );
    expect(() => decodeImage(new Uint8Array(0), 'empty.png')).toThrow(/empty\.png .*\(empty\)/);
    const good = jpeg.encode({ width: 8, height: 8, data: new Uint8Array(8 * 8 * 4).fill(200) }, 90).data;
    expect(() => decodeImage(good.subarray(0, good.length >> 1), 'half.jpg')).toThrow(
      /half\.jpg is a corrupt JPEG file/,
    );
    const png = readFileSync(join(FIXTURES, 'images', 'rgb.png'));
    const broken = Uint8Array.from(png);
    broken.fill(0, 40, 80);
    expect(() => decodeImage(broken, 'broken.png')).toThrow(/broken\.png is a corrupt PNG file/);
  });

  it('names the path of a file it cannot read', async () => {
    await expect(decodeImageFile('/nonexistent/x.png')).rejects.toThrow(/cannot read \/nonexistent\/x\.png/);
  });
});
