import { halfToFloat } from './float16';
import type { HostTensor } from './params';

/**
 * Bits per element of every dtype the safetensors format defines (huggingface/safetensors `Dtype`).
 * The layout of all of them is validated; only F32, F16 and BF16 are converted to float32.
 */
const DTYPE_BITS: Record<string, number> = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  F64: 64,
  I64: 64,
  U64: 64,
  C64: 64,
};
const CONVERTED = ['F32', 'F16', 'BF16'];
/** The reference implementation refuses headers above 100 MB: a larger length field is corruption. */
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsFile {
  tensors: Record<string, HostTensor>;
  /** The `__metadata__` string map, if the file has one. */
  metadata: Record<string, string>;
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Reads a .safetensors file (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length, a UTF-8 JSON header `{name: {dtype, shape, data_offsets}, __metadata__?: {string: string}}`,
 * then the raw data. The rules of the reference implementation are enforced, so a damaged file is refused
 * instead of read into wrong weights: header length at most 100 MB and inside the file, the header a JSON
 * object, every dtype known, shape × dtype size equal to the tensor's byte span, and the spans, sorted,
 * contiguous from 0 with no overlap and no gap, ending exactly at the end of the file.
 * F32, F16 and BF16 tensors are converted to float32; other dtypes are refused by name.
 * `source` (the file name) starts every error message.
 */
export function readSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsFile {
  if (bytes.byteLength < 8) {
    throw new Error(
      `${source}: file is ${bytes.byteLength} bytes, too short for a safetensors header (8 bytes)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rawLen = view.getBigUint64(0, true);
  if (rawLen > BigInt(MAX_HEADER_BYTES)) {
    throw new Error(
      `${source}: header length ${rawLen} exceeds the format's limit of ${MAX_HEADER_BYTES} bytes; the file is corrupt or not safetensors`,
    );
  }
  const headerLen = Number(rawLen);
  if (headerLen > bytes.byteLength - 8) {
    throw new Error(
      `${source}: header length ${headerLen} runs past the end of the file (${bytes.byteLength - 8} bytes after the length field); the file is truncated or not safetensors`,
    );
  }
  const header = parseHeader(bytes.subarray(8, 8 + headerLen), source);
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') metadata = checkMetadata(value, source);
    else entries.push(checkEntry(name, value, source));
  }
  checkLayout(entries, dataLen, source);
  const tensors: Record<string, HostTensor> = {};
  for (const e of entries) {
    if (!CONVERTED.includes(e.dtype)) {
      throw new Error(
        `${source}: tensor '${e.name}' has dtype '${e.dtype}'; supported: ${CONVERTED.join(', ')}`,
      );
    }
    const count = e.shape.reduce((a, b) => a * b, 1);
    tensors[e.name] = {
      shape: e.shape,
      data: toFloat32(bytes.subarray(dataStart + e.begin, dataStart + e.end), e.dtype, count),
    };
  }
  return { tensors, metadata };
}

function parseHeader(raw: Uint8Array, source: string): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new Error(`${source}: header is not valid UTF-8; the file is corrupt or not safetensors`);
  }
  if (!text.startsWith('{')) {
    throw new Error(
      `${source}: header must start with '{' (a JSON object), starts with ${JSON.stringify(text.slice(0, 8))}`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error(`${source}: header must be a JSON object`);
  }
  return header as Record<string, unknown>;
}

function checkMetadata(value: unknown, source: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${source}: '__metadata__' must be an object of strings, got ${JSON.stringify(value)}`);
  }
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new Error(`${source}: '__metadata__.${k}' must be a string, got ${JSON.stringify(v)}`);
    }
  }
  return value as Record<string, string>;
}

function checkEntry(name: string, value: unknown, source: string): Entry {
  const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
  if (typeof e !== 'object' || e === null || Array.isArray(e)) {
    throw new Error(`${source}: tensor '${name}' must be an object {dtype, shape, data_offsets}`);
  }
  if (typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
    throw new Error(`${source}: tensor '${name}' needs dtype, shape and data_offsets in the header`);
  }
  if (!(e.dtype in DTYPE_BITS)) {
    throw new Error(
      `${source}: tensor '${name}' has unknown dtype '${e.dtype}'; safetensors dtypes: ${Object.keys(DTYPE_BITS).join(', ')}`,
    );
  }
  const isIndex = (d: unknown): d is number => Number.isSafeInteger(d) && (d as number) >= 0;
  if (!e.shape.every(isIndex)) {
    throw new Error(`${source}: tensor '${name}' has an invalid shape ${JSON.stringify(e.shape)}`);
  }
  const offsets = e.data_offsets;
  if (!(offsets.length === 2 && offsets.every(isIndex) && offsets[0] <= offsets[1])) {
    throw new Error(
      `${source}: tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}; expected [begin, end] with 0 <= begin <= end`,
    );
  }
  return { name, dtype: e.dtype, shape: e.shape as number[], begin: offsets[0], end: offsets[1] };
}

/** The reference implementation's validation: spans sorted by offset tile the data section exactly. */
function checkLayout(entries: Entry[], dataLen: number, source: string): void {
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let previous: Entry | undefined;
  for (const e of entries) {
    if (e.begin < expected) {
      throw new Error(
        `${source}: tensor '${e.name}' (bytes ${e.begin}..${e.end}) overlaps tensor '${previous!.name}' (bytes ${previous!.begin}..${previous!.end}); tensors may not share bytes`,
      );
    }
    if (e.begin > expected) {
      throw new Error(
        `${source}: tensor '${e.name}' starts at byte ${e.begin}, but ${previous ? `tensor '${previous.name}' ends` : 'the data section starts'} at ${expected}; the format allows no gap`,
      );
    }
    const count = e.shape.reduce((a, b) => a * b, 1);
    const bits = count * DTYPE_BITS[e.dtype];
    if (!Number.isSafeInteger(bits)) {
      throw new Error(`${source}: tensor '${e.name}' shape [${e.shape.join(', ')}] is too large`);
    }
    if (bits % 8 !== 0) {
      throw new Error(
        `${source}: tensor '${e.name}' (${e.dtype} [${e.shape.join(', ')}]) does not fill a whole number of bytes`,
      );
    }
    if (e.end - e.begin !== bits / 8) {
      throw new Error(
        `${source}: tensor '${e.name}' (${e.dtype} [${e.shape.join(', ')}]) needs ${bits / 8} bytes, its data_offsets span ${e.end - e.begin}`,
      );
    }
    if (e.end > dataLen) {
      throw new Error(
        `${source}: tensor '${e.name}' has data_offsets [${e.begin}, ${e.end}] outside the data section (${dataLen} bytes); the file is truncated`,
      );
    }
    expected = e.end;
    previous = e;
  }
  if (expected !== dataLen) {
    throw new Error(
      `${source}: the tensors cover ${expected} bytes of the ${dataLen}-byte data section; ${dataLen - expected} trailing bytes belong to no tensor (the format requires the data to be covered exactly)`,
    );
  }
}

function toFloat32(raw: Uint8Array, dtype: string, count: number): Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float32Array(count);
  if (dtype === 'F32') {
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  } else if (dtype === 'F16') {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  } else {
    const u32 = new Uint32Array(1);
    const f32 = new Float32Array(u32.buffer);
    for (let i = 0; i < count; i++) {
      u32[0] = view.getUint16(i * 2, true) << 16;
      out[i] = f32[0];
    }
  }
  return out;
}

/**
 * Writes tensors as F32 safetensors, names sorted, header padded with spaces to 8 bytes as the
 * reference implementation does.
 */
export function writeSafetensors(
  tensors: Record<string, HostTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const n of names) {
    if (n === '__metadata__')
      throw new Error("writeSafetensors: '__metadata__' is reserved, not a tensor name");
    const t = tensors[n];
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new Error(`writeSafetensors: tensor '${n}' has shape [${t.shape}] but ${t.data.length} values`);
    }
    header[n] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + count * 4] };
    offset += count * 4;
  }
  // Pad the encoded bytes (not the UTF-16 string: names may be non-ASCII) so the data starts 8-aligned.
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
  headerBytes.set(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.length;
  for (const n of names) {
    const d = tensors[n].data;
    for (let i = 0; i < d.length; i++, p += 4) view.setFloat32(p, d[i], true);
  }
  return out;
}
