export {
  assertWritableFolder,
  sweepStaleTempFiles,
  writeFileAtomic,
  writeJsonAtomic,
} from './atomic-write';
export {
  type AugmentationConfig,
  type AugmentationConfigInput,
  augmentationSchema,
  DINO_GLOBAL_VIEW_1,
  DINO_GLOBAL_VIEW_2,
  DINO_LOCAL_VIEW,
  parseAugmentationConfig,
} from './augment/config';
export { DinoAugmentation } from './augment/dino-augmentation';
export {
  CIFAR10_CLASSES,
  CIFAR10_RECORD_BYTES,
  type Cifar10Split,
  cifar10BatchFiles,
  openCifar10Binary,
} from './datasets/cifar10-binary';
export { type DownloadCifar10Options, downloadCifar10 } from './datasets/download-cifar10';
export {
  batchToTensor,
  type ImageBatch,
  type ImageDataset,
  InMemoryImageDataset,
  type LoadOptions,
  type PixelStore,
} from './datasets/image-dataset';
export {
  describeSkipped,
  IMAGE_EXTENSIONS,
  ImageFolderDataset,
  type ImageFolderOptions,
  openImageFolder,
  type SkippedFile,
} from './datasets/image-folder';
export {
  CIFAR10_MD5,
  CIFAR10_URL,
  type Cifar10Source,
  type OpenCifar10Options,
  openCifar10,
  type ResolveCifar10Options,
  resolveCifar10,
} from './datasets/resolve-cifar10';
export {
  type BuildFeatureCacheResult,
  buildFeatureCache,
  type ComputedFeatureShard,
  computeFeatureShard,
  FeatureCache,
  type FeatureCacheKey,
  type FeatureCacheManifest,
  type FeatureCacheOptions,
  type FeatureDtype,
  type FeatureShardExecutor,
  type FeatureShardPlan,
  type Featurizer,
  loadFeatureCache,
  mergeFeatureCache,
  openFeatureCache,
  shardsOfPart,
} from './features/feature-cache';
export { decodeImage, decodeImageFile, type ImageFormat, sniffImageFormat } from './image/decode';
export { resizeRgb } from './image/resize';
export type { RgbImage } from './image/rgb-image';
export { fileSystemModelHandler } from './io/file-system-handler';
export { createProgress, type Progress, type ProgressOptions } from './progress';
