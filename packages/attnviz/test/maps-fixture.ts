import type { SymbolMaps } from '../src';

/** `batch` × `symbols` maps of `hw` values (a grid hw/4 × 4), value fill(b, t, i) at image b, position t, cell i. */
export function makeMaps(
  batch: number,
  symbols: number,
  hw: number,
  fill: (b: number, t: number, i: number) => number,
  width = 4,
): SymbolMaps {
  const data = new Float32Array(batch * symbols * hw);
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < symbols; t++)
      for (let i = 0; i < hw; i++) data[(b * symbols + t) * hw + i] = fill(b, t, i);
  return { batch, symbols, height: hw / width, width, data };
}

/** Textbook Pearson correlation, for brute-force references. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}
