import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusCases, expectRefusal } from '../../../tools/malformed/expect-refusal';
import { decodeCheckpoint, readSafetensors } from '../src';

// The malformed-input corpus (tools/malformed/generate.mjs) against the readers of @symseq/nn.
const dir = mkdtempSync(join(tmpdir(), 'symseq-malformed-nn-'));
const bytes = (p: string) => new Uint8Array(readFileSync(p));

describe('readSafetensors on the malformed corpus', () => {
  for (const c of corpusCases(dir, 'safetensors')) {
    it(basename(c.path), async () => {
      if (c.expect === null) {
        const { tensors, metadata } = readSafetensors(bytes(c.path), c.path);
        expect(metadata).toEqual({ format: 'symseq-checkpoint', kind: 'toy' });
        expect(Array.from(tensors['fc1.weight'].data)).toEqual([1, 2, 3, 4]);
        expect(Array.from(tensors['fc2.weight'].data)).toEqual([5, 6, 7, 8]);
        return;
      }
      await expectRefusal(c, () => readSafetensors(bytes(c.path), c.path));
    });
  }
});

describe('decodeCheckpoint on the malformed corpus', () => {
  for (const c of corpusCases(dir, 'checkpoint')) {
    const read = () =>
      decodeCheckpoint(readFileSync(`${c.path}.json`, 'utf8'), bytes(`${c.path}.safetensors`), {
        kind: 'toy',
        source: c.path,
      });
    it(basename(c.path), async () => {
      if (c.expect === null) {
        const ck = read();
        expect(ck.json.config).toEqual({ dim: 2 });
        expect(Array.from(ck.tensors['fc2.weight'].data)).toEqual([5, 6, 7, 8]);
        return;
      }
      await expectRefusal(c, read);
    });
  }
});
