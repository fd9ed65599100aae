import { describe, expect, it } from 'vitest';
import { overlayHeatmap, symbolAttentionMaps, symbolOverlays } from '../src';

// viridis(0) = #440154 = (68, 1, 84); viridis(1) = #fde725 = (253, 231, 37)
const image = { width: 2, height: 1, data: Uint8Array.from([100, 50, 200, 0, 0, 0]) };
const map = { width: 2, height: 1, data: Float32Array.from([0, 1]) };

describe('overlayHeatmap', () => {
  it('blends round((1 − α) · image + α · colour) per channel', () => {
    const out = overlayHeatmap(image, map, { alpha: 0.25 });
    // pixel 0: .75·(100, 50, 200) + .25·(68, 1, 84) = (92, 37.75, 171) → (92, 38, 171)
    // pixel 1: .25·(253, 231, 37) = (63.25, 57.75, 9.25) → (63, 58, 9)
    expect(Array.from(out.data)).toEqual([92, 38, 171, 255, 63, 58, 9, 255]);
  });

  it('alphaByValue keeps the image where the map is 0', () => {
    const out = overlayHeatmap(image, map, { alpha: 0.25, alphaByValue: true, colormap: 'magma' });
    // pixel 1: magma(1) = #fcfdbf = (252, 253, 191): .25 · that = (63, 63.25, 47.75) → (63, 63, 48)
    expect(Array.from(out.data)).toEqual([100, 50, 200, 255, 63, 63, 48, 255]);
  });

  it('reads RGBA images and upsamples a smaller map', () => {
    const rgba = { width: 3, height: 2, data: new Uint8ClampedArray(3 * 2 * 4).fill(10) };
    const out = overlayHeatmap(rgba, { width: 1, height: 1, data: Float32Array.from([1]) }, { alpha: 1 });
    expect(out.width).toBe(3);
    expect(out.height).toBe(2);
    for (let p = 0; p < 6; p++)
      expect(Array.from(out.data.subarray(4 * p, 4 * p + 4))).toEqual([253, 231, 37, 255]);
  });

  it('rejects bad images and options', () => {
    expect(() => overlayHeatmap({ width: 2, height: 2, data: new Uint8Array(10) }, map)).toThrow(
      /overlayHeatmap image: 10 values for 2×2 pixels, expected 12 \(RGB\) or 16 \(RGBA\)/,
    );
    expect(() => overlayHeatmap(image, map, { alpha: 2 })).toThrow(/alpha/);
  });
});

describe('symbolOverlays', () => {
  it('gives one overlay per symbol, at the image size', () => {
    const maps = symbolAttentionMaps(
      { data: [0, 1, 1, 0, 0, 0, 1, 1], shape: [1, 1, 2, 4] },
      { grid: [2, 2] },
    );
    const img = { width: 4, height: 4, data: new Uint8Array(4 * 4 * 3) };
    const overlays = symbolOverlays(img, maps, 0, { alpha: 1 });
    expect(overlays).toHaveLength(2);
    // symbol 1 attends to the bottom row: top-left pixel is viridis(0), bottom-left viridis(1)
    expect(Array.from(overlays[1].data.subarray(0, 3))).toEqual([68, 1, 84]);
    expect(Array.from(overlays[1].data.subarray(12 * 4, 12 * 4 + 3))).toEqual([253, 231, 37]);
  });
});
