import type { SymbolMaps } from './attention-maps';

/** How two maps are compared: cosine of the raw maps, or Pearson correlation (cosine of the centred maps). */
export type MapSimilarity = 'cosine' | 'pearson';

/**
 * Each map of `maps` as a unit vector in float64, so the dot product of two is their similarity:
 * m / ‖m‖ for cosine, (m − mean) / ‖m − mean‖ for Pearson. A map with no direction (all zeros for
 * cosine, constant for Pearson) gives null: no similarity is defined for it.
 */
export function unitMaps(maps: SymbolMaps, similarity: MapSimilarity): Array<Float64Array | null> {
  const hw = maps.height * maps.width;
  const out: Array<Float64Array | null> = [];
  for (let k = 0; k < maps.batch * maps.symbols; k++) {
    const m = maps.data.subarray(k * hw, (k + 1) * hw);
    let mean = 0;
    let scale = 0;
    for (const v of m) {
      mean += v;
      scale = Math.max(scale, Math.abs(v));
    }
    mean = similarity === 'pearson' ? mean / hw : 0;
    const z = new Float64Array(hw);
    let sq = 0;
    for (let i = 0; i < hw; i++) {
      z[i] = m[i] - mean;
      sq += z[i] * z[i];
    }
    const norm = Math.sqrt(sq);
    // relative test: float32 rounding leaves tiny residues in a constant map
    if (!(norm > 1e-6 * Math.sqrt(hw) * (scale + 1e-12))) {
      out.push(null);
      continue;
    }
    for (let i = 0; i < hw; i++) z[i] /= norm;
    out.push(z);
  }
  return out;
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Checks that a SymbolMaps value is self-consistent, naming `what` in the error. */
export function checkSymbolMaps(maps: SymbolMaps, what: string): void {
  const { batch, symbols, height, width, data } = maps;
  for (const [k, v] of Object.entries({ batch, symbols, height, width })) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${what}: ${k} is ${v}, expected an integer ≥ 0`);
  }
  if (data.length !== batch * symbols * height * width) {
    throw new Error(
      `${what}: data has ${data.length} values, expected batch · symbols · height · width = ${batch * symbols * height * width}`,
    );
  }
}
