import { parseConfig } from '@symseq/nn';
import { z } from 'zod';

const probability = z.number().min(0).max(1);
const range = (lo: number, what: string) =>
  z
    .tuple([z.number().min(lo), z.number().min(lo)])
    .refine(([a, b]) => a <= b, { message: `expected [min, max] ${what} with min <= max` });

/**
 * One DINO view's augmentation pipeline, in application order: random resized crop (+ flip), colour
 * jitter, random grayscale, gaussian blur, solarisation. The defaults are DINO's first global crop
 * (facebookresearch/dino `DataAugmentationDINO`); see `DINO_GLOBAL_VIEW_2` and `DINO_LOCAL_VIEW` for the others.
 */
export const augmentationSchema = z
  .object({
    /** Output side in pixels (square views). */
    size: z.number().int().positive().default(224),
    /** Fraction of the image area the crop covers, [min, max] within (0, 1]. */
    scale: range(0, 'area fraction')
      .refine(([a, b]) => a > 0 && b <= 1, { message: 'expected area fractions within (0, 1]' })
      .default([0.4, 1]),
    /** Crop aspect ratio (width / height) range, sampled log-uniformly. */
    ratio: range(0, 'aspect ratio')
      .refine(([a]) => a > 0, { message: 'expected positive aspect ratios' })
      .default([3 / 4, 4 / 3]),
    /** Probability of a horizontal flip. */
    flipP: probability.default(0.5),
    colorJitter: z
      .object({
        p: probability.default(0.8),
        /** Factor drawn from [max(0, 1 - b), 1 + b]. */
        brightness: z.number().min(0).default(0.4),
        contrast: z.number().min(0).default(0.4),
        saturation: z.number().min(0).default(0.2),
        /** Hue shift drawn from [-h, h], in turns (0.5 = half the colour wheel). */
        hue: z.number().min(0).max(0.5).default(0.1),
      })
      .strict()
      .default({}),
    grayscaleP: probability.default(0.2),
    blur: z
      .object({
        p: probability.default(1),
        /** Standard deviation in output pixels, drawn uniformly from [min, max]. */
        sigma: range(0, 'sigma').default([0.1, 2]),
      })
      .strict()
      .default({}),
    solarize: z
      .object({
        p: probability.default(0),
        /** Values at or above it are inverted (PIL's 128 on the 0..255 scale). */
        threshold: z
          .number()
          .min(0)
          .max(1)
          .default(128 / 255),
      })
      .strict()
      .default({}),
  })
  .strict();

export type AugmentationConfig = z.output<typeof augmentationSchema>;
export type AugmentationConfigInput = z.input<typeof augmentationSchema>;

/** DINO's first global view: blur always, no solarisation (the schema defaults). */
export const DINO_GLOBAL_VIEW_1: AugmentationConfigInput = {};
/** DINO's second global view: blur with p 0.1, solarisation with p 0.2. */
export const DINO_GLOBAL_VIEW_2: AugmentationConfigInput = { blur: { p: 0.1 }, solarize: { p: 0.2 } };
/** DINO's local views: 96 px crops of 5–40 % of the image, blur with p 0.5. */
export const DINO_LOCAL_VIEW: AugmentationConfigInput = { size: 96, scale: [0.05, 0.4], blur: { p: 0.5 } };

export function parseAugmentationConfig(value: unknown): AugmentationConfig {
  return parseConfig(augmentationSchema, value, 'augmentation config');
}
