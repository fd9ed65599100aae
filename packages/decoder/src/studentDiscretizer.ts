import {
  type Discretizer,
  FSQ,
  GumbelSoftmax,
  TemperatureSoftmax,
  VectorQuantizer,
} from '@symseq/discretize';
import type { ParamScope, Rng } from '@symseq/nn';
import type { DiscretizerConfig } from './config';

/**
 * The @symseq/discretize class named by `config.kind`, with the sizes the student sets: `vocabSize`
 * symbols, a `codeDim`-vector for VQ/FSQ. Parameters (a VQ codebook and its EMA statistics, FSQ/VQ
 * projections) are registered under `scope`, so they are saved with the student; Gumbel noise
 * draws from `rng`.
 */
export function createStudentDiscretizer(
  config: DiscretizerConfig,
  vocabSize: number,
  scope: ParamScope,
  rng: Rng,
): Discretizer {
  // The decoder's logits never come from user data, and a finiteness check reads a value back
  // from the device at every decoder step, so it is off unless the options ask for it.
  const options = { checkFinite: false, ...config.options };
  let discretizer: Discretizer;
  switch (config.kind) {
    case 'temperature':
      discretizer = new TemperatureSoftmax({ numCodes: vocabSize, ...options });
      break;
    case 'gumbel':
      discretizer = new GumbelSoftmax({ numCodes: vocabSize, rng, ...options });
      break;
    case 'vq':
      discretizer = new VectorQuantizer(scope, {
        dim: config.codeDim ?? 32,
        codebookSize: vocabSize,
        ...options,
      });
      break;
    case 'fsq':
      discretizer = new FSQ({ levels: config.levels!, dim: config.codeDim, ...options }, scope);
      break;
  }
  if (discretizer.numCodes !== vocabSize) {
    discretizer.dispose();
    throw new Error(
      `Student: discretizer has ${discretizer.numCodes} symbols, expected vocabSize ${vocabSize}`,
    );
  }
  return discretizer;
}
