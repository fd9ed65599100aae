import type * as tf from '@tensorflow/tfjs-core';

/**
 * What a teacher gives for a batch of images. The caller owns (and disposes) the tensors.
 * (A type alias rather than an interface, so it is a `tf.TensorContainer` and can leave `tf.tidy`.)
 */
export type TeacherOutput = {
  /** Token features [B, N, D]: ViT patch tokens after the final norm, or feature-map cells (row-major). */
  tokens: tf.Tensor3D;
  /** One feature per image [B, D]: the normalised CLS token, or the mean of the cells. */
  pooled: tf.Tensor2D;
  /** Token grid [rows, cols]; rows · cols = N. */
  grid: [number, number];
  /** Last-layer self-attention probabilities [B, heads, N+1, N+1] (index 0 is CLS), when requested and available. */
  attention?: tf.Tensor4D;
};

export interface TeacherForwardOptions {
  /** Also return the last layer's self-attention (ViT only; ignored by teachers without it). */
  attention?: boolean;
}

/** Sizes a teacher produces at its input size, known before any image is seen. */
export interface TeacherDims {
  /** Feature size D of each token. */
  tokenDim: number;
  /** Feature size of `pooled`. */
  pooledDim: number;
  /** Token grid [rows, cols] at the input size. */
  grid: [number, number];
  /** Tokens per image, rows · cols. */
  numTokens: number;
  /** Attention heads of the last layer, for teachers that have attention. */
  heads?: number;
}

/**
 * A frozen visual teacher. Callers pass RGB images [B, H, W, 3] with values in [0, 1] of any size;
 * each teacher resizes them (bilinear) to its `inputSize` and applies its own pixel normalisation.
 */
export interface Teacher {
  /** A short name for logs and caches, e.g. `dino_vits16@224` or `mobilenet_v1_0.75@128`. */
  readonly id: string;
  /** Side of the square images the network sees, in pixels. */
  readonly inputSize: number;
  readonly dims: TeacherDims;
  forward(images: tf.Tensor4D, opts?: TeacherForwardOptions): TeacherOutput;
  /** Frees the teacher's weights. */
  dispose(): void;
}
