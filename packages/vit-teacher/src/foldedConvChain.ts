import * as tf from '@tensorflow/tfjs-core';

/**
 * Inference-time folding of a Keras-style convolution chain (MobileNet's `Conv2D → BatchNormalization →
 * ReLU6` blocks) into one fused convolution per block: the frozen batch-norm becomes the convolution's
 * per-channel scale and bias, and the activation runs inside the convolution kernel.
 *
 * Why: run layer by layer, tfjs-layers executes each block as three to four kernels (convolution,
 * FusedBatchNorm, Relu, Minimum for the clip at 6), each a full pass over the feature map. On the wasm
 * backend the batch-norm and the clip cost more than the convolutions themselves (MobileNetV1 α 0.75 at
 * 128 px, batch 64: convolutions 0.60 s, FusedBatchNorm 0.31 s, Minimum 0.42 s). Folded, only the
 * convolutions remain. The result equals the layer-by-layer model up to float rounding.
 */

/** A weight of a layers model, as much of it as is needed here (tfjs-layers' `LayerVariable`). */
export interface LayerWeightLike {
  readonly name: string;
  /** The name before tfjs-layers made it unique (`conv1/kernel`, where `name` may be `conv1/kernel_5`). */
  readonly originalName?: string;
  readonly shape: readonly (number | null)[];
  read(): tf.Tensor;
}

/** A layer of a layers model, typed structurally so this package needs no tfjs-layers dependency. */
export interface ChainLayerLike {
  readonly name: string;
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  readonly weights: readonly LayerWeightLike[];
  readonly inboundNodes: readonly { inboundLayers: readonly { name: string }[] }[];
}

type Activation = 'linear' | 'relu' | 'relu6';

/** One step of a folded chain. */
export type FoldedStep =
  | {
      kind: 'conv2d' | 'depthwise';
      /** The layers this step computes, first to last (e.g. `conv1`, `conv1_bn`, `conv1_relu`). */
      layers: string[];
      filter: tf.Tensor4D;
      bias: tf.Tensor1D;
      strides: [number, number];
      pad: 'same' | 'valid';
      activation: Activation;
    }
  | { kind: 'pad'; layers: string[]; paddings: [[number, number], [number, number]] }
  /** An activation that could not join a convolution (its input was a requested output). */
  | { kind: 'activation'; layers: string[]; activation: Activation };

/**
 * A model's layers from the input up to the deepest of `outputs`, compiled into fused steps. Owns its
 * folded weights: `dispose()` frees them (the source model is left alone).
 */
export class FoldedConvChain {
  private constructor(
    readonly steps: readonly FoldedStep[],
    /** For each requested output layer, the index of the step after which its value is ready. */
    private readonly outputStep: ReadonlyMap<string, number>,
  ) {}

  /**
   * Compiles the chain, or explains in one line why it cannot (a branch, an unsupported layer or option);
   * callers then run the model layer by layer. `outputs` are layer names; a requested layer's value is
   * never fused away into a later one.
   */
  static compile(
    layers: readonly ChainLayerLike[],
    outputs: readonly string[],
  ): { chain: FoldedConvChain } | { reason: string } {
    const index = new Map(layers.map((l, i) => [l.name, i]));
    const last = Math.max(...outputs.map((o) => index.get(o) ?? Number.POSITIVE_INFINITY));
    if (!Number.isFinite(last)) return { reason: 'an output is not a layer of the model' };
    const wanted = new Set(outputs);
    const steps: FoldedStep[] = [];
    const outputStep = new Map<string, number>();
    const pending: HostConv[] = [];
    try {
      for (let i = 0; i <= last; i++) {
        const layer = layers[i];
        const cls = layer.getClassName();
        const config = layer.getConfig();
        if (i === 0) {
          if (cls !== 'InputLayer')
            return { reason: `first layer '${layer.name}' is a ${cls}, not an InputLayer` };
          if (wanted.has(layer.name)) return { reason: `output '${layer.name}' is the input` };
          continue;
        }
        const inbound = layer.inboundNodes.flatMap((n) => n.inboundLayers.map((l) => l.name));
        if (inbound.length !== 1 || inbound[0] !== layers[i - 1].name) {
          return { reason: `layer '${layer.name}' does not take exactly the previous layer as its input` };
        }
        // A block that is still open (conv + folded BN/activation) absorbs this layer when it can.
        const open = pending[0];
        if (cls === 'BatchNormalization' && open && open.activation === 'linear') {
          foldBatchNorm(open, layer, config);
        } else if (isActivation(cls, config) && open && open.activation === 'linear') {
          open.activation = activationOf(cls, config);
          open.layers.push(layer.name);
        } else if (isActivation(cls, config)) {
          // Its block already has an activation, or ended at a requested output: a step of its own.
          flush(pending, steps);
          steps.push({ kind: 'activation', layers: [layer.name], activation: activationOf(cls, config) });
        } else if (cls === 'Conv2D' || cls === 'DepthwiseConv2D') {
          flush(pending, steps);
          pending.push(hostConv(layer, cls, config));
        } else if (cls === 'ZeroPadding2D') {
          flush(pending, steps);
          steps.push({ kind: 'pad', layers: [layer.name], paddings: zeroPadding(layer.name, config) });
        } else if (cls === 'Dropout') {
          // Identity at inference: attach it to the step before.
          if (open) open.layers.push(layer.name);
          else if (steps.length > 0) steps[steps.length - 1].layers.push(layer.name);
          else return { reason: `layer '${layer.name}' (Dropout) directly follows the input` };
        } else {
          const what =
            cls === 'Activation'
              ? `an Activation (${String(config.activation)})`
              : cls === 'BatchNormalization'
                ? 'a BatchNormalization that does not directly follow a linear convolution'
                : `a ${cls}`;
          return { reason: `layer '${layer.name}' is ${what}, which is not folded` };
        }
        // The value of a requested layer must exist: end its block here.
        if (wanted.has(layer.name)) {
          flush(pending, steps);
          outputStep.set(layer.name, steps.length - 1);
        }
      }
    } catch (e) {
      disposeSteps(steps);
      return { reason: (e as Error).message };
    }
    return { chain: new FoldedConvChain(steps, outputStep) };
  }

  /** Runs the chain on `x` [B, H, W, C]; returns the requested layers' values, in `outputs` order. */
  execute(x: tf.Tensor4D, outputs: readonly string[]): tf.Tensor4D[] {
    return tf.tidy(() => {
      const values: tf.Tensor4D[] = [];
      let h = x;
      for (const step of this.steps) {
        if (step.kind === 'pad') h = tf.pad(h, [[0, 0], ...step.paddings, [0, 0]]);
        else if (step.kind === 'activation') {
          h = step.activation === 'relu' ? tf.relu(h) : step.activation === 'relu6' ? tf.relu6(h) : h;
        } else {
          const conv = step.kind === 'conv2d' ? tf.fused.conv2d : tf.fused.depthwiseConv2d;
          h = conv({
            x: h,
            filter: step.filter,
            bias: step.bias,
            strides: step.strides,
            pad: step.pad,
            activation: step.activation,
          });
        }
        values.push(h);
      }
      return outputs.map((name) => {
        const at = this.outputStep.get(name);
        if (at === undefined) throw new Error(`FoldedConvChain: '${name}' was not compiled as an output`);
        return values[at];
      });
    });
  }

  dispose(): void {
    disposeSteps(this.steps);
  }
}

/** A convolution being folded, its weights on the host in float64. */
interface HostConv {
  kind: 'conv2d' | 'depthwise';
  layers: string[];
  /** [kh, kw, in, outPerIn] for depthwise, [kh, kw, in, out] for conv2d; the last axes index outputs. */
  shape: [number, number, number, number];
  filter: Float64Array;
  bias: Float64Array;
  strides: [number, number];
  pad: 'same' | 'valid';
  activation: Activation;
}

function hostConv(layer: ChainLayerLike, cls: string, config: Record<string, unknown>): HostConv {
  const where = `layer '${layer.name}' (${cls})`;
  if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') {
    throw new Error(`${where} has dataFormat ${config.dataFormat}, only channelsLast is folded`);
  }
  const dilation = (config.dilationRate ?? [1, 1]) as number[] | number;
  if ((Array.isArray(dilation) ? dilation : [dilation]).some((d) => d !== 1)) {
    throw new Error(`${where} is dilated, which is not folded`);
  }
  const pad = config.padding;
  if (pad !== 'same' && pad !== 'valid') throw new Error(`${where} has padding ${String(pad)}`);
  const strides = config.strides as [number, number];
  const kernelName = cls === 'Conv2D' ? 'kernel' : 'depthwise_kernel';
  const kernel = weight(layer, kernelName);
  const shape = kernel.shape as [number, number, number, number];
  const outputs = shape[2] * shape[3];
  const channels = cls === 'Conv2D' ? shape[3] : outputs;
  const biasWeight = config.useBias ? weight(layer, 'bias') : undefined;
  const conv: HostConv = {
    kind: cls === 'Conv2D' ? 'conv2d' : 'depthwise',
    layers: [layer.name],
    shape,
    filter: Float64Array.from(kernel.dataSync()),
    bias: biasWeight ? Float64Array.from(biasWeight.dataSync()) : new Float64Array(channels),
    strides: [strides[0], strides[1]],
    pad,
    activation: 'linear',
  };
  const activation = (config.activation ?? 'linear') as string;
  if (activation !== 'linear') {
    if (activation !== 'relu' && activation !== 'relu6')
      throw new Error(`${where} has activation ${activation}`);
    conv.activation = activation;
  }
  return conv;
}

/** y = γ (x − μ) / √(σ² + ε) + β per output channel, folded into the convolution's filter and bias. */
function foldBatchNorm(conv: HostConv, layer: ChainLayerLike, config: Record<string, unknown>): void {
  const axis = config.axis as number | number[];
  if (
    !(
      axis === -1 ||
      axis === 3 ||
      (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3))
    )
  ) {
    throw new Error(
      `layer '${layer.name}' (BatchNormalization) normalises axis ${JSON.stringify(axis)}, not the channels`,
    );
  }
  const eps = config.epsilon as number;
  const n = conv.bias.length;
  const mean = weight(layer, 'moving_mean').dataSync();
  const variance = weight(layer, 'moving_variance').dataSync();
  const gamma = config.scale === false ? undefined : weight(layer, 'gamma').dataSync();
  const beta = config.center === false ? undefined : weight(layer, 'beta').dataSync();
  if (mean.length !== n) {
    throw new Error(
      `layer '${layer.name}' (BatchNormalization) has ${mean.length} channels, its convolution ${n}`,
    );
  }
  const scale = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    if (!(variance[c] + eps > 0)) {
      throw new Error(
        `layer '${layer.name}' (BatchNormalization) has moving_variance ${variance[c]} at channel ${c}: variance + epsilon must be > 0`,
      );
    }
    scale[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + eps);
    conv.bias[c] = (conv.bias[c] - mean[c]) * scale[c] + (beta ? beta[c] : 0);
  }
  // Output channel of filter element i: the last axis for conv2d; (in, outPerIn) flattened for depthwise.
  const perOut = conv.kind === 'conv2d' ? conv.shape[3] : conv.shape[2] * conv.shape[3];
  for (let i = 0; i < conv.filter.length; i++) conv.filter[i] *= scale[i % perOut];
  conv.layers.push(layer.name);
}

function flush(pending: HostConv[], steps: FoldedStep[]): void {
  const conv = pending.pop();
  if (!conv) return;
  steps.push({
    kind: conv.kind,
    layers: conv.layers,
    filter: tf.tensor4d(Float32Array.from(conv.filter), conv.shape),
    bias: tf.tensor1d(Float32Array.from(conv.bias)),
    strides: conv.strides,
    pad: conv.pad,
    activation: conv.activation,
  });
}

function isActivation(cls: string, config: Record<string, unknown>): boolean {
  if (cls === 'ReLU') return true;
  if (cls !== 'Activation') return false;
  return config.activation === undefined || ['relu', 'relu6', 'linear'].includes(config.activation as string);
}

function activationOf(cls: string, config: Record<string, unknown>): Activation {
  if (cls === 'ReLU') {
    const max = config.maxValue as number | null | undefined;
    if (config.negativeSlope || config.threshold)
      throw new Error('a leaky or thresholded ReLU is not folded');
    if (max === null || max === undefined) return 'relu';
    if (max === 6) return 'relu6';
    throw new Error(`a ReLU clipped at ${max} is not folded`);
  }
  return config.activation as Activation;
}

function zeroPadding(name: string, config: Record<string, unknown>): [[number, number], [number, number]] {
  if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') {
    throw new Error(`layer '${name}' (ZeroPadding2D) has dataFormat ${config.dataFormat}`);
  }
  const p = config.padding as number | [number, number] | [[number, number], [number, number]];
  if (typeof p === 'number')
    return [
      [p, p],
      [p, p],
    ];
  const [a, b] = p;
  return [typeof a === 'number' ? [a, a] : [a[0], a[1]], typeof b === 'number' ? [b, b] : [b[0], b[1]]];
}

/** The layer's weight `<layer>/<name>`, by name (an explicit map, not the order of `getWeights()`). */
function weight(layer: ChainLayerLike, name: string): tf.Tensor {
  const w = layer.weights.find((v) => (v.originalName ?? v.name) === `${layer.name}/${name}`);
  if (!w) {
    throw new Error(
      `layer '${layer.name}' has no weight '${name}' (it has: ${layer.weights.map((v) => v.name).join(', ') || 'none'})`,
    );
  }
  return w.read();
}

function disposeSteps(steps: readonly FoldedStep[]): void {
  for (const s of steps) if (s.kind === 'conv2d' || s.kind === 'depthwise') tf.dispose([s.filter, s.bias]);
}
