import type { Rng } from '@symseq/nn';
import type { AugmentationConfig } from './config';

/** The random choices for one image's view; drawing them apart from the pixels makes views reproducible and testable. */
export interface ViewParams {
  /** Crop rectangle in source pixels. */
  crop: { top: number; left: number; height: number; width: number };
  flip: boolean;
  /** Colour jitter factors and the order the four operations run in (0 brightness, 1 contrast, 2 saturation, 3 hue); null when not applied. */
  jitter: { order: number[]; brightness: number; contrast: number; saturation: number; hue: number } | null;
  grayscale: boolean;
  /** Gaussian blur standard deviation in output pixels; 0 for no blur. */
  blurSigma: number;
  solarize: boolean;
}

/**
 * Draws the parameters of `count` views of `height`×`width` images, image after image, in the order
 * torchvision's transforms draw them (crop, flip, jitter, grayscale, blur, solarise).
 */
export function sampleViewParams(
  config: AugmentationConfig,
  count: number,
  height: number,
  width: number,
  rng: Rng,
): ViewParams[] {
  const params: ViewParams[] = [];
  for (let b = 0; b < count; b++) {
    const crop = sampleCrop(config, height, width, rng);
    const flip = rng.uniform() < config.flipP;
    let jitter: ViewParams['jitter'] = null;
    const cj = config.colorJitter;
    if (rng.uniform() < cj.p) {
      const order = rng.permutation(4);
      jitter = {
        order,
        brightness: between(rng, Math.max(0, 1 - cj.brightness), 1 + cj.brightness),
        contrast: between(rng, Math.max(0, 1 - cj.contrast), 1 + cj.contrast),
        saturation: between(rng, Math.max(0, 1 - cj.saturation), 1 + cj.saturation),
        hue: between(rng, -cj.hue, cj.hue),
      };
    }
    const grayscale = rng.uniform() < config.grayscaleP;
    const blurSigma =
      rng.uniform() < config.blur.p ? between(rng, config.blur.sigma[0], config.blur.sigma[1]) : 0;
    const solarize = rng.uniform() < config.solarize.p;
    params.push({ crop, flip, jitter, grayscale, blurSigma, solarize });
  }
  return params;
}

/** torchvision `RandomResizedCrop.get_params`: 10 tries at a random area and aspect, else a centre crop. */
function sampleCrop(config: AugmentationConfig, height: number, width: number, rng: Rng): ViewParams['crop'] {
  const area = height * width;
  const [logLo, logHi] = [Math.log(config.ratio[0]), Math.log(config.ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * between(rng, config.scale[0], config.scale[1]);
    const aspect = Math.exp(between(rng, logLo, logHi));
    const w = Math.round(Math.sqrt(targetArea * aspect));
    const h = Math.round(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { top: rng.int(height - h + 1), left: rng.int(width - w + 1), height: h, width: w };
    }
  }
  const inRatio = width / height;
  let [h, w] = [height, width];
  if (inRatio < config.ratio[0]) h = Math.round(width / config.ratio[0]);
  else if (inRatio > config.ratio[1]) w = Math.round(height * config.ratio[1]);
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

function between(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.uniform();
}
