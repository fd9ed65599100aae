// The trainer as a library: what the CLI, the benchmarks (bench/) and tests share.
export { selectBackend } from './backend';
export {
  buildTrainConfig,
  resolveTrainConfig,
  type TrainConfig,
  type TrainConfigInput,
  trainConfigSchema,
} from './config';
export { DataParallel } from './data-parallel';
export { objectiveFor, prototypeHead, studentConfigFor, train } from './train';
export {
  clipByGlobalNorm,
  type StepValues,
  sumInChunks,
  type TrainBatch,
  TrainStep,
  type TrainStepOptions,
} from './train-step';
