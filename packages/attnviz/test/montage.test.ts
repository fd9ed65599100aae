import { describe, expect, it } from 'vitest';
import { montage } from '../src';
import { drawText, measureText } from '../src/font';
import { symbolLabel } from '../src/montage';

const solid = (w: number, h: number, rgb: number[]) => ({
  width: w,
  height: h,
  data: Uint8Array.from({ length: w * h * 3 }, (_, i) => rgb[i % 3]),
});
const px = (img: { width: number; data: Uint8ClampedArray }, x: number, y: number) =>
  Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));

describe('drawText', () => {
  it("draws the 5×7 '1' glyph exactly", () => {
    const img = { width: 7, height: 9, data: new Uint8ClampedArray(7 * 9 * 4) };
    drawText(img, '1', 1, 1, { color: [255, 0, 0, 255] });
    const lit = [];
    for (let y = 0; y < 9; y++) {
      let row = '';
      for (let x = 0; x < 7; x++) row += img.data[(y * 7 + x) * 4] === 255 ? '#' : '.';
      lit.push(row);
    }
    expect(lit).toEqual([
      '.......',
      '...#...',
      '..##...',
      '...#...',
      '...#...',
      '...#...',
      '...#...',
      '..###..',
      '.......',
    ]);
  });

  it('scales, measures, clips and rejects unknown characters', () => {
    expect(measureText('P12', 2)).toEqual({ width: (3 * 6 - 1) * 2, height: 14 });
    const img = { width: 4, height: 4, data: new Uint8ClampedArray(64) };
    drawText(img, '8', -1, -3, { color: [9, 9, 9, 255], scale: 2 }); // partly outside: no throw
    const clipped = { width: 6, height: 7, data: new Uint8ClampedArray(6 * 7 * 4) };
    drawText(clipped, '8', 0, 0, { color: [255, 255, 255, 255], clipWidth: 2 });
    // top row of '8' is '.###.': only x = 1 is inside the 2-pixel clip
    expect([0, 1, 2, 3].map((x) => clipped.data[x * 4])).toEqual([0, 255, 0, 0]);
    expect(() => drawText(img, 'x', 0, 0)).toThrow(/no glyph for 'x'/);
  });
});

describe('montage', () => {
  const image = solid(10, 8, [200, 0, 0]);
  const panels = [solid(10, 8, [0, 200, 0]), solid(10, 8, [0, 0, 200]), solid(10, 8, [50, 50, 50])];

  it('lays out image and panels in one row with labels underneath', () => {
    const m = montage({ image, panels, symbols: [7, 12, 3] });
    // cells widen to the longest label, 'P1 S12': 6 · 6 − 1 = 35 px
    // width = 4·35 + 5·4; height = (8 + label 9) + 2·4
    expect([m.width, m.height]).toEqual([160, 25]);
    expect(m.data.length).toBe(160 * 25 * 4);
    expect(px(m, 0, 0)).toEqual([255, 255, 255, 255]); // padding
    expect(px(m, 4, 4)).toEqual([200, 0, 0, 255]); // image
    expect(px(m, 13, 11)).toEqual([200, 0, 0, 255]); // image's last pixel
    expect(px(m, 14, 4)).toEqual([255, 255, 255, 255]); // background right of the image
    expect(px(m, 42, 4)).toEqual([255, 255, 255, 255]); // padding
    expect(px(m, 43, 4)).toEqual([0, 200, 0, 255]); // first panel starts at x = 4 + 35 + 4
    expect(px(m, 4 + 3 * 39, 11)).toEqual([50, 50, 50, 255]); // third panel's bottom row
    // label of panel 0, "P0 S7": top row of 'P' is '####.' at y = 4 + 8 + 1
    const lx = 43;
    const ly = 13;
    expect([0, 1, 2, 3].map((dx) => px(m, lx + dx, ly))).toEqual(new Array(4).fill([0, 0, 0, 255]));
    expect(px(m, lx + 4, ly)).toEqual([255, 255, 255, 255]);
    // 'IMG' under the image: 'I' top row '.###.'
    expect(px(m, 4, ly)).toEqual([255, 255, 255, 255]);
    expect(px(m, 5, ly)).toEqual([0, 0, 0, 255]);
    let dark = 0;
    for (let i = 0; i < m.width * m.height; i++) if (m.data[4 * i] === 0 && m.data[4 * i + 1] === 0) dark++;
    expect(dark).toBeGreaterThan(40); // labels really drawn
  });

  it('wraps into columns, with padding, background and font scale options', () => {
    const m = montage({
      image,
      panels,
      labels: ['A', 'B', 'C'].map(() => 'S1'),
      columns: 2,
      padding: 2,
      background: [1, 2, 3, 255],
      fontScale: 2,
      textColor: [9, 8, 7, 255],
    });
    // cell width = 'IMG' at scale 2 = (3 · 6 − 1) · 2 = 34; width = 2·34 + 3·2;
    // cell height = 8 + 9·2; height = 2·26 + 3·2
    expect([m.width, m.height]).toEqual([74, 58]);
    expect(px(m, 0, 0)).toEqual([1, 2, 3, 255]);
    expect(px(m, 2, 2 + 26 + 2)).toEqual([0, 0, 200, 255]); // panel 1 at row 1, column 0
    expect(px(m, 2 + 36, 2 + 26 + 2)).toEqual([50, 50, 50, 255]); // panel 2 at row 1, column 1
    // 'S' at scale 2 under panel 0 (cell 1): its top row '.####' lights x from 2·1
    expect(px(m, 38 + 2, 2 + 8 + 2)).toEqual([9, 8, 7, 255]);
    expect(px(m, 38 + 1, 2 + 8 + 2)).toEqual([1, 2, 3, 255]);
  });

  it('labels read P<position> S<symbol>; no labels means no label strip', () => {
    expect(symbolLabel(3, 117)).toBe('P3 S117');
    const m = montage({ image, panels, imageLabel: '' });
    expect([m.width, m.height]).toEqual([60, 16]);
  });

  it('rejects mismatched panels', () => {
    expect(() => montage({ image, panels: [solid(9, 8, [0, 0, 0])] })).toThrow(
      /panels\[0\] is 9×8, expected the image size 10×8/,
    );
    expect(() => montage({ image, panels, symbols: [1] })).toThrow(/1 symbols for 3 panels/);
    expect(() => montage({ image, panels: [{ width: 10, height: 8, data: new Uint8Array(5) }] })).toThrow(
      /montage panels\[0\]: 5 values for 10×8 pixels/,
    );
  });
});
