import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';

/** Features of `rows` samples: a `[rows, D]` tensor, or a row-major Float32Array of `rows · D` values. */
export type FeatureInput = tf.Tensor | Float32Array;

/** Integer class labels (or any integer ids): an Int32Array, a plain array or a rank-1 tensor. */
export type LabelInput = Int32Array | ArrayLike<number> | tf.Tensor;

/**
 * Integer symbol sequences, one row per sample: a `[N, L]` int tensor, `{ data, shape: [N, L] }`,
 * nested arrays, or a row-major Int32Array whose row count is known from the labels.
 */
export type SymbolInput =
  | tf.Tensor
  | Int32Array
  | { data: ArrayLike<number>; shape: readonly number[] }
  | number[][];

/** Row-major symbol matrix in host memory. */
export interface SymbolMatrix {
  data: Int32Array;
  rows: number;
  length: number;
}

export const featureSchema = z.custom<FeatureInput>(
  (v) => v instanceof tf.Tensor || v instanceof Float32Array,
  {
    message: 'expected a tf.Tensor or a Float32Array',
  },
);

export const labelSchema = z.custom<LabelInput>(
  (v) => v instanceof tf.Tensor || v instanceof Int32Array || Array.isArray(v) || ArrayBuffer.isView(v),
  { message: 'expected an Int32Array, a number[] or a rank-1 tf.Tensor' },
);

export const symbolSchema = z.custom<SymbolInput>(
  (v) =>
    v instanceof tf.Tensor ||
    v instanceof Int32Array ||
    Array.isArray(v) ||
    (typeof v === 'object' && v !== null && 'data' in v && 'shape' in v),
  { message: 'expected a [N, L] tf.Tensor, an Int32Array, { data, shape } or number[][]' },
);

/** Reads labels into an Int32Array, checking they are integers (and, given `numClasses`, in range). */
export function toLabels(x: LabelInput, what: string, numClasses?: number): Int32Array {
  let raw: ArrayLike<number>;
  if (x instanceof tf.Tensor) {
    if (x.rank !== 1) throw new Error(`${what}: expected a rank-1 tensor, got shape [${x.shape.join(', ')}]`);
    raw = x.dataSync();
  } else {
    raw = x;
  }
  const out = new Int32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i];
    if (!Number.isInteger(v)) throw new Error(`${what}: entry ${i} is ${v}, expected an integer`);
    if (numClasses !== undefined && (v < 0 || v >= numClasses)) {
      throw new Error(`${what}: entry ${i} is ${v}, expected a class in [0, ${numClasses})`);
    }
    out[i] = v;
  }
  return out;
}

/**
 * Makes a float32 `[rows, D]` tensor from a feature input (a new tensor the caller disposes).
 * For a Float32Array, D is its length divided by `rows`.
 */
export function toFeatureTensor(x: FeatureInput, rows: number, what: string): tf.Tensor2D {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2)
      throw new Error(`${what}: expected a [${rows}, D] tensor, got shape [${x.shape.join(', ')}]`);
    if (x.shape[0] !== rows) {
      throw new Error(`${what}: has ${x.shape[0]} rows but there are ${rows} labels`);
    }
    return tf.cast(x, 'float32') as tf.Tensor2D;
  }
  if (rows === 0 || x.length % rows !== 0 || x.length === 0) {
    throw new Error(`${what}: ${x.length} values cannot be split into ${rows} rows (one per label)`);
  }
  return tf.tensor2d(x, [rows, x.length / rows], 'float32');
}

/** Reads symbol sequences into host memory. `rows` (from the labels) is needed only for a bare Int32Array. */
export function toSymbolMatrix(x: SymbolInput, what: string, rows?: number): SymbolMatrix {
  let data: ArrayLike<number>;
  let shape: readonly number[];
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new Error(`${what}: expected a [N, L] tensor, got shape [${x.shape.join(', ')}]`);
    data = x.dataSync();
    shape = x.shape;
  } else if (x instanceof Int32Array) {
    if (rows === undefined)
      throw new Error(`${what}: a bare Int32Array needs its shape: pass { data, shape: [N, L] }`);
    if (rows === 0 || x.length % rows !== 0 || x.length === 0) {
      throw new Error(`${what}: ${x.length} values cannot be split into ${rows} rows (one per label)`);
    }
    data = x;
    shape = [rows, x.length / rows];
  } else if (Array.isArray(x)) {
    const len = x[0]?.length ?? 0;
    x.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== len) {
        throw new Error(
          `${what}: row ${i} has ${Array.isArray(row) ? row.length : 'no'} symbols, expected ${len}`,
        );
      }
    });
    data = x.flat();
    shape = [x.length, len];
  } else {
    shape = x.shape;
    data = x.data;
    if (shape.length !== 2) throw new Error(`${what}: expected shape [N, L], got [${shape.join(', ')}]`);
    if (shape[0] * shape[1] !== data.length) {
      throw new Error(
        `${what}: shape [${shape.join(', ')}] needs ${shape[0] * shape[1]} values, got ${data.length}`,
      );
    }
  }
  const [n, l] = shape;
  if (rows !== undefined && n !== rows)
    throw new Error(`${what}: has ${n} rows but there are ${rows} labels`);
  if (l < 1) throw new Error(`${what}: sequences are empty (shape [${shape.join(', ')}])`);
  const out = new Int32Array(n * l);
  for (let i = 0; i < out.length; i++) {
    const v = data[i];
    if (!Number.isInteger(v) || v < 0) {
      throw new Error(
        `${what}: value at row ${Math.floor(i / l)}, position ${i % l} is ${v}, expected an integer ≥ 0`,
      );
    }
    out[i] = v;
  }
  return { data: out, rows: n, length: l };
}

/** The first `prefixLength` columns of a symbol matrix. */
export function prefixOf(m: SymbolMatrix, prefixLength: number, what: string): SymbolMatrix {
  if (!Number.isInteger(prefixLength) || prefixLength < 1 || prefixLength > m.length) {
    throw new Error(`${what}: prefixLength ${prefixLength} must be an integer in [1, ${m.length}]`);
  }
  if (prefixLength === m.length) return m;
  const out = new Int32Array(m.rows * prefixLength);
  for (let i = 0; i < m.rows; i++) {
    out.set(m.data.subarray(i * m.length, i * m.length + prefixLength), i * prefixLength);
  }
  return { data: out, rows: m.rows, length: prefixLength };
}
