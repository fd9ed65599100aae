import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { floatToHalf, readSafetensors, writeSafetensors } from '../src';
import { halfToFloat } from '../src/float16';
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

  test('reads files laid out by an independent writer: offsets out of name order, empty, scalar, non-ASCII', () => {
    const expected = fixture<Record<string, { shape: number[]; data: number[] }>>(
      'reference_layout.expected.json',
    );
    const { tensors, metadata } = readSafetensors(file('reference_layout.safetensors'));
    expect(metadata).toEqual({ framework: 'numpy', note: 'ünï' });
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, e] of Object.entries(expected)) {
      expect(tensors[name].shape).toEqual(e.shape);
      expect(Array.from(tensors[name].data)).toEqual(e.data);
    }
    expect(readSafetensors(file('reference_empty.safetensors'))).toEqual({ tensors: {}, metadata: {} });
    // A valid layout with a dtype that is not converted is refused by name, not misread.
    expect(() => readSafetensors(file('reference_int64.safetensors'), 'ids.safetensors')).toThrow(
      "ids.safetensors: tensor 'position_ids' has dtype 'I64'; supported: F32, F16, BF16",
    );
  });

  test('the writer produces the reference implementation bytes (its serialization test vectors)', () => {
    // huggingface/safetensors tensor.rs: test_empty, test_serialization, test_serialization_forced_alignement.
    expect(Array.from(writeSafetensors({}))).toEqual([
      8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32,
    ]);
    const data = new Float32Array([0, 1, 2, 3, 4, 5]);
    const body = [0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64];
    const json = (name: string, shape: string) =>
      Array.from(
        new TextEncoder().encode(`{"${name}":{"dtype":"F32","shape":${shape},"data_offsets":[0,24]}}`),
      );
    expect(Array.from(writeSafetensors({ 'attn.0': { shape: [1, 2, 3], data } }))).toEqual([
      64,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...json('attn.0', '[1,2,3]'),
      ...body,
    ]);
    expect(Array.from(writeSafetensors({ attn0: { shape: [1, 1, 2, 3], data } }))).toEqual([
      72,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...json('attn0', '[1,1,2,3]'),
      32,
      32,
      32,
      32,
      32,
      32,
      32,
      ...body,
    ]);
    // Non-ASCII names: padding counts UTF-8 bytes, so the data still starts 8-aligned and reads back.
    const bytes = writeSafetensors({ 'größe.β': { shape: [1], data: new Float32Array([2]) } });
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0);
    expect(readSafetensors(bytes).tensors['größe.β'].data).toEqual(new Float32Array([2]));
  });

  test('bad files are refused with the file, the tensor and the rule broken', () => {
    const good = writeSafetensors({ w: { shape: [4], data: new Float32Array(4) } });
    expect(() => readSafetensors(good.subarray(0, 5), 'x.safetensors')).toThrow(
      /x.safetensors: file is 5 bytes/,
    );
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 10_000n, true);
    expect(() => readSafetensors(huge)).toThrow(/header length 10000 runs past the end of the file/);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    expect(() => readSafetensors(huge, 'h.safetensors')).toThrow(
      /h.safetensors: header length 9223372036854775808 exceeds the format's limit of 100000000 bytes/,
    );
    expect(() => readSafetensors(good.subarray(0, good.length - 4), 't.safetensors')).toThrow(
      "t.safetensors: tensor 'w' has data_offsets [0, 16] outside the data section (12 bytes); the file is truncated",
    );
    const notJson = good.slice();
    notJson[9] = 0x7b;
    expect(() => readSafetensors(notJson)).toThrow(/header is not valid JSON/);
    const notObject = good.slice();
    notObject[8] = 0x5b; // '['
    expect(() => readSafetensors(notObject)).toThrow(/header must start with '\{'/);
    const notUtf8 = good.slice();
    notUtf8[10] = 0xff;
    expect(() => readSafetensors(notUtf8)).toThrow(/header is not valid UTF-8/);
  });

  describe('layout rules of the reference implementation', () => {
    /** A file with this header and `dataLen` data bytes (header bytes as given, no padding). */
    const withHeader = (h: object, dataLen: number) => {
      const j = new TextEncoder().encode(JSON.stringify(h));
      const out = new Uint8Array(8 + j.length + dataLen);
      new DataView(out.buffer).setBigUint64(0, BigInt(j.length), true);
      out.set(j, 8);
      return out;
    };
    const f32 = (begin: number, end: number, shape = [(end - begin) / 4]) => ({
      dtype: 'F32',
      shape,
      data_offsets: [begin, end],
    });

    test('overlapping spans are refused, naming both tensors (fc2 sharing fc1 bytes)', () => {
      const bytes = withHeader({ 'fc1.weight': f32(0, 16), 'fc2.weight': f32(0, 16) }, 16);
      expect(() => readSafetensors(bytes, 'student.safetensors')).toThrow(
        "student.safetensors: tensor 'fc2.weight' (bytes 0..16) overlaps tensor 'fc1.weight' (bytes 0..16); tensors may not share bytes",
      );
      const partial = withHeader({ a: f32(0, 16), b: f32(8, 24) }, 24);
      expect(() => readSafetensors(partial)).toThrow(/tensor 'b' \(bytes 8..24\) overlaps tensor 'a'/);
    });

    test('gaps, a late start and uncovered trailing bytes are refused', () => {
      expect(() => readSafetensors(withHeader({ a: f32(0, 8), b: f32(12, 20) }, 20), 'g')).toThrow(
        "g: tensor 'b' starts at byte 12, but tensor 'a' ends at 8; the format allows no gap",
      );
      expect(() => readSafetensors(withHeader({ a: f32(4, 12) }, 12), 'g')).toThrow(
        "g: tensor 'a' starts at byte 4, but the data section starts at 0; the format allows no gap",
      );
      expect(() => readSafetensors(withHeader({ a: f32(0, 8) }, 12), 'g')).toThrow(
        'g: the tensors cover 8 bytes of the 12-byte data section; 4 trailing bytes belong to no tensor',
      );
    });

    test('dtype, shape and offsets must be well-formed and agree', () => {
      const one =
        (entry: object, dataLen = 16) =>
        () =>
          readSafetensors(withHeader({ w: entry }, dataLen), 'f');
      expect(one({ dtype: 'F33', shape: [4], data_offsets: [0, 16] })).toThrow(
        /f: tensor 'w' has unknown dtype 'F33'; safetensors dtypes: BOOL, F4/,
      );
      expect(one({ dtype: 'F32', shape: [3], data_offsets: [0, 16] })).toThrow(
        "f: tensor 'w' (F32 [3]) needs 12 bytes, its data_offsets span 16",
      );
      expect(one({ dtype: 'F32', shape: [2, -2], data_offsets: [0, 16] })).toThrow(
        "f: tensor 'w' has an invalid shape [2,-2]",
      );
      expect(one({ dtype: 'F32', shape: [4], data_offsets: [16, 0] })).toThrow(
        "f: tensor 'w' has invalid data_offsets [16,0]; expected [begin, end] with 0 <= begin <= end",
      );
      expect(one({ dtype: 'F32', shape: [4], data_offsets: [0] })).toThrow(/invalid data_offsets \[0\]/);
      expect(one({ dtype: 'F32', shape: [4] })).toThrow(
        "f: tensor 'w' needs dtype, shape and data_offsets in the header",
      );
      expect(one({ dtype: 'F4', shape: [3], data_offsets: [0, 2] }, 2)).toThrow(
        "f: tensor 'w' (F4 [3]) does not fill a whole number of bytes",
      );
      expect(one({ dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 16] })).toThrow(
        /f: tensor 'w' shape \[1099511627776, 1099511627776\] is too large/,
      );
      expect(() => readSafetensors(withHeader({ w: 5 }, 0), 'f')).toThrow(
        "f: tensor 'w' must be an object {dtype, shape, data_offsets}",
      );
    });

    test('__metadata__ must map strings to strings', () => {
      expect(() => readSafetensors(withHeader({ __metadata__: { step: 3 } }, 0), 'm')).toThrow(
        "m: '__metadata__.step' must be a string, got 3",
      );
      expect(() => readSafetensors(withHeader({ __metadata__: ['x'] }, 0), 'm')).toThrow(
        /m: '__metadata__' must be an object of strings/,
      );
    });
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
