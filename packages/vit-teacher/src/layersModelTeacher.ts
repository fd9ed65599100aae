import { closest } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { type ChainLayerLike, FoldedConvChain } from './foldedConvChain';
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
  /** Full tfjs-layers layers (class name, config, weights, inbound nodes) allow the folded fast path. */
  readonly layers: readonly ({ name: string } | ChainLayerLike)[];
  getLayer(name: string): { name: string; output: SymbolicTensorLike | SymbolicTensorLike[] };
  /** Runs the model up to the named symbolic tensors (one tensor per name, in order, for a list). */
  execute(inputs: tf.Tensor, outputs: string | string[]): tf.Tensor | tf.Tensor[];
  dispose(): unknown;
}

export interface LayersModelTeacherOptions {
  /** The layer whose output [B, h, w, C] gives the tokens. */
  layer: string;
  /**
   * The layer whose global average pool gives `pooled` (default: `layer`). Lets a finer, earlier layer
   * give the tokens while a deeper one gives the pooled feature; one model execution computes both.
   */
  pooledLayer?: string;
  /** Side of the square images fed to the model (images are resized bilinearly). */
  inputSize: number;
  /** Pixel normalisation after resizing (default: none, [0, 1] pixels). */
  normalization?: PixelNormalization;
  id?: string;
  /**
   * Fold each `convolution → batch-norm → ReLU/ReLU6` block into one fused convolution when the model up
   * to the requested layers is such a chain (MobileNet is), instead of running it layer by layer.
   * Same values up to float rounding, about twice as fast on wasm. Default true; other models, or
   * `false`, run layer by layer (`teacher.execution` says which, `teacher.foldReason` why not folded).
   */
  fold?: boolean;
}

/**
 * Any TF.js layers model as a teacher: the cells of one layer's feature map become the tokens
 * [B, h·w, C] (row-major), and the global average pool of `pooledLayer`'s map (by default the same
 * layer, i.e. the tokens' mean) is `pooled` [B, C']. The model is run only up to those layers, so
 * models with a fixed classifier accept other input sizes. `dispose()` disposes the wrapped model.
 */
export class LayersModelTeacher implements Teacher {
  readonly id: string;
  readonly inputSize: number;
  readonly dims: TeacherDims;
  readonly normalization: PixelNormalization;
  /** The layers giving the tokens and the pooled feature (equal unless `pooledLayer` was given). */
  readonly layers: { tokens: string; pooled: string };
  /** Grid [h, w] of the pooled layer's map before averaging (equals `dims.grid` for one layer). */
  readonly pooledGrid: [number, number];
  /** Symbolic output names to execute: the tokens' first, the pooled layer's second when it differs. */
  private readonly outputNames: string[];
  /** How the model runs: its convolution blocks folded into fused kernels, or layer by layer. */
  readonly execution: 'folded' | 'layers';
  /** Why the model runs layer by layer (`fold: false`, or what the folding could not handle). */
  readonly foldReason?: string;
  private readonly chain?: FoldedConvChain;
  private readonly chainOutputs: string[];

  constructor(
    readonly model: LayersModelLike,
    opts: LayersModelTeacherOptions,
  ) {
    if (!Number.isInteger(opts.inputSize) || opts.inputSize <= 0) {
      throw new Error(`LayersModelTeacher: inputSize must be a positive integer, got ${opts.inputSize}`);
    }
    this.inputSize = opts.inputSize;
    this.normalization = opts.normalization ?? IDENTITY_NORMALIZATION;
    const pooledLayer = opts.pooledLayer ?? opts.layer;
    this.layers = { tokens: opts.layer, pooled: pooledLayer };
    this.outputNames = [outputName(model, opts.layer, 'layer')];
    if (pooledLayer !== opts.layer) this.outputNames.push(outputName(model, pooledLayer, 'pooledLayer'));
    this.id = opts.id ?? `${model.name}/${layersId(opts.layer, pooledLayer)}@${opts.inputSize}`;
    this.chainOutputs = pooledLayer === opts.layer ? [opts.layer] : [opts.layer, pooledLayer];
    const compiled =
      opts.fold === false
        ? { reason: 'fold: false' }
        : isChain(model.layers)
          ? FoldedConvChain.compile(model.layers, this.chainOutputs)
          : { reason: 'the model does not expose its layers (class, config, weights)' };
    if ('chain' in compiled) this.chain = compiled.chain;
    else this.foldReason = compiled.reason;
    this.execution = this.chain ? 'folded' : 'layers';
    // The grids depend on the input size (strides, padding): measure them once on a blank image.
    const [tokenShape, pooledShape] = tf.tidy(() => {
      const [map, pooledMap] = this.featureMaps(tf.zeros([1, this.inputSize, this.inputSize, 3]));
      return [map.shape, pooledMap.shape];
    }) as [number[], number[]];
    for (const [shape, name] of [
      [tokenShape, opts.layer],
      [pooledShape, pooledLayer],
    ] as const) {
      if (shape.length !== 4) {
        throw new Error(
          `LayersModelTeacher: layer '${name}' outputs shape [${shape.join(', ')}], expected a feature map [batch, h, w, channels]`,
        );
      }
    }
    const [, h, w, c] = tokenShape;
    this.pooledGrid = [pooledShape[1], pooledShape[2]];
    this.dims = { tokenDim: c, pooledDim: pooledShape[3], grid: [h, w], numTokens: h * w };
  }

  forward(images: tf.Tensor4D): TeacherOutput {
    const what = `LayersModelTeacher '${this.id}'`;
    assertImages(images, what);
    return tf.tidy((): TeacherOutput => {
      const x = preprocessImages(images, this.inputSize, this.normalization, what);
      const [map, pooledMap] = this.featureMaps(x);
      const [b, h, w, c] = map.shape;
      const tokens = tf.reshape(map, [b, h * w, c]) as tf.Tensor3D;
      const pooled = (pooledMap === map ? tf.mean(tokens, 1) : tf.mean(pooledMap, [1, 2])) as tf.Tensor2D;
      return { tokens, pooled, grid: [h, w] as [number, number] };
    });
  }

  dispose(): void {
    this.chain?.dispose();
    this.model.dispose();
  }

  /** [token map, pooled map] from one execution; the same tensor twice when one layer gives both. */
  private featureMaps(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
    if (this.chain) {
      const maps = this.chain.execute(x as tf.Tensor4D, this.chainOutputs);
      return [maps[0], maps[maps.length - 1]];
    }
    const out = this.model.execute(x, this.outputNames);
    const maps = Array.isArray(out) ? out : [out];
    return [maps[0], maps[maps.length - 1]];
  }
}

function isChain(layers: LayersModelLike['layers']): layers is readonly ChainLayerLike[] {
  return layers.every(
    (l) =>
      typeof (l as ChainLayerLike).getClassName === 'function' &&
      Array.isArray((l as ChainLayerLike).weights),
  );
}

/** `layer`, or `layer+pooled:pooledLayer` when they differ: the layer part of a teacher id (it keys feature caches). */
export function layersId(layer: string, pooledLayer: string = layer): string {
  return pooledLayer === layer ? layer : `${layer}+pooled:${pooledLayer}`;
}

/** The symbolic output name of `layer`, or an error naming the option and the closest layer name. */
function outputName(model: LayersModelLike, layer: string, option: 'layer' | 'pooledLayer'): string {
  const layerNames = model.layers.map((l) => l.name);
  if (!layerNames.includes(layer)) {
    const guess = closest(layer, layerNames);
    const what = option === 'layer' ? '' : ` for ${option}`;
    throw new Error(
      `LayersModelTeacher: model '${model.name}' has no layer '${layer}'${what}` +
        (guess ? ` (did you mean '${guess}'?)` : ` (its last layers: ${layerNames.slice(-5).join(', ')})`),
    );
  }
  const output = model.getLayer(layer).output;
  if (Array.isArray(output)) {
    throw new Error(`LayersModelTeacher: layer '${layer}' has ${output.length} outputs, expected one`);
  }
  return output.name;
}
