import type { Rgba, RgbaImage } from './image';

/**
 * A 5×7 bitmap font (the classic dot-matrix shapes) for labels: digits, the letters
 * A C E G H I L M N O P R S T Y (lower case drawn as upper case), space and : - . # =.
 * Each glyph is 7 rows of 5 columns, '#' lit.
 */
const GLYPHS: Record<string, string> = {
  '0': '.###. #...# #..## #.#.# ##..# #...# .###.',
  '1': '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
  '2': '.###. #...# ....# ...#. ..#.. .#... #####',
  '3': '##### ...#. ..#.. ...#. ....# #...# .###.',
  '4': '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
  '5': '##### #.... ####. ....# ....# #...# .###.',
  '6': '..##. .#... #.... ####. #...# #...# .###.',
  '7': '##### ....# ...#. ..#.. .#... .#... .#...',
  '8': '.###. #...# #...# .###. #...# #...# .###.',
  '9': '.###. #...# #...# .#### ....# ...#. .##..',
  A: '.###. #...# #...# ##### #...# #...# #...#',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  E: '##### #.... #.... ####. #.... #.... #####',
  G: '.###. #...# #.... #.### #...# #...# .####',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  L: '#.... #.... #.... #.... #.... #.... #####',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  O: '.###. #...# #...# #...# #...# #...# .###.',
  P: '####. #...# #...# ####. #.... #.... #....',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  S: '.#### #.... #.... .###. ....# ....# ####.',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
  ' ': '..... ..... ..... ..... ..... ..... .....',
  ':': '..... .##.. .##.. ..... .##.. .##.. .....',
  '-': '..... ..... ..... ##### ..... ..... .....',
  '.': '..... ..... ..... ..... ..... .##.. .##..',
  '#': '.#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.',
  '=': '..... ..... ##### ..... ##### ..... .....',
};

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;

/** The characters the label font can draw. */
export const fontCharacters = Object.keys(GLYPHS).join('');

function glyph(ch: string): string[] {
  const g = GLYPHS[ch.toUpperCase()];
  if (!g) throw new Error(`drawText: no glyph for '${ch}'; the label font has "${fontCharacters}"`);
  return g.split(' ');
}

/** Width and height in pixels of `text` at `scale` (one blank column between characters). */
export function measureText(text: string, scale = 1): { width: number; height: number } {
  return {
    width: text.length === 0 ? 0 : (text.length * (GLYPH_WIDTH + 1) - 1) * scale,
    height: GLYPH_HEIGHT * scale,
  };
}

/**
 * Draws `text` with its top-left corner at (x, y), each font pixel a `scale`×`scale` block.
 * Pixels outside the image, or outside `clipWidth` from x, are skipped.
 */
export function drawText(
  target: RgbaImage,
  text: string,
  x: number,
  y: number,
  opts: { color?: Rgba; scale?: number; clipWidth?: number } = {},
): void {
  const color = opts.color ?? [0, 0, 0, 255];
  const scale = opts.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1)
    throw new Error(`drawText: scale must be a positive integer, got ${scale}`);
  const right = Math.min(target.width, opts.clipWidth === undefined ? target.width : x + opts.clipWidth);
  const glyphs = Array.from(text, glyph);
  glyphs.forEach((rows, i) => {
    const gx = x + i * (GLYPH_WIDTH + 1) * scale;
    for (let r = 0; r < GLYPH_HEIGHT; r++) {
      for (let c = 0; c < GLYPH_WIDTH; c++) {
        if (rows[r][c] !== '#') continue;
        for (let dy = 0; dy < scale; dy++) {
          const py = y + r * scale + dy;
          if (py < 0 || py >= target.height) continue;
          for (let dx = 0; dx < scale; dx++) {
            const px = gx + c * scale + dx;
            if (px < 0 || px >= right) continue;
            target.data.set(color, (py * target.width + px) * 4);
          }
        }
      }
    }
  });
}
