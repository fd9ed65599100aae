export type {
  BatchShard,
  DiscretizeOptions,
  Discretizer,
  DiscretizerEmits,
  DiscretizerOutput,
  DiscretizerStats,
  Mode,
} from './discretizer';
export { FSQ, type FSQConfig, FSQConfigSchema } from './fsq';
export { noGrad, roundStraightThrough, stopGradient, straightThrough } from './gradients';
export {
  GumbelSoftmax,
  type GumbelSoftmaxConfig,
  GumbelSoftmaxConfigSchema,
  type GumbelSoftmaxOptions,
  gumbelSoftmax,
  sampleGumbel,
} from './gumbel-softmax';
export { type KMeansOptions, type KMeansResult, kmeans, nearest } from './kmeans';
export { rotationTrick } from './rotation-trick';
export {
  type Temperature,
  type TemperatureScheduleConfig,
  temperatureSchedule,
} from './schedule';
export { type UsageStats, usageStats } from './stats';
export {
  TemperatureSoftmax,
  type TemperatureSoftmaxConfig,
  TemperatureSoftmaxConfigSchema,
  type TemperatureSoftmaxOptions,
  temperatureSoftmax,
} from './temperature-softmax';
export { VectorQuantizer, type VectorQuantizerConfig, VectorQuantizerConfigSchema } from './vector-quantizer';
