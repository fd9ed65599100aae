import type * as tf from '@tensorflow/tfjs-core';
import type { DiscretizeOptions, Discretizer, DiscretizerOutput } from './discretizer';
import { resolveTemperature, type Temperature, temperatureSchedule } from './schedule';

/**
 * What the logit discretizers (temperature softmax, Gumbel-softmax) share: V logits in, a one-hot
 * over V out, and a temperature that is a constant or a schedule of the training step.
 */
export abstract class LogitDiscretizer implements Discretizer {
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

  dispose(): void {}
}
