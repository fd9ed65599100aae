import {
  type Discretizer,
  FSQ,
  GumbelSoftmax,
  TemperatureSoftmax,
  VectorQuantizer,
} from '@symseq/discretize';
import type { ParamScope, Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import type { DiscretizerConfig } from './config';
import type { Mode, SymbolDiscretizer } from './discretizer';

/**
 * The student's discretizer: a @symseq/discretize class chosen by `config.kind`, plus what the
 * student needs to wire it (whether it emits one-hots, and symbol ids → fed vectors).
 */
export class StudentDiscretizer implements SymbolDiscretizer {
  readonly inner: Discretizer & { lookup?: (indices: tf.Tensor) => tf.Tensor };

  /**
   * Parameters (a VQ codebook and its EMA statistics, FSQ/VQ projections) are registered under
   * `scope`, so they are saved with the student; Gumbel noise draws from `rng`.
   */
  constructor(
    readonly config: DiscretizerConfig,
    vocabSize: number,
    scope: ParamScope,
    /** Noise source (used by Gumbel-softmax); public so a trainer can checkpoint its state. */
    readonly rng: Rng,
  ) {
    // The decoder's logits never come from user data, and a finiteness check reads a value back
    // from the device at every decoder step, so it is off unless the options ask for it.
    const options = { checkFinite: false, ...config.options };
    switch (config.kind) {
      case 'temperature':
        this.inner = new TemperatureSoftmax({ numCodes: vocabSize, ...options });
        break;
      case 'gumbel':
        this.inner = new GumbelSoftmax({ numCodes: vocabSize, rng, ...options });
        break;
      case 'vq':
        this.inner = new VectorQuantizer(scope, {
          dim: config.codeDim ?? 32,
          codebookSize: vocabSize,
          ...options,
        });
        break;
      case 'fsq':
        this.inner = new FSQ({ levels: config.levels!, dim: config.codeDim, ...options }, scope);
        break;
    }
    if (this.inner.numCodes !== vocabSize) {
      throw new Error(
        `Student: discretizer has ${this.inner.numCodes} symbols, expected vocabSize ${vocabSize}`,
      );
    }
  }

  /** One-hots over the symbols (temperature, Gumbel) rather than code vectors (VQ, FSQ). */
  get oneHot(): boolean {
    return this.config.kind === 'temperature' || this.config.kind === 'gumbel';
  }
  get numCodes(): number {
    return this.inner.numCodes;
  }
  get inputDim(): number {
    return this.inner.inputDim;
  }
  get outputDim(): number {
    return this.inner.outputDim;
  }

  discretize(
    x: tf.Tensor,
    opts: { mode?: Mode; step?: number } = {},
  ): { indices: tf.Tensor; output: tf.Tensor; auxLoss: tf.Tensor } {
    return this.inner.discretize(x, opts);
  }

  /** What the discretizer emits for int32 symbol ids [...]: one-hots [..., V] or code vectors [..., D]. */
  lookup(indices: tf.Tensor): tf.Tensor {
    if (indices.dtype !== 'int32') {
      throw new Error(`StudentDiscretizer.lookup: symbol ids must be int32, got ${indices.dtype}`);
    }
    if (this.oneHot) return tf.tidy(() => tf.cast(tf.oneHot(indices, this.numCodes), 'float32'));
    return this.inner.lookup!(indices);
  }

  dispose(): void {
    this.inner.dispose();
  }
}
