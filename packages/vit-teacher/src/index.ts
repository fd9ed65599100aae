export { bicubicResample, cubicWeights } from './bicubic';
export { DinoHead, type DinoHeadConfig, type DinoHeadConfigInput, dinoHeadConfigSchema } from './dinoHead';
export { type FetchBytesOptions, fetchBytes, type ProgressCallback } from './fetchBytes';
export {
  type LayersModelLike,
  LayersModelTeacher,
  type LayersModelTeacherOptions,
  layersId,
} from './layersModelTeacher';
export {
  type LoadVisionTransformerOptions,
  loadVisionTransformer,
  visionTransformerFromSafetensors,
} from './loadVit';
export { MOBILENET_V1_075_URL, type MobilenetTeacherOptions, mobilenetTeacher } from './mobilenet';
export { interpolatePosEmbed } from './posEmbed';
export {
  assertImages,
  IDENTITY_NORMALIZATION,
  IMAGENET_NORMALIZATION,
  normalizePixels,
  type PixelNormalization,
  preprocessImages,
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
  vitConfigSchema,
} from './vitConfig';
export type { WeightNaming } from './weightNames';
