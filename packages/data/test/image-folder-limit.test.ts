// openImageFolder({ limit }): only the chosen files are read and decoded. The files it must not choose
// are corrupt, so decoding any of them would list it as skipped.
import { writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { openImageFolder } from '../src/datasets/image-folder';
import { tempDir } from './helpers';

/** A 4×4 PNG of one colour. */
function png(value: number): Buffer {
  const p = new PNG({ width: 4, height: 4 });
  for (let i = 0; i < 16; i++) p.data.set([value, value, value, 255], i * 4);
  return PNG.sync.write(p);
}

describe('openImageFolder limit', () => {
  it('decodes only every (count / limit)-th file', async () => {
    const root = await tempDir();
    // 2 classes × 5 files; limit 4 of 10 takes listing indices floor(i · 2.5) = 0, 2, 5, 7:
    // a/0, a/2, b/0, b/2. Every other file is not an image.
    const chosen = new Set(['a/0', 'a/2', 'b/0', 'b/2']);
    for (const [c, cls] of ['a', 'b'].entries()) {
      await mkdir(join(root, 'train', cls), { recursive: true });
      for (let i = 0; i < 5; i++) {
        const name = `${cls}/${i}`;
        const bytes = chosen.has(name) ? png(10 * (c * 5 + i)) : Buffer.from('corrupt');
        writeFileSync(join(root, 'train', cls, `${i}.png`), bytes);
      }
    }
    const ds = await openImageFolder({ root, split: 'train', limit: 4, quiet: true });
    expect(ds.skipped).toEqual([]);
    expect(ds.length).toBe(4);
    expect(Array.from(ds.labels)).toEqual([0, 0, 1, 1]);
    // Pixel values 10·index: a/0 → 0, a/2 → 20, b/0 → 50, b/2 → 70.
    expect([0, 1, 2, 3].map((i) => ds.image(i).data[0])).toEqual([0, 20, 50, 70]);
    expect(ds.source(3)).toBe(join(root, 'train', 'b', '2.png'));

    // Without the limit every file is decoded: the 6 corrupt ones are found.
    const all = await openImageFolder({ root, split: 'train', quiet: true });
    expect(all.length).toBe(4);
    expect(all.skipped.map((s) => s.file).sort()).toEqual(
      ['a/1.png', 'a/3.png', 'a/4.png', 'b/1.png', 'b/3.png', 'b/4.png'].map((f) => join(...f.split('/'))),
    );
    await expect(openImageFolder({ root, split: 'train', limit: 0.5, quiet: true })).rejects.toThrow(
      'ImageFolder: limit must be a whole number >= 1, got 0.5',
    );
  });
});
