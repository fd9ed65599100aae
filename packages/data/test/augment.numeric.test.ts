import { Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { gaussianBlur } from '../src/augment/blur';
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  randomGrayscale,
  solarize,
} from '../src/augment/color';
import { DINO_GLOBAL_VIEW_2, DINO_LOCAL_VIEW, parseAugmentationConfig } from '../src/augment/config';
import { DinoAugmentation } from '../src/augment/dino-augmentation';
import type { ViewParams } from '../src/augment/sample';
import { maxAbsDiff, reference } from './helpers';

/** Deterministic test images [b, h, w, 3] in [0, 1]. */
function images(b: number, h: number, w: number): tf.Tensor4D {
  const n = b * h * w * 3;
  return tf.tensor4d(
    Float32Array.from({ length: n }, (_, i) => (Math.sin(i * 0.7) + 1) / 2),
    [b, h, w, 3],
  );
}

const NO_COLOUR = { colorJitter: { p: 0 }, grayscaleP: 0, blur: { p: 0 }, solarize: { p: 0 } };
const plain = (crop: ViewParams['crop'], flip = false): ViewParams => ({
  crop,
  flip,
  jitter: null,
  grayscale: false,
  blurSigma: 0,
  solarize: false,
});

describe('augmentation config', () => {
  it("defaults to DINO's first global crop and has the other two views as presets", () => {
    const c = parseAugmentationConfig({});
    expect(c).toEqual({
      size: 224,
      scale: [0.4, 1],
      ratio: [3 / 4, 4 / 3],
      flipP: 0.5,
      colorJitter: { p: 0.8, brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1 },
      grayscaleP: 0.2,
      blur: { p: 1, sigma: [0.1, 2] },
      solarize: { p: 0, threshold: 128 / 255 },
    });
    const g2 = parseAugmentationConfig(DINO_GLOBAL_VIEW_2);
    expect([g2.blur.p, g2.solarize.p]).toEqual([0.1, 0.2]);
    const local = parseAugmentationConfig(DINO_LOCAL_VIEW);
    expect([local.size, local.scale, local.blur.p]).toEqual([96, [0.05, 0.4], 0.5]);
  });

  it('names bad fields', () => {
    expect(() => parseAugmentationConfig({ scale: [0.9, 0.2] })).toThrow(
      /scale: expected \[min, max\] area fraction with min <= max/,
    );
    expect(() => parseAugmentationConfig({ scale: [0.2, 1.5] })).toThrow(
      /scale: expected area fractions within \(0, 1\]/,
    );
    expect(() => parseAugmentationConfig({ flip: 0.5 })).toThrow(
      /flip: unknown key \(did you mean 'flipP'\?\)/,
    );
    expect(() => parseAugmentationConfig({ colorJitter: { p: 1.5 } })).toThrow(/colorJitter\.p:/);
    expect(() => new DinoAugmentation({ size: 0 })).toThrow(/invalid augmentation config:\n {2}size:/);
  });
});

describe('DinoAugmentation', () => {
  it('gives the same views for the same seed and different ones for another seed', () => {
    const aug = new DinoAugmentation({ size: 12, solarize: { p: 0.5 } });
    const x = images(4, 16, 16);
    const a = aug.apply(x, new Rng(7));
    const b = aug.apply(x, new Rng(7));
    const c = aug.apply(x, new Rng(8));
    expect(a.shape).toEqual([4, 12, 12, 3]);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(maxAbsDiff(a.dataSync(), c.dataSync())).toBeGreaterThan(0.05);
    const v = a.dataSync();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    tf.dispose([x, a, b, c]);
  });

  it('is the identity with zero probabilities and a full crop at the input size', () => {
    const aug = new DinoAugmentation({ size: 8, scale: [1, 1], ratio: [1, 1], flipP: 0, ...NO_COLOUR });
    const x = images(3, 8, 8);
    const y = aug.apply(x, new Rng(1));
    expect(maxAbsDiff(y.dataSync(), x.dataSync())).toBeLessThan(1e-6);
    tf.dispose([x, y]);
  });

  it('falls back to a centre crop like torchvision when no try fits', () => {
    const aug = new DinoAugmentation({ scale: [1, 1], ratio: [1, 1] });
    // A 6x10 image has no square crop of area 60: centre 6x6 at column 2.
    expect(aug.sample(1, 6, 10, new Rng(0))[0].crop).toEqual({ top: 0, left: 2, height: 6, width: 6 });
  });

  it('crops the requested rectangle exactly and flips it horizontally', () => {
    const aug = new DinoAugmentation({ size: 4 });
    const x = images(1, 7, 6);
    const src = x.arraySync()[0];
    const crop = { top: 2, left: 1, height: 4, width: 4 };
    const y = aug.applyParams(x, [plain(crop)]).arraySync()[0];
    const f = aug.applyParams(x, [plain(crop, true)]).arraySync()[0];
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        for (let c = 0; c < 3; c++) {
          expect(y[i][j][c]).toBeCloseTo(src[2 + i][1 + j][c], 6);
          expect(f[i][j][c]).toBeCloseTo(src[2 + i][1 + 3 - j][c], 6);
        }
      }
    }
    x.dispose();
  });

  it('flips every image when flipP is 1', () => {
    const aug = new DinoAugmentation({ size: 5, scale: [1, 1], ratio: [1, 1], flipP: 1, ...NO_COLOUR });
    const x = images(2, 5, 5);
    const expected = tf.reverse(x, 2);
    const y = aug.apply(x, new Rng(3));
    expect(maxAbsDiff(y.dataSync(), expected.dataSync())).toBeLessThan(1e-6);
    tf.dispose([x, y, expected]);
  });

  it('samples crops inside the scale and ratio ranges and flips about half the time', () => {
    const aug = new DinoAugmentation({ scale: [0.2, 0.6] });
    const params = aug.sample(2000, 100, 120, new Rng(11));
    for (const { crop } of params) {
      const area = (crop.height * crop.width) / 12000;
      expect(area).toBeGreaterThan(0.2 - 0.02); // rounding of the sides
      expect(area).toBeLessThan(0.6 + 0.02);
      expect(crop.width / crop.height).toBeGreaterThan(0.75 * 0.95);
      expect(crop.width / crop.height).toBeLessThan((4 / 3) * 1.05);
      expect(crop.top + crop.height).toBeLessThanOrEqual(100);
      expect(crop.left + crop.width).toBeLessThanOrEqual(120);
    }
    const flips = params.filter((p) => p.flip).length;
    expect(flips).toBeGreaterThan(900);
    expect(flips).toBeLessThan(1100);
    const jittered = params.filter((p) => p.jitter).length;
    expect(jittered / 2000).toBeCloseTo(0.8, 1);
    const hues = params.flatMap((p) => (p.jitter ? [p.jitter.hue] : []));
    expect(Math.max(...hues)).toBeLessThanOrEqual(0.1);
    expect(Math.min(...hues)).toBeGreaterThanOrEqual(-0.1);
  });

  it('applies the jitter operations in each image’s own order', () => {
    const aug = new DinoAugmentation({ size: 6 });
    const x = images(2, 6, 6);
    const full = { top: 0, left: 0, height: 6, width: 6 };
    const factors = { brightness: 1.3, contrast: 0.6, saturation: 1.2, hue: 0.07 };
    const params: ViewParams[] = [
      { ...plain(full), jitter: { order: [0, 1, 2, 3], ...factors } },
      { ...plain(full), jitter: { order: [3, 1, 0, 2], ...factors } },
    ];
    const y = aug.applyParams(x, params);
    // Reference: each image alone, the single operations called one after another.
    const ops = [
      (t: tf.Tensor4D) => adjustBrightness(t, [1.3]),
      (t: tf.Tensor4D) => adjustContrast(t, [0.6]),
      (t: tf.Tensor4D) => adjustSaturation(t, [1.2]),
      (t: tf.Tensor4D) => adjustHue(t, [0.07]),
    ];
    for (let b = 0; b < 2; b++) {
      let ref = tf.slice(x, [b, 0, 0, 0], [1, 6, 6, 3]) as tf.Tensor4D;
      for (const k of params[b].jitter!.order) ref = ops[k](ref);
      const got = tf.slice(y, [b, 0, 0, 0], [1, 6, 6, 3]);
      expect(maxAbsDiff(got.dataSync(), ref.dataSync())).toBeLessThan(1e-5);
    }
    // The two orders really give different images.
    const d = tf.sub(tf.slice(y, [0], [1]), tf.slice(y, [1], [1]));
    expect(tf.max(tf.abs(d)).dataSync()[0]).toBeGreaterThan(1e-3);
  });

  it('keeps the tensor count flat', () => {
    const aug = new DinoAugmentation({ size: 8, solarize: { p: 0.5 } });
    const x = images(3, 10, 10);
    const rng = new Rng(5);
    tf.dispose(aug.apply(x, rng));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(aug.apply(x, rng));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('colour operations', () => {
  // Two pixels of one image; created per test because the backend is ready only inside tests.
  const pixels = () => tf.tensor4d([0.2, 0.5, 0.9, 0.6, 0.1, 0.3], [1, 1, 2, 3]);

  it('grayscale uses the 0.299 / 0.587 / 0.114 luma weights, per image', () => {
    const px = pixels();
    const x = tf.concat([px, px]) as tf.Tensor4D;
    const y = randomGrayscale(x, [true, false]).dataSync();
    const g0 = 0.299 * 0.2 + 0.587 * 0.5 + 0.114 * 0.9;
    const g1 = 0.299 * 0.6 + 0.587 * 0.1 + 0.114 * 0.3;
    for (const [i, v] of [g0, g0, g0, g1, g1, g1].entries()) expect(y[i]).toBeCloseTo(v, 6);
    expect(Array.from(y.slice(6))).toEqual(Array.from(px.dataSync()));
  });

  it('solarises values at or above the threshold, only in masked images', () => {
    const x = tf.tensor4d([0.5, 128 / 255, 0.6, 1, 0, 0.7], [2, 1, 1, 3]);
    const y = solarize(x, [true, false], 128 / 255).dataSync();
    expect(y[0]).toBeCloseTo(0.5, 6); // 0.5 < 128/255
    expect(y[1]).toBeCloseTo(1 - 128 / 255, 6); // at the threshold: inverted
    expect(y[2]).toBeCloseTo(0.4, 6);
    expect(Array.from(y.slice(3))).toEqual(Array.from(x.dataSync().slice(3)));
  });

  it('brightness, contrast and saturation blend as hand-computed', () => {
    const px = pixels();
    const b = adjustBrightness(px, [1.5]).dataSync();
    for (const [i, v] of [0.3, 0.75, 1, 0.9, 0.15, 0.45].entries()) expect(b[i]).toBeCloseTo(v, 6);
    const g = [0.299 * 0.2 + 0.587 * 0.5 + 0.114 * 0.9, 0.299 * 0.6 + 0.587 * 0.1 + 0.114 * 0.3];
    const mean = (g[0] + g[1]) / 2;
    const c = adjustContrast(px, [0.5]).dataSync();
    for (const [i, v] of [0.2, 0.5, 0.9, 0.6, 0.1, 0.3].entries())
      expect(c[i]).toBeCloseTo(0.5 * v + 0.5 * mean, 6);
    const s = adjustSaturation(px, [2]).dataSync();
    [0.2, 0.5, 0.9, 0.6, 0.1, 0.3].forEach((v, i) => {
      expect(s[i]).toBeCloseTo(Math.min(1, Math.max(0, 2 * v - g[Math.floor(i / 3)])), 6);
    });
  });

  it('rotates hue like colorsys (HSV)', () => {
    const { shape, input, shifts, output } = reference.hue;
    const y = adjustHue(tf.tensor4d(input, shape), shifts);
    expect(maxAbsDiff(y.dataSync(), output)).toBeLessThan(1e-5);
  });
});

describe('gaussianBlur', () => {
  it('spreads a point into the outer product of the hand-computed kernel', () => {
    const n = 11;
    const x = tf.buffer([1, n, n, 3]);
    for (let c = 0; c < 3; c++) x.set(1, 0, 5, 5, c);
    const y = gaussianBlur(x.toTensor() as tf.Tensor4D, [1]).arraySync()[0];
    // sigma 1, radius 3: taps e^{-d²/2} for d = -3..3, normalised by their sum.
    const raw = [-3, -2, -1, 0, 1, 2, 3].map((d) => Math.exp(-(d * d) / 2));
    const sum = raw.reduce((a, b) => a + b);
    const k = raw.map((v) => v / sum);
    expect(k[3]).toBeCloseTo(0.39905, 4);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const di = i - 5;
        const dj = j - 5;
        const expected = Math.abs(di) <= 3 && Math.abs(dj) <= 3 ? k[di + 3] * k[dj + 3] : 0;
        for (let c = 0; c < 3; c++) expect(y[i][j][c]).toBeCloseTo(expected, 6);
      }
    }
  });

  it('uses each image’s own sigma, leaves sigma 0 alone and keeps flat images flat', () => {
    const x = images(3, 9, 9);
    const flat = tf.fill([1, 9, 9, 3], 0.3) as tf.Tensor4D;
    const y = gaussianBlur(tf.concat([x, flat]) as tf.Tensor4D, [0, 2, 0.5, 1.5]);
    const parts = tf.split(y, 4);
    expect(maxAbsDiff(parts[0].dataSync(), tf.slice(x, [0], [1]).dataSync())).toBeLessThan(1e-6);
    const alone = gaussianBlur(tf.slice(x, [1], [1]) as tf.Tensor4D, [2]);
    expect(maxAbsDiff(parts[1].dataSync(), alone.dataSync())).toBeLessThan(1e-5);
    expect(maxAbsDiff(parts[3].dataSync(), flat.dataSync())).toBeLessThan(1e-6);
    // A blur lowers the spread of values.
    const spread = (t: tf.Tensor) => tf.moments(t).variance.dataSync()[0];
    expect(spread(parts[1])).toBeLessThan(spread(tf.slice(x, [1], [1])) * 0.5);
  });
});
