import { parseConfig } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { Heatmap } from './image';

/** Attention probabilities in host memory: row-major values and their shape. */
export interface HostArray {
  data: ArrayLike<number>;
  shape: readonly number[];
}

/**
 * Cross-attention probabilities of one layer, `[B, heads, L, N]` (L symbols attending to N tokens),
 * or of all layers, `[layers, B, heads, L, N]` — the layout `Student.encode` (@symseq/decoder)
 * returns, so its `crossAttention` goes in as it is: a tensor, `{ data, shape }` or nested arrays.
 * A list of per-layer `[B, heads, L, N]` inputs is also accepted.
 */
export type AttentionInput = tf.Tensor | HostArray | number[][][][] | number[][][][][];

/** One map per image and symbol on the token grid: `data` is `[batch, symbols, height, width]`. */
export interface SymbolMaps {
  batch: number;
  symbols: number;
  height: number;
  width: number;
  data: Float32Array;
}

const optionsSchema = z
  .object({
    /** Token grid `[h, w]`; h · w (+ prefixTokens) must equal N. */
    grid: z.tuple([z.number().int().positive(), z.number().int().positive()]),
    /** Which layer, when several are given (negative counts from the end; default the last). */
    layer: z.number().int().default(-1),
    /** A head index, or the mean over heads. */
    head: z.union([z.literal('mean'), z.number().int().nonnegative()]).default('mean'),
    /** Per-map normalisation: min-max to [0, 1], divide by the max, or raw probabilities. */
    normalize: z.enum(['minmax', 'max', 'none']).default('minmax'),
    /** Tokens before the grid (e.g. 1 for a CLS token) that are dropped. */
    prefixTokens: z.number().int().nonnegative().default(0),
  })
  .strict();

export type SymbolMapOptions = z.input<typeof optionsSchema>;

/**
 * Turns the decoder's cross-attention into one map per symbol on the token grid: picks a layer,
 * picks a head or averages the heads, drops prefix tokens, reshapes N to `[h, w]` and normalises
 * each map (`minmax` by default; a constant map becomes all zeros).
 */
export function symbolAttentionMaps(
  attention: AttentionInput | AttentionInput[],
  options: SymbolMapOptions,
): SymbolMaps {
  const cfg = parseConfig(optionsSchema, options, 'symbolAttentionMaps options');
  const layer = pickLayer(attention, cfg.layer);
  const [batch, heads, symbols, tokens] = layer.shape;
  const [h, w] = cfg.grid;
  if (h * w + cfg.prefixTokens !== tokens) {
    throw new Error(
      `symbolAttentionMaps: grid ${h}×${w}${cfg.prefixTokens ? ` + ${cfg.prefixTokens} prefix tokens` : ''} = ${
        h * w + cfg.prefixTokens
      } tokens, but the attention has N = ${tokens} (shape [${layer.shape.join(', ')}])`,
    );
  }
  if (cfg.head !== 'mean' && cfg.head >= heads) {
    throw new Error(`symbolAttentionMaps: head ${cfg.head} does not exist, the attention has ${heads} heads`);
  }
  const hw = h * w;
  const out = new Float32Array(batch * symbols * hw);
  const src = layer.data;
  const headList = cfg.head === 'mean' ? Array.from({ length: heads }, (_, i) => i) : [cfg.head];
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < symbols; t++) {
      const dst = (b * symbols + t) * hw;
      for (const hd of headList) {
        const row = ((b * heads + hd) * symbols + t) * tokens + cfg.prefixTokens;
        for (let i = 0; i < hw; i++) out[dst + i] += src[row + i];
      }
      if (headList.length > 1) for (let i = 0; i < hw; i++) out[dst + i] /= headList.length;
      normalizeInPlace(out.subarray(dst, dst + hw), cfg.normalize);
    }
  }
  return { batch, symbols, height: h, width: w, data: out };
}

/** The map of image `b`, symbol `t` (a view into `maps.data`). */
export function symbolMap(maps: SymbolMaps, b: number, t: number): Heatmap {
  if (!Number.isInteger(b) || b < 0 || b >= maps.batch) {
    throw new Error(`symbolMap: image ${b} out of range [0, ${maps.batch})`);
  }
  if (!Number.isInteger(t) || t < 0 || t >= maps.symbols) {
    throw new Error(`symbolMap: symbol position ${t} out of range [0, ${maps.symbols})`);
  }
  const hw = maps.height * maps.width;
  const start = (b * maps.symbols + t) * hw;
  return { width: maps.width, height: maps.height, data: maps.data.subarray(start, start + hw) };
}

function normalizeInPlace(m: Float32Array, mode: 'minmax' | 'max' | 'none'): void {
  if (mode === 'none') return;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of m) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (mode === 'max') {
    if (hi > 0) for (let i = 0; i < m.length; i++) m[i] /= hi;
    return;
  }
  const span = hi - lo;
  for (let i = 0; i < m.length; i++) m[i] = span > 0 ? (m[i] - lo) / span : 0;
}

interface Host4 {
  data: ArrayLike<number>;
  shape: [number, number, number, number];
}

/** Reads the chosen layer into host memory as a `[B, heads, L, N]` array. */
function pickLayer(attention: AttentionInput | AttentionInput[], layer: number): Host4 {
  const isLayerList =
    Array.isArray(attention) &&
    attention.length > 0 &&
    (attention[0] instanceof tf.Tensor || isHostArray(attention[0]));
  if (isLayerList) {
    const list = attention as AttentionInput[];
    const i = layerIndex(layer, list.length);
    const one = toHost(list[i], `symbolAttentionMaps attention[${i}]`);
    if (one.shape.length !== 4) throw rankError(one.shape, `attention[${i}]`, '[B, heads, L, N]');
    return one as Host4;
  }
  const all = toHost(attention as AttentionInput, 'symbolAttentionMaps attention');
  if (all.shape.length === 4) {
    if (layer !== -1 && layer !== 0) {
      throw new Error(
        `symbolAttentionMaps: layer ${layer} requested, but the attention holds a single layer`,
      );
    }
    return all as Host4;
  }
  if (all.shape.length === 5) {
    const [layers, ...rest] = all.shape;
    const i = layerIndex(layer, layers);
    const size = rest.reduce((a, b) => a * b, 1);
    const data = ArrayBuffer.isView(all.data)
      ? (all.data as Float32Array).subarray(i * size, (i + 1) * size)
      : Array.prototype.slice.call(all.data, i * size, (i + 1) * size);
    return { data, shape: rest as Host4['shape'] };
  }
  throw rankError(all.shape, 'attention', '[B, heads, L, N] or [layers, B, heads, L, N]');
}

function rankError(shape: readonly number[], what: string, expected: string): Error {
  return new Error(`symbolAttentionMaps: ${what} has shape [${shape.join(', ')}], expected ${expected}`);
}

function layerIndex(layer: number, count: number): number {
  const i = layer < 0 ? count + layer : layer;
  if (i < 0 || i >= count)
    throw new Error(`symbolAttentionMaps: layer ${layer} out of range for ${count} layers`);
  return i;
}

function isHostArray(x: unknown): x is HostArray {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && 'data' in x && 'shape' in x;
}

function toHost(x: AttentionInput, what: string): HostArray {
  if (x instanceof tf.Tensor) return { data: x.dataSync(), shape: x.shape };
  if (isHostArray(x)) {
    const size = x.shape.reduce((a, b) => a * b, 1);
    if (size !== x.data.length) {
      throw new Error(`${what}: shape [${x.shape.join(', ')}] needs ${size} values, got ${x.data.length}`);
    }
    return x;
  }
  if (Array.isArray(x)) return flattenNested(x, what);
  throw new Error(`${what}: expected a tf.Tensor, { data, shape } or nested number arrays`);
}

function flattenNested(x: unknown[], what: string): HostArray {
  const shape: number[] = [];
  let probe: unknown = x;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const data: number[] = [];
  const walk = (v: unknown, depth: number, path: number[]) => {
    if (depth === shape.length) {
      if (typeof v !== 'number') throw new Error(`${what}: entry [${path.join('][')}] is not a number`);
      data.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new Error(
        `${what}: ragged nested array at [${path.join('][')}], expected length ${shape[depth]}`,
      );
    }
    v.forEach((c, i) => {
      walk(c, depth + 1, [...path, i]);
    });
  };
  walk(x, 0, []);
  return { data, shape };
}
