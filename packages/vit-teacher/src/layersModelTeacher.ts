import { closest } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import {
  assertImages,
  IDENTITY_NORMALIZATION,
  type PixelNormalization,
  preprocessImages,
} from './preprocess';
import type { Teacher, TeacherDims, TeacherOutput } from './teacher';

/** A symbolic tensor of a layers model, as much of it as is needed here. */
interface SymbolicTensorLike {
  name: string;
}

/**
 * The part of a TF.js `LayersModel` (from `@tensorflow/tfjs-layers` / `tf.loadLayersModel`) that
 * this teacher uses, typed structurally so this package needs no dependency on tfjs-layers.
 */
export interface LayersModelLike {
  readonly name: string;
  readonly layers: readonly { name: string }[];
  getLayer(name: string): { name: string; output: SymbolicTensorLike | SymbolicTensorLike[] };
  /** Runs the model up to the named symbolic tensors. */
  execute(inputs: tf.Tensor, outputs: string): tf.Tensor | tf.Tensor[];
  dispose(): unknown;
}

export interface LayersModelTeacherOptions {
  /** The layer whose output [B, h, w, C] gives the tokens. */
  layer: string;
  /** Side of the square images fed to the model (images are resized bilinearly). */
  inputSize: number;
  /** Pixel normalisation after resizing (default: none, [0, 1] pixels). */
  normalization?: PixelNormalization;
  id?: string;
}

/**
 * Any TF.js layers model as a teacher: the cells of one layer's feature map become the tokens
 * [B, h·w, C] (row-major), their mean is `pooled` [B, C] (a global average pool). The model is
 * run only up to that layer, so models with a fixed classifier accept other input sizes.
 * `dispose()` disposes the wrapped model.
 */
export class LayersModelTeacher implements Teacher {
  readonly id: string;
  readonly inputSize: number;
  readonly dims: TeacherDims;
  readonly normalization: PixelNormalization;
  private readonly outputName: string;

  constructor(
    readonly model: LayersModelLike,
    opts: LayersModelTeacherOptions,
  ) {
    if (!Number.isInteger(opts.inputSize) || opts.inputSize <= 0) {
      throw new Error(`LayersModelTeacher: inputSize must be a positive integer, got ${opts.inputSize}`);
    }
    this.inputSize = opts.inputSize;
    this.normalization = opts.normalization ?? IDENTITY_NORMALIZATION;
    const layerNames = model.layers.map((l) => l.name);
    if (!layerNames.includes(opts.layer)) {
      const guess = closest(opts.layer, layerNames);
      throw new Error(
        `LayersModelTeacher: model '${model.name}' has no layer '${opts.layer}'` +
          (guess ? ` (did you mean '${guess}'?)` : ` (its last layers: ${layerNames.slice(-5).join(', ')})`),
      );
    }
    const output = model.getLayer(opts.layer).output;
    if (Array.isArray(output)) {
      throw new Error(`LayersModelTeacher: layer '${opts.layer}' has ${output.length} outputs, expected one`);
    }
    this.outputName = output.name;
    this.id = opts.id ?? `${model.name}/${opts.layer}@${opts.inputSize}`;
    // The grid depends on the input size (strides, padding): measure it once on a blank image.
    const shape = tf.tidy(() => this.featureMap(tf.zeros([1, this.inputSize, this.inputSize, 3])).shape);
    if (shape.length !== 4) {
      throw new Error(
        `LayersModelTeacher: layer '${opts.layer}' outputs shape [${shape.join(', ')}], expected a feature map [batch, h, w, channels]`,
      );
    }
    const [, h, w, c] = shape;
    this.dims = { tokenDim: c, pooledDim: c, grid: [h, w], numTokens: h * w };
  }

  forward(images: tf.Tensor4D): TeacherOutput {
    const what = `LayersModelTeacher '${this.id}'`;
    assertImages(images, what);
    return tf.tidy((): TeacherOutput => {
      const x = preprocessImages(images, this.inputSize, this.normalization, what);
      const map = this.featureMap(x);
      const [b, h, w, c] = map.shape;
      const tokens = tf.reshape(map, [b, h * w, c]) as tf.Tensor3D;
      return { tokens, pooled: tf.mean(tokens, 1) as tf.Tensor2D, grid: [h, w] as [number, number] };
    });
  }

  dispose(): void {
    this.model.dispose();
  }

  private featureMap(x: tf.Tensor): tf.Tensor {
    const out = this.model.execute(x, this.outputName);
    return Array.isArray(out) ? out[0] : out;
  }
}
