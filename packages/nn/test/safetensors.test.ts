import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { floatToHalf, halfToFloat, readSafetensors, writeSafetensors } from '../src';
import { fixture } from './helpers';

const file = (n: string) => new Uint8Array(readFileSync(new URL(`./fixtures/${n}`, import.meta.url)));

describe('safetensors', () => {
  test('reads a file written by an independent Python writer (F32, F16, BF16, metadata)', () => {
    const expected = fixture<Record<string, { shape: number[]; data: number[] | number[][] }>>(
      'mixed_dtypes.expected.json',
    );
    const { tensors, metadata } = readSafetensors(file('mixed_dtypes.safetensors'));
    expect(metadata).toEqual({ made_by: 'nn_reference.py' });
    for (const [name, e] of Object.entries(expected)) {
      expect(tensors[name].shape).toEqual(e.shape);
      expect(Array.from(tensors[name].data)).toEqual((e.data as number[]).flat().map((v) => Math.fround(v)));
    }
  });

  test('write → read round trip is exact and the header is 8-byte aligned', () => {
    const t = {
      'z.last': { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
      'a.first': { shape: [3], data: new Float32Array([-0.5, 1e-30, 3.4e38]) },
    };
    const bytes = writeSafetensors(t, { k: 'v' });
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0);
    const back = readSafetensors(bytes);
    expect(back.metadata).toEqual({ k: 'v' });
    expect(Object.keys(back.tensors).sort()).toEqual(['a.first', 'z.last']);
    expect(back.tensors['a.first'].data).toEqual(t['a.first'].data);
    expect(back.tensors['z.last']).toEqual(t['z.last']);
  });

  test('bad files give errors naming the problem', () => {
    const good = writeSafetensors({ w: { shape: [4], data: new Float32Array(4) } });
    expect(() => readSafetensors(good.subarray(0, 5), 'x.safetensors')).toThrow(
      /x.safetensors: file is 5 bytes/,
    );
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 10_000n, true);
    expect(() => readSafetensors(huge)).toThrow(/header length 10000 runs past the end of the file/);
    expect(() => readSafetensors(good.subarray(0, good.length - 4))).toThrow(
      /tensor 'w' has data_offsets \[0, 16\] outside/,
    );
    const enc = (h: object) => {
      const j = new TextEncoder().encode(JSON.stringify(h));
      const out = new Uint8Array(8 + j.length + 16);
      new DataView(out.buffer).setBigUint64(0, BigInt(j.length), true);
      out.set(j, 8);
      return out;
    };
    expect(() => readSafetensors(enc({ w: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }))).toThrow(
      /tensor 'w' has dtype 'I64'; supported: F32, F16, BF16/,
    );
    expect(() => readSafetensors(enc({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }))).toThrow(
      /needs 12 bytes, offsets span 16/,
    );
    const notJson = good.slice();
    notJson[8] = 0x7b + 1;
    expect(() => readSafetensors(notJson)).toThrow(/header is not valid JSON/);
  });

  test('float16 conversion is exact on representable values and rounds to nearest', () => {
    for (const v of [0, 1, -2, 0.5, 65504, 6.103515625e-5, 2 ** -24, -0.333251953125]) {
      expect(halfToFloat(floatToHalf(v))).toBe(v);
    }
    expect(halfToFloat(floatToHalf(1 + 2 ** -11))).toBe(1); // tie rounds to even
    expect(halfToFloat(floatToHalf(1e6))).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(halfToFloat(floatToHalf(Number.NaN)))).toBe(true);
  });
});
