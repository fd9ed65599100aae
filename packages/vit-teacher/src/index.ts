export { type FetchBytesOptions, fetchBytes, type ProgressCallback } from './fetchBytes';
export {
  type ChainLayerLike,
  FoldedConvChain,
  type FoldedStep,
  type LayerWeightLike,
} from './foldedConvChain';
export {
  type LayersModelLike,
  LayersModelTeacher,
  type LayersModelTeacherOptions,
} from './layersModelTeacher';
export { type LoadVisionTransformerOptions, loadVisionTransformer } from './loadVit';
export { MOBILENET_V1_075_URL, type MobilenetTeacherOptions, mobilenetTeacher } from './mobilenet';
export {
  IDENTITY_NORMALIZATION,
  IMAGENET_NORMALIZATION,
  type PixelNormalization,
  SIGNED_UNIT_NORMALIZATION,
} from './preprocess';
export type { Teacher, TeacherDims, TeacherForwardOptions, TeacherOutput } from './teacher';
export { VisionTransformer, type VisionTransformerOptions } from './vit';
export {
  VIT_PRESETS,
  type ViTConfig,
  type ViTConfigInput,
  type ViTPresetName,
  vitConfig,
} from './vitConfig';
export type { WeightNaming } from './weightNames';
