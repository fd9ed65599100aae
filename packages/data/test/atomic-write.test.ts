import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic, writeJsonAtomic } from '../src/atomic-write';
import { tempDir } from './helpers';

describe('writeFileAtomic', () => {
  it('writes bytes and JSON, replacing an older file and leaving no temporary file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'weights.bin');
    writeFileSync(path, 'old contents that are longer');
    await writeFileAtomic(path, Uint8Array.from([1, 2, 3]));
    expect(Array.from(readFileSync(path))).toEqual([1, 2, 3]);
    await writeJsonAtomic(join(dir, 'config.json'), { a: 1, b: [2, 3] });
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual({ a: 1, b: [2, 3] });
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'weights.bin']);
  });

  it('keeps the old file whole when a write fails midway', async () => {
    const dir = await tempDir();
    const path = join(dir, 'ckpt.json');
    await writeJsonAtomic(path, { step: 1 });
    // A string with a lone surrogate is fine; a value JSON cannot serialise throws before any write.
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(writeJsonAtomic(path, cyclic)).rejects.toThrow(/circular/i);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ step: 1 });
    expect(readdirSync(dir)).toEqual(['ckpt.json']);
  });

  it('names the folder it cannot write to', async () => {
    const dir = await tempDir();
    await expect(writeFileAtomic(join(dir, 'missing', 'x.bin'), 'x')).rejects.toThrow(
      new RegExp(
        `cannot write to folder ${join(dir, 'missing').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(ENOENT\\)`,
      ),
    );
    writeFileSync(join(dir, 'afile'), '');
    await expect(writeFileAtomic(join(dir, 'afile', 'x.bin'), 'x')).rejects.toThrow(
      /cannot write to folder .*afile \(ENOTDIR\)/,
    );
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });
});
