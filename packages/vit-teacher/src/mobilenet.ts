import { type LayersModelLike, LayersModelTeacher, layersId } from './layersModelTeacher';
import { SIGNED_UNIT_NORMALIZATION } from './preprocess';

/** Google's ImageNet MobileNetV1 α = 0.75 at 224 px as a TF.js layers model (tfjs-models, Apache-2.0). */
export const MOBILENET_V1_075_URL =
  'https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_0.75_224/model.json';

export interface MobilenetTeacherOptions {
  /** The loaded model, e.g. `await tf.loadLayersModel(MOBILENET_V1_075_URL)`. */
  model: LayersModelLike;
  /** Input side in pixels; 128 gave the best k-NN accuracy on CIFAR-10 (73.6% vs 68.3% at 224). */
  inputSize?: number;
  /** Feature layer (default the last pointwise block, 768 channels for α = 0.75). */
  layer?: string;
  /**
   * Layer whose global average pool is `pooled` (default `layer`). E.g. tokens from the stride-16
   * `conv_pw_11_relu` (8×8 at 128 px, 384 channels) and pooled from `conv_pw_13_relu` (768).
   */
  pooledLayer?: string;
  /** Fold batch-norm and ReLU6 into fused convolutions (default true; see `LayersModelTeacherOptions.fold`). */
  fold?: boolean;
}

/** MobileNetV1 as a teacher: `conv_pw_13_relu` cells as tokens, pixels mapped to [−1, 1]. */
export function mobilenetTeacher(opts: MobilenetTeacherOptions): LayersModelTeacher {
  const inputSize = opts.inputSize ?? 128;
  const layer = opts.layer ?? 'conv_pw_13_relu';
  const pooledLayer = opts.pooledLayer ?? layer;
  return new LayersModelTeacher(opts.model, {
    layer,
    pooledLayer,
    inputSize,
    normalization: SIGNED_UNIT_NORMALIZATION,
    fold: opts.fold,
    id: `mobilenet_v1_0.75/${layersId(layer, pooledLayer)}@${inputSize}`,
  });
}
