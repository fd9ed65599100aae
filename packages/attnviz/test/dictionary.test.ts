import { describe, expect, it } from 'vitest';
import {
  classColour,
  colorize,
  dictionaryAtlas,
  dictionaryHtml,
  type RgbaImage,
  type SymbolMaps,
  symbolDictionary,
} from '../src';

// 3 images × 2 positions on a 1×2 grid; symbols and maps chosen so every number is known by hand
const SYMBOLS = [4, 7, 4, 4, 9, 7];
const LABELS = [0, 1, 1];
const CONF = [0.9, 0.5, 0.6, 0.95, 0.8, 0.7];
const MAPS: SymbolMaps = {
  batch: 3,
  symbols: 2,
  height: 1,
  width: 2,
  // image 0: [1,0] [0,1]; image 1: [1,0] [0.5,0.5]; image 2: [0,1] [0,1]
  data: Float32Array.from([1, 0, 0, 1, 1, 0, 0.5, 0.5, 0, 1, 0, 1]),
};
/** 4×2 RGB images, image b filled with grey 60·(b + 1). */
const IMAGES = [0, 1, 2].map((b) => ({ width: 4, height: 2, data: new Uint8Array(24).fill(60 * (b + 1)) }));

describe('symbolDictionary', () => {
  it('counts uses, positions, class mix and images; averages the maps; ranks occurrences by confidence', () => {
    const d = symbolDictionary(
      { symbols: SYMBOLS, maps: MAPS, labels: LABELS, confidences: CONF },
      { top: 2 },
    );
    expect(d.entries.map((e) => e.symbol)).toEqual([4, 7, 9]); // 3 uses, 2, 1
    const [s4, s7, s9] = d.entries;
    expect([s4.count, s4.images, s4.positions, s4.classMix]).toEqual([3, 2, [2, 1], [1, 2]]);
    // image 1 writes 4 twice: its more confident use (position 1, 0.95) stands for it
    expect(s4.top).toEqual([
      { image: 1, position: 1, confidence: 0.95 },
      { image: 0, position: 0, confidence: 0.9 },
    ]);
    // maps of symbol 4: [1,0], [1,0], [0.5,0.5] → mean [5/6, 1/6]
    expect(Array.from(s4.meanMap.data)).toEqual([expect.closeTo(5 / 6, 6), expect.closeTo(1 / 6, 6)]);
    expect([s7.count, s7.positions, s7.classMix]).toEqual([2, [0, 2], [1, 1]]);
    expect(Array.from(s7.meanMap.data)).toEqual([0, 1]);
    expect(s7.top.map((o) => o.image)).toEqual([2, 0]);
    expect([s9.count, s9.positions, s9.classMix, s9.top]).toEqual([
      1,
      [1, 0],
      [0, 1],
      [{ image: 2, position: 0, confidence: 0.8 }],
    ]);
    expect([d.length, d.numClasses, d.grid, d.batch]).toEqual([2, 2, [1, 2], 3]);
  });

  it('sorts unknown (NaN) confidences last, then by image', () => {
    const confidences = [Number.NaN, 0.5, 0.2, Number.NaN, 0.8, 0.7];
    const d = symbolDictionary({ symbols: SYMBOLS, maps: MAPS, labels: LABELS, confidences });
    // symbol 4: image 0 (NaN), image 1 (0.2 at position 0; NaN at 1) → image 1 first
    expect(d.entries[0].top).toEqual([
      { image: 1, position: 0, confidence: 0.2 },
      { image: 0, position: 0, confidence: Number.NaN },
    ]);
  });

  it('names mismatched input', () => {
    const base = { symbols: SYMBOLS, maps: MAPS, labels: LABELS, confidences: CONF };
    expect(() => symbolDictionary({ ...base, labels: [0] })).toThrow(/1 labels for 3 images/);
    expect(() => symbolDictionary({ ...base, confidences: [1] })).toThrow(
      /1 confidences, expected 3 images × 2/,
    );
    expect(() => symbolDictionary({ ...base, symbols: [4, 7, 4, 4, 9, -1] })).toThrow(
      /symbol at image 2, position 1 is -1/,
    );
  });
});

describe('dictionaryAtlas', () => {
  const d = symbolDictionary({ symbols: SYMBOLS, maps: MAPS, labels: LABELS, confidences: CONF });
  const pixel = (img: RgbaImage, x: number, y: number) =>
    Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));

  it('lays out a row per symbol: label, mean map, class bar, then the strip of overlays', () => {
    const atlas = dictionaryAtlas({ dictionary: d, maps: MAPS, images: IMAGES }, { padding: 2, alpha: 1 });
    // label column: widest of S4 S7 S9 N3 N2 N1 = 2 glyphs = 11 px; cells: 1 + strip 2 → 3 × (4 + 2)
    expect(atlas.width).toBe(2 + 11 + 2 + 3 * 6);
    // row height max(2 + 2 + 4, 17) = 17; 3 rows
    expect(atlas.height).toBe(2 + 3 * (17 + 2));
    const x0 = 15;
    // row 0 (symbol 4): mean map [5/6, 1/6] min-max → [1, 0]; bilinear with half-pixel centres samples
    // it at −0.25, 0.25, 0.75, 1.25 (clamped) → 1, 0.75, 0.25, 0
    const mean = colorize({ width: 4, height: 1, data: Float32Array.from([1, 0.75, 0.25, 0]) });
    for (let x = 0; x < 4; x++) expect(pixel(atlas, x0 + x, 2)).toEqual(pixel(mean, x, 0));
    // class bar under it: classes 1:2 → 1/3 of 4 px (rounded: 1) tab10 blue, the rest orange
    expect(pixel(atlas, x0, 2 + 2 + 2)).toEqual([...classColour(0), 255]);
    expect(pixel(atlas, x0 + 1, 2 + 2 + 2)).toEqual([...classColour(1), 255]);
    expect(classColour(1)).toEqual([255, 127, 14]);
    // first overlay of symbol 4 is image 1 at position 1, map [0.5, 0.5] as given, at α = 1: viridis(0.5)
    expect(pixel(atlas, x0 + 6, 2)).toEqual(
      pixel(colorize({ width: 1, height: 1, data: Float32Array.from([0.5]) }), 0, 0),
    );
    expect(pixel(atlas, x0 + 6, 2)).toEqual([33, 145, 140, 255]);
    // row 2 (symbol 9) has one overlay: the second strip cell stays white
    expect(pixel(atlas, x0 + 12, 2 + 2 * 19)).toEqual([255, 255, 255, 255]);
  });

  it('rejects images that do not match the dictionary', () => {
    expect(() => dictionaryAtlas({ dictionary: d, maps: MAPS, images: IMAGES.slice(0, 2) })).toThrow(
      /2 images for a dictionary of 3/,
    );
    const odd = [...IMAGES.slice(0, 2), { width: 2, height: 2, data: new Uint8Array(12) }];
    expect(() => dictionaryAtlas({ dictionary: d, maps: MAPS, images: odd })).toThrow(
      /images\[2\] is 2×2, expected 4×2 like images\[0\]/,
    );
  });
});

describe('dictionaryHtml', () => {
  it('is one self-contained page: a row per symbol, every picture a PNG data URI, names escaped', () => {
    const d = symbolDictionary({ symbols: SYMBOLS, maps: MAPS, labels: LABELS, confidences: CONF });
    const encoded: string[] = [];
    const html = dictionaryHtml(
      {
        dictionary: d,
        maps: MAPS,
        images: IMAGES,
        labels: LABELS,
        classes: ['cat', 'b<i>rd'],
        title: 'Run & co',
      },
      (img) => {
        encoded.push(`${img.width}x${img.height}`);
        return Uint8Array.from([137, 80, 78, 71]);
      },
    );
    // mean map + overlays: symbol 4: 1 + 2, symbol 7: 1 + 2, symbol 9: 1 + 1
    expect(encoded).toEqual(new Array(8).fill('4x2'));
    expect(html.match(/<img src="data:image\/png;base64,iVBORw==" /g)).toHaveLength(8);
    expect(html.match(/<tr id="s\d+">/g)).toEqual(['<tr id="s4">', '<tr id="s7">', '<tr id="s9">']);
    expect(html).toContain('<title>Run &amp; co</title>');
    expect(html).toContain('b&lt;i&gt;rd 67%, cat 33%');
    expect(html).toContain('title="image 1 (b&lt;i&gt;rd), position 2, confidence 0.950"');
    expect(html).not.toMatch(/src="(?!data:)/);
  });
});
