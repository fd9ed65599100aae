import type * as tf from '@tensorflow/tfjs-core';
import type { DiscretizeOptions, Discretizer, DiscretizerOutput } from './discretizer';
import { oneHotFloat } from './ops';
import { resolveTemperature, type Temperature, temperatureSchedule } from './schedule';

/**
 * What the logit discretizers (temperature softmax, Gumbel-softmax) share: V logits in, a one-hot
 * over V out, and a temperature that is a constant or a schedule of the training step.
 */
export abstract class LogitDiscretizer implements Discretizer {
  readonly emits = 'one-hot';
  private readonly temperature: number | ((step: number) => number);

  constructor(
    readonly numCodes: number,
    temperature: Temperature,
    /** The class name, for error messages. */
    protected readonly what: string,
  ) {
    this.temperature = typeof temperature === 'number' ? temperature : temperatureSchedule(temperature);
  }

  get inputDim(): number {
    return this.numCodes;
  }

  get outputDim(): number {
    return this.numCodes;
  }

  /** The temperature used at `step` (for logging). */
  temperatureAt(step?: number): number {
    return resolveTemperature(this.temperature, step, this.what);
  }

  abstract discretize(logits: tf.Tensor, opts?: DiscretizeOptions): DiscretizerOutput;

  /** Hard one-hots [..., V] (float32) of int32 symbol ids [...]. */
  lookup(indices: tf.Tensor): tf.Tensor {
    if (indices.dtype !== 'int32') {
      throw new Error(`${this.what}.lookup: indices must be int32, got ${indices.dtype}`);
    }
    return oneHotFloat(indices, this.numCodes);
  }

  dispose(): void {}
}
