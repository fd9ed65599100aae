import { parseConfig } from '@symseq/nn';
import { z } from 'zod';
import type { SymbolMaps } from './attention-maps';
import { colorize } from './colormap';
import { drawText, GLYPH_HEIGHT, measureText } from './font';
import { channelsOf, type Heatmap, type ImageInput, type RgbaImage, toRgba } from './image';
import { checkSymbolMaps } from './map-vectors';
import { overlayHeatmap } from './overlay';
import { resizeBilinear } from './resize';

/** What a dictionary is built from: per image its symbols, their maps, its class and the symbols' confidences. */
export interface DictionaryInput {
  /** `[batch, L]` row-major symbol ids. */
  symbols: ArrayLike<number>;
  /** One map per image and position (`batch` × L). */
  maps: SymbolMaps;
  /** Class of each image. */
  labels: ArrayLike<number>;
  /** `[batch, L]`: how sure the student was of each symbol it wrote (e.g. its softmax probability; NaN if unknown). */
  confidences: ArrayLike<number>;
}

export interface DictionaryOccurrence {
  image: number;
  position: number;
  confidence: number;
}

/** Everything known about one symbol id. */
export interface DictionaryEntry {
  symbol: number;
  /** Times the symbol is written (over all images and positions). */
  count: number;
  /** Distinct images that write it. */
  images: number;
  /** `positions[t]`: times it is written at position t. */
  positions: number[];
  /** `classMix[c]`: times it is written by an image of class c. */
  classMix: number[];
  /** Mean of the maps of every occurrence, on the token grid. */
  meanMap: Heatmap;
  /** The most confident occurrences, one per image, most confident first. */
  top: DictionaryOccurrence[];
}

export interface SymbolDictionary {
  /** Used symbols, most used first (then by id). */
  entries: DictionaryEntry[];
  length: number;
  numClasses: number;
  grid: [number, number];
  /** Images the dictionary was built from. */
  batch: number;
}

const dictionarySchema = z.object({ top: z.number().int().positive().default(8) }).strict();

/**
 * The symbol dictionary: for every symbol id that is written, how often and where, its mean
 * attention map, the class mix of the images that write it, and its most confident occurrences.
 */
export function symbolDictionary(
  input: DictionaryInput,
  options: z.input<typeof dictionarySchema> = {},
): SymbolDictionary {
  const cfg = parseConfig(dictionarySchema, options, 'symbolDictionary options');
  const { symbols, maps, labels, confidences } = input;
  checkSymbolMaps(maps, 'symbolDictionary maps');
  const { batch, symbols: L } = maps;
  const hw = maps.height * maps.width;
  if (labels.length !== batch)
    throw new Error(`symbolDictionary: ${labels.length} labels for ${batch} images`);
  for (const [name, v] of [
    ['symbols', symbols],
    ['confidences', confidences],
  ] as const) {
    if (v.length !== batch * L) {
      throw new Error(`symbolDictionary: ${v.length} ${name}, expected ${batch} images × ${L} positions`);
    }
  }
  let numClasses = 0;
  for (let i = 0; i < batch; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0)
      throw new Error(`symbolDictionary: label ${i} is ${c}, expected an integer ≥ 0`);
    numClasses = Math.max(numClasses, c + 1);
  }
  const acc = new Map<
    number,
    {
      count: number;
      positions: number[];
      classMix: number[];
      sum: Float64Array;
      best: Map<number, DictionaryOccurrence>;
    }
  >();
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < L; t++) {
      const s = symbols[b * L + t];
      if (!Number.isInteger(s) || s < 0) {
        throw new Error(
          `symbolDictionary: symbol at image ${b}, position ${t} is ${s}, expected an integer ≥ 0`,
        );
      }
      let e = acc.get(s);
      if (!e) {
        e = {
          count: 0,
          positions: new Array(L).fill(0),
          classMix: new Array(numClasses).fill(0),
          sum: new Float64Array(hw),
          best: new Map(),
        };
        acc.set(s, e);
      }
      e.count++;
      e.positions[t]++;
      e.classMix[labels[b]]++;
      const off = (b * L + t) * hw;
      for (let i = 0; i < hw; i++) e.sum[i] += maps.data[off + i];
      const confidence = confidences[b * L + t];
      const prev = e.best.get(b);
      if (!prev || rank(confidence) > rank(prev.confidence))
        e.best.set(b, { image: b, position: t, confidence });
    }
  }
  const entries = [...acc]
    .map(
      ([symbol, e]): DictionaryEntry => ({
        symbol,
        count: e.count,
        images: e.best.size,
        positions: e.positions,
        classMix: e.classMix,
        meanMap: {
          width: maps.width,
          height: maps.height,
          data: Float32Array.from(e.sum, (v) => v / e.count),
        },
        top: [...e.best.values()]
          .sort((a, c) => rank(c.confidence) - rank(a.confidence) || a.image - c.image)
          .slice(0, cfg.top),
      }),
    )
    .sort((a, b) => b.count - a.count || a.symbol - b.symbol);
  return { entries, length: L, numClasses, grid: [maps.height, maps.width], batch };
}

/** Confidence for sorting: an unknown one (NaN, e.g. a VQ student's) sorts last. */
const rank = (c: number) => (Number.isNaN(c) ? Number.NEGATIVE_INFINITY : c);

/** matplotlib's tab10, then golden-angle hues: a colour per class for the class-mix bars. */
const TAB10 = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

/** The colour of class `c` in class-mix bars, as [r, g, b]. */
export function classColour(c: number): [number, number, number] {
  if (c < TAB10.length) {
    const hex = TAB10[c];
    return [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
  }
  // HSL(h, 55%, 45%) → RGB
  const h = (c * 137.508) % 360;
  const s = 0.55;
  const l = 0.45;
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1));
  return [f(0), f(8), f(4)].map((v) => Math.round(v * 255)) as [number, number, number];
}

const atlasSchema = z
  .object({
    /** Rows drawn (the most used symbols first; default all). */
    maxEntries: z.number().int().positive().optional(),
    /** Occurrences shown per row (default: as many as the dictionary holds). */
    strip: z.number().int().positive().optional(),
    padding: z.number().int().nonnegative().default(4),
    alpha: z.number().min(0).max(1).default(0.6),
  })
  .strict();

export type AtlasOptions = z.input<typeof atlasSchema>;

/** The pieces of one dictionary row as images, shared by the atlas and the HTML page. */
export function dictionaryPanels(
  entry: DictionaryEntry,
  maps: SymbolMaps,
  images: ImageInput[],
  opts: { alpha?: number; strip?: number } = {},
): { meanMap: RgbaImage; classBar: RgbaImage; overlays: RgbaImage[] } {
  const { width, height } = images[0];
  const mean = normalised(entry.meanMap);
  const meanMap = colorize(
    mean.width === width && mean.height === height ? mean : resizeBilinear(mean, width, height),
  );
  const hw = maps.height * maps.width;
  const overlays = entry.top.slice(0, opts.strip ?? entry.top.length).map((o) => {
    const image = images[o.image];
    if (!image) throw new Error(`dictionary: no image ${o.image} (${images.length} images given)`);
    const off = (o.image * maps.symbols + o.position) * hw;
    const map = { width: maps.width, height: maps.height, data: maps.data.subarray(off, off + hw) };
    return overlayHeatmap(image, map, { alpha: opts.alpha ?? 0.6 });
  });
  return {
    meanMap,
    classBar: classBar(entry.classMix, width, Math.max(4, Math.round(height / 4))),
    overlays,
  };
}

/**
 * One PNG-ready atlas of the dictionary: a row per symbol with its label (`S<id> N<count>`), its
 * mean attention map, its class-mix bar (tab10 colours, widths ∝ counts) and a strip of its most
 * confident occurrences as overlays. `images[b]` is image b of the dictionary's input, all one size.
 */
export function dictionaryAtlas(
  input: { dictionary: SymbolDictionary; maps: SymbolMaps; images: ImageInput[] },
  options: AtlasOptions = {},
): RgbaImage {
  const cfg = parseConfig(atlasSchema, options, 'dictionaryAtlas options');
  const { dictionary, maps, images } = input;
  checkImages(images, dictionary.batch, 'dictionaryAtlas');
  const { width: pw, height: ph } = images[0];
  const entries = dictionary.entries.slice(0, cfg.maxEntries ?? dictionary.entries.length);
  const strip = cfg.strip ?? Math.max(1, ...entries.map((e) => e.top.length));
  const pad = cfg.padding;
  const labels = entries.map((e) => [`S${e.symbol}`, `N${e.count}`]);
  const labelW = Math.max(1, ...labels.flat().map((l) => measureText(l).width));
  const barH = Math.max(4, Math.round(ph / 4));
  const cellsW = (1 + strip) * (pw + pad);
  const width = pad + labelW + pad + cellsW;
  const rowH = Math.max(ph + pad + barH, 2 * GLYPH_HEIGHT + 3);
  const height = pad + entries.length * (rowH + pad);
  const out: RgbaImage = { width, height, data: new Uint8ClampedArray(width * height * 4) };
  out.data.fill(255);
  entries.forEach((entry, r) => {
    const y0 = pad + r * (rowH + pad);
    drawText(out, labels[r][0], pad, y0);
    drawText(out, labels[r][1], pad, y0 + GLYPH_HEIGHT + 3);
    const p = dictionaryPanels(entry, maps, images, { alpha: cfg.alpha, strip });
    const x0 = pad + labelW + pad;
    blit(out, p.meanMap, x0, y0);
    blit(out, p.classBar, x0, y0 + ph + pad);
    p.overlays.forEach((o, i) => {
      blit(out, o, x0 + (i + 1) * (pw + pad), y0);
    });
  });
  return out;
}

/** Encodes an RGBA image as PNG bytes (the caller's encoder: pngjs in Node, a canvas in a browser). */
export type PngEncoder = (image: RgbaImage) => Uint8Array;

/**
 * The dictionary as one self-contained HTML page (every picture inlined as a PNG data URI): a row per
 * symbol with its id, count, images, position histogram, class mix (with class names), mean map and
 * its most confident occurrences (each titled with its image, class, position and confidence).
 */
export function dictionaryHtml(
  input: {
    dictionary: SymbolDictionary;
    maps: SymbolMaps;
    images: ImageInput[];
    labels: ArrayLike<number>;
    classes?: string[];
    title?: string;
    /** Free text under the title (e.g. the run and the command). */
    note?: string;
  },
  encodePng: PngEncoder,
  options: { maxEntries?: number; alpha?: number } = {},
): string {
  const { dictionary, maps, images, labels } = input;
  checkImages(images, dictionary.batch, 'dictionaryHtml');
  const className = (c: number) => input.classes?.[c] ?? `class ${c}`;
  const uri = (img: RgbaImage) => `data:image/png;base64,${base64(encodePng(img))}`;
  const entries = dictionary.entries.slice(0, options.maxEntries ?? dictionary.entries.length);
  const L = dictionary.length;
  const rows = entries.map((e) => {
    const p = dictionaryPanels(e, maps, images, { alpha: options.alpha });
    const total = e.classMix.reduce((a, b) => a + b, 0);
    const mix = e.classMix
      .map((n, c) => ({ n, c }))
      .filter((x) => x.n > 0)
      .sort((a, b) => b.n - a.n)
      .map(({ n, c }) => {
        const [r, g, b] = classColour(c);
        const pct = ((100 * n) / total).toFixed(1);
        return `<span style="width:${pct}%;background:rgb(${r},${g},${b})" title="${esc(className(c))}: ${n} (${pct}%)"></span>`;
      })
      .join('');
    const topClasses = e.classMix
      .map((n, c) => ({ n, c }))
      .filter((x) => x.n > 0)
      .sort((a, b) => b.n - a.n)
      .slice(0, 3)
      .map(({ n, c }) => `${esc(className(c))} ${((100 * n) / total).toFixed(0)}%`)
      .join(', ');
    const maxPos = Math.max(...e.positions);
    const hist = e.positions
      .map(
        (n, t) =>
          `<span style="height:${maxPos ? Math.round((24 * n) / maxPos) : 0}px" title="position ${t + 1}: ${n}"></span>`,
      )
      .join('');
    const strip = e.top
      .map((o, i) => {
        const t = `image ${o.image} (${esc(className(labels[o.image]))}), position ${o.position + 1}, confidence ${Number.isNaN(o.confidence) ? 'unknown' : o.confidence.toFixed(3)}`;
        return `<img src="${uri(p.overlays[i])}" alt="${t}" title="${t}">`;
      })
      .join('');
    return (
      `<tr id="s${e.symbol}"><th>${e.symbol}</th><td class="num">${e.count}</td><td class="num">${e.images}</td>` +
      `<td><div class="hist">${hist}</div></td><td><div class="mix">${mix}</div><div class="small">${topClasses}</div></td>` +
      `<td><img src="${uri(p.meanMap)}" alt="mean attention of symbol ${e.symbol}"></td><td class="strip">${strip}</td></tr>`
    );
  });
  const title = input.title ?? 'Symbol dictionary';
  const legend = Array.from({ length: dictionary.numClasses }, (_, c) => {
    const [r, g, b] = classColour(c);
    return `<span class="key"><span style="background:rgb(${r},${g},${b})"></span>${esc(className(c))}</span>`;
  }).join(' ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d1d1f}
table{border-collapse:collapse}th,td{padding:4px 8px;border-bottom:1px solid #ddd;vertical-align:middle;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.mix{display:flex;width:160px;height:12px;border:1px solid #999}.mix span{display:block;height:100%}
.hist{display:flex;align-items:flex-end;gap:1px;height:24px}.hist span{display:block;width:8px;background:#456}
.small{font-size:.8rem;color:#555}.strip img{margin-right:3px}img{image-rendering:pixelated}
.key{margin-right:.8rem;font-size:.85rem}.key span{display:inline-block;width:10px;height:10px;margin-right:3px}
</style></head><body>
<h1>${esc(title)}</h1>
${input.note ? `<p>${esc(input.note)}</p>` : ''}
<p>${dictionary.entries.length} symbols written by ${dictionary.batch} images (${L} positions each), attention on the ${dictionary.grid[0]}×${dictionary.grid[1]} token grid. Most used first. Positions run 1…${L}. Classes: ${legend}</p>
<table><thead><tr><th>symbol</th><th>uses</th><th>images</th><th>positions</th><th>class mix</th><th>mean attention</th><th>most confident uses</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></body></html>
`;
}

function checkImages(images: ImageInput[], batch: number, what: string): void {
  if (images.length !== batch)
    throw new Error(`${what}: ${images.length} images for a dictionary of ${batch}`);
  images.forEach((img, i) => {
    channelsOf(img, `${what} images[${i}]`);
    if (img.width !== images[0].width || img.height !== images[0].height) {
      throw new Error(
        `${what}: images[${i}] is ${img.width}×${img.height}, expected ${images[0].width}×${images[0].height} like images[0]`,
      );
    }
  });
}

/** Min-max to [0, 1] (a constant map becomes zeros). */
function normalised(map: Heatmap): Heatmap {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of map.data) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const span = hi - lo;
  return { ...map, data: Float32Array.from(map.data, (v) => (span > 0 ? (v - lo) / span : 0)) };
}

/** A bar `width` wide split into class colours, widths proportional to the counts (rounded, summing to width). */
function classBar(counts: number[], width: number, height: number): RgbaImage {
  const out: RgbaImage = { width, height, data: new Uint8ClampedArray(width * height * 4) };
  const total = counts.reduce((a, b) => a + b, 0);
  let x = 0;
  let cum = 0;
  counts.forEach((n, c) => {
    cum += n;
    const end = total ? Math.round((cum / total) * width) : 0;
    const [r, g, b] = classColour(c);
    for (; x < end; x++) for (let y = 0; y < height; y++) out.data.set([r, g, b, 255], (y * width + x) * 4);
  });
  return out;
}

function blit(dst: RgbaImage, src: ImageInput, x0: number, y0: number): void {
  const rgba = toRgba(src);
  for (let y = 0; y < rgba.height; y++) {
    dst.data.set(
      rgba.data.subarray(y * rgba.width * 4, (y + 1) * rgba.width * 4),
      ((y0 + y) * dst.width + x0) * 4,
    );
  }
}

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string,
  );

/** Base64 of bytes (btoa exists in browsers and in Node ≥ 16). */
function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
