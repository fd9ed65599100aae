export {
  DinoLoss,
  type DinoLossConfig,
  dinoLossConfigSchema,
  type ResolvedDinoLossConfig,
} from './dino-loss';
export {
  DinoObjective,
  type DinoTargets,
  dinoObjective,
  dinoObjectiveConfigSchema,
  prototypeLogits,
} from './dino-objective';
export {
  cosineFeatureLoss,
  type FeatureRegressionConfig,
  FeatureRegressionLoss,
  featureRegressionConfigSchema,
  mseFeatureLoss,
} from './feature-regression';
export { FeaturesObjective, featuresObjective } from './features-objective';
export { LossReadback, type LossValues } from './loss-readback';
export {
  MultiLengthLoss,
  type MultiLengthLossConfig,
  type MultiLengthResult,
  multiLengthLossConfigSchema,
  type PerLength,
} from './multi-length';
export type { FirstSymbolInput, Objective, ObjectiveContext, ObjectiveSpec, TeacherBatch } from './objective';
export { createObjective, OBJECTIVES, type ObjectiveKind } from './objectives';
export {
  ContrastObjective,
  type ContrastObjectiveConfig,
  contrastiveFeatureLoss,
  contrastObjective,
  contrastObjectiveConfigSchema,
  expectedFirstSymbolContrast,
} from './objectives/contrast-objective';
export { softCrossEntropy } from './soft-cross-entropy';
export {
  type SymbolEntropies,
  type SymbolEntropyOptions,
  type SymbolScoreKind,
  symbolEntropies,
} from './symbol-entropy';
export {
  infoMaxLoss,
  SymbolRegularizer,
  type SymbolRegularizerConfig,
  type SymbolRegularizerResult,
  symbolRegularizerConfigSchema,
  usageLoss,
} from './symbol-regularizer';
export { type TeacherTemperatureSchedule, teacherTemperatureAt } from './temperature-schedule';
export { pairedViewLoss, type ViewPairing, viewPairs } from './view-pairing';
