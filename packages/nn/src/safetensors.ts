import { halfToFloat } from './float16';
import type { HostTensor } from './params';

/** dtypes this reader converts to float32; anything else is rejected with the tensor's name. */
const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

export interface SafetensorsFile {
  tensors: Record<string, HostTensor>;
  /** The `__metadata__` string map, if the file has one. */
  metadata: Record<string, string>;
}

/**
 * Reads a .safetensors file (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length, a JSON header `{name: {dtype, shape, data_offsets}}`, then the raw data.
 * F32, F16 and BF16 are read (converted to float32). Every offset is bounds-checked.
 * `source` names the file in error messages.
 */
export function readSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsFile {
  if (bytes.byteLength < 8) {
    throw new Error(
      `${source}: file is ${bytes.byteLength} bytes, too short for a safetensors header (8 bytes)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > bytes.byteLength - 8) {
    throw new Error(
      `${source}: header length ${headerLen} runs past the end of the file (${bytes.byteLength - 8} bytes after the length field); the file is truncated or not safetensors`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new Error(`${source}: header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error(`${source}: header must be a JSON object`);
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const tensors: Record<string, HostTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e?.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
      throw new Error(`${source}: tensor '${name}' needs dtype, shape and data_offsets in the header`);
    }
    const width = BYTES[e.dtype];
    if (!width) {
      throw new Error(
        `${source}: tensor '${name}' has dtype '${e.dtype}'; supported: ${Object.keys(BYTES).join(', ')}`,
      );
    }
    const shape = e.shape as number[];
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`${source}: tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    }
    const [begin, end] = e.data_offsets as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    if (!(Number.isInteger(begin) && Number.isInteger(end) && begin >= 0 && end >= begin && end <= dataLen)) {
      throw new Error(
        `${source}: tensor '${name}' has data_offsets [${begin}, ${end}] outside the data section (${dataLen} bytes); the file is truncated or corrupt`,
      );
    }
    if (end - begin !== count * width) {
      throw new Error(
        `${source}: tensor '${name}' (${e.dtype} [${shape.join(', ')}]) needs ${count * width} bytes, offsets span ${end - begin}`,
      );
    }
    tensors[name] = {
      shape,
      data: toFloat32(bytes.subarray(dataStart + begin, dataStart + end), e.dtype, count),
    };
  }
  return { tensors, metadata };
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
    const t = tensors[n];
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new Error(`writeSafetensors: tensor '${n}' has shape [${t.shape}] but ${t.data.length} values`);
    }
    header[n] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + count * 4] };
    offset += count * 4;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
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
