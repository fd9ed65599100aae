import { drawText, GLYPH_HEIGHT, measureText } from './font';
import { channelsOf, type ImageInput, type Rgba, type RgbaImage, toRgba } from './image';

export interface MontageInput {
  /** The input image, drawn first. */
  image: ImageInput;
  /** One panel per symbol (e.g. from `symbolOverlays`), all the size of `image`. */
  panels: ImageInput[];
  /** Symbol id of each panel: labels read `P<position> S<symbol>`. */
  symbols?: ArrayLike<number>;
  /** Explicit panel labels instead (characters of the built-in font only). */
  labels?: string[];
  /** Label under the image (default 'IMG'; '' for none). */
  imageLabel?: string;
  /** Cells per row (default: everything in one row). */
  columns?: number;
  /** Pixels around and between cells (default 4). */
  padding?: number;
  background?: Rgba;
  textColor?: Rgba;
  /** Integer scale of the 5×7 label font (default 1). */
  fontScale?: number;
}

/** The label of panel `position`: `P3 S117` is symbol 117 at position 3. */
export function symbolLabel(position: number, symbol: number): string {
  return `P${position} S${symbol}`;
}

/**
 * Lays out the image and one panel per symbol in a grid of equal cells, each with its label
 * underneath: returns one RGBA image (`{ width, height, data }`) ready for a canvas or a PNG encoder.
 *
 * A cell is the panel (top-left) with its label below: cell width = max(panel width, widest label),
 * cell height = panel height + 9 · fontScale when there are labels. The montage is
 * columns · cell width + (columns + 1) · padding wide and rows · cell height + (rows + 1) · padding high.
 */
export function montage(input: MontageInput): RgbaImage {
  const { image, panels } = input;
  channelsOf(image, 'montage image');
  const { width: pw, height: ph } = image;
  panels.forEach((p, i) => {
    channelsOf(p, `montage panels[${i}]`);
    if (p.width !== pw || p.height !== ph) {
      throw new Error(`montage: panels[${i}] is ${p.width}×${p.height}, expected the image size ${pw}×${ph}`);
    }
  });
  if (input.symbols && input.symbols.length !== panels.length) {
    throw new Error(`montage: ${input.symbols.length} symbols for ${panels.length} panels`);
  }
  if (input.labels && input.labels.length !== panels.length) {
    throw new Error(`montage: ${input.labels.length} labels for ${panels.length} panels`);
  }
  const panelLabels =
    input.labels ??
    (input.symbols ? Array.from(input.symbols, (s, i) => symbolLabel(i, s)) : panels.map(() => ''));
  const cells = [image, ...panels];
  const labels = [input.imageLabel ?? 'IMG', ...panelLabels];
  const columns = input.columns ?? cells.length;
  const padding = input.padding ?? 4;
  const scale = input.fontScale ?? 1;
  if (!Number.isInteger(columns) || columns < 1)
    throw new Error(`montage: columns must be a positive integer, got ${columns}`);
  if (!Number.isInteger(padding) || padding < 0)
    throw new Error(`montage: padding must be an integer ≥ 0, got ${padding}`);
  const hasLabels = labels.some((l) => l.length > 0);
  const labelHeight = hasLabels ? (GLYPH_HEIGHT + 2) * scale : 0;
  const rows = Math.ceil(cells.length / columns);
  // Cells widen to fit the longest label, so labels are never cut.
  const cellW = Math.max(pw, ...labels.map((l) => measureText(l, scale).width));
  const cellH = ph + labelHeight;
  const width = columns * cellW + (columns + 1) * padding;
  const height = rows * cellH + (rows + 1) * padding;

  const out: RgbaImage = { width, height, data: new Uint8ClampedArray(width * height * 4) };
  const bg = input.background ?? [255, 255, 255, 255];
  for (let p = 0; p < width * height; p++) out.data.set(bg, p * 4);
  cells.forEach((cell, i) => {
    const x0 = padding + (i % columns) * (cellW + padding);
    const y0 = padding + Math.floor(i / columns) * (cellH + padding);
    const rgba = toRgba(cell, i === 0 ? 'montage image' : `montage panels[${i - 1}]`);
    for (let y = 0; y < ph; y++) {
      out.data.set(rgba.data.subarray(y * pw * 4, (y + 1) * pw * 4), ((y0 + y) * width + x0) * 4);
    }
    if (labels[i]) {
      drawText(out, labels[i], x0, y0 + ph + scale, { color: input.textColor, scale });
    }
  });
  return out;
}
