export { assertFinite, assertLastDim, assertPositive, assertRank } from './assert';
export {
  type Checkpoint,
  type CheckpointJson,
  decodeCheckpoint,
  encodeCheckpoint,
} from './checkpoint';
export { closest, parseConfig } from './config';
export { float16ToFloat32, float32ToFloat16, floatToHalf } from './float16';
export { requireGradients, TRAINING_GRADIENT_KERNELS } from './gradient-kernels';
export { noGrad, stopGradient } from './gradients';
export type { Initializer } from './init';
export * as init from './init';
export { gelu } from './layers/activations';
export {
  type AttentionOptions,
  type AttentionResult,
  type KVCache,
  MultiHeadAttention,
} from './layers/attention';
export {
  DinoHead,
  type DinoHeadConfig,
  type DinoHeadConfigInput,
  dinoHeadConfigSchema,
} from './layers/dinoHead';
export { EncoderBlock, type EncoderBlockOptions } from './layers/encoderBlock';
export { LayerNorm } from './layers/layerNorm';
export { Linear, type LinearOptions } from './layers/linear';
export { Mlp } from './layers/mlp';
export { addChannels, type DenseOptions, dense, matMul, mulChannels, sumLeading, swapLast } from './matmul';
export { l2Normalize } from './normalize';
export * from './optim';
export { type HostTensor, ParamScope, ParamStore, sameShape } from './params';
export { Rng } from './rng';
export { readSafetensors, type SafetensorsFile, writeSafetensors } from './safetensors';
export { installWasmZeroCopyKernels, uninstallWasmZeroCopyKernels } from './wasm-zero-copy';
