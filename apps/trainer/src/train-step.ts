import type { Student } from '@symseq/decoder';
import { type Objective, SymbolRegularizer, type SymbolRegularizerConfig } from '@symseq/loss';
import { Adam, type StateDict, stopGradient } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';

export interface TrainStepOptions {
  /** Initial learning rate (schedules pass each step's own to `run`). */
  lr: number;
  /** Decoupled weight decay (AdamW) on matrices only, as DINO excludes biases and norms. */
  weightDecay: number;
  /** Clip the global gradient norm to this (0: off). */
  clipGrad: number;
  /** Weight of the discretizer's auxiliary loss (VQ commitment). */
  auxWeight: number;
  /** SymbolRegularizer weights on the decoder's logits; {} or undefined: none. */
  regularizer?: SymbolRegularizerConfig;
}

/** One batch: the student reads `tokens` [B, N, Dt]; the objective's target comes from `pooled` [B, Dp]. */
export interface TrainBatch {
  tokens: tf.Tensor3D;
  pooled: tf.Tensor2D;
}

/**
 * This replica's part of a batch split over data-parallel replicas: its images' share of the batch
 * (per-image terms are means, so they are scaled by it) and how to see a batch-level term's input
 * for the whole batch (the other replicas' rows as constants, this one's with gradients). Batch-level
 * terms (the regulariser, a `wholeBatch` objective) are computed whole on every replica and not
 * scaled: the derivative of the whole loss w.r.t. this replica's rows is its part of the whole
 * gradient, so the replicas' gradients sum to one replica's.
 */
export interface BatchPart {
  share: number;
  wholeBatch: (local: tf.Tensor) => tf.Tensor;
  /** Set by `TrainStep.loss`: the `keep` keys that hold whole-batch values (the same on every replica). */
  wholeBatchKeys?: string[];
  /** Set by `TrainStep.loss` (kept): the sum of the loss's whole-batch terms, so a caller counts them once. */
  wholeBatchLoss?: tf.Scalar;
}

/** Losses of one step, read back: `total`, `len<l>` per prefix length, `aux`. */
export type StepValues = Record<string, number>;

/**
 * One optimizer step of the symbolic student, the same for the trainer, the benchmark and tests:
 * objective targets from the teacher batch → student forward (train mode) → objective loss over
 * the prefix lengths + auxWeight · discretizer aux loss (+ regulariser) → gradients → global-norm
 * clip → Adam with decoupled weight decay → objective update (e.g. DINO centre). State for a
 * checkpoint: the optimizer's (`state()`/`load()`); the objective and the student have their own.
 */
export class TrainStep {
  readonly optimizer: Adam;
  private readonly variables: tf.Variable[];
  private readonly regularizer?: SymbolRegularizer;

  constructor(
    readonly student: Student,
    readonly objective: Objective,
    readonly options: TrainStepOptions,
  ) {
    const params = student.namedTrainableVariables();
    this.variables = params.map(([, v]) => v);
    this.optimizer = new Adam(
      params,
      { lr: options.lr, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: options.weightDecay },
      { decayed: (_name, v) => v.rank >= 2 },
    );
    if (regularizerActive(options.regularizer)) {
      this.regularizer = new SymbolRegularizer(options.regularizer);
    }
  }

  /** Runs step number `step` (0-based) at learning rate `lr`; returns its losses. */
  run(batch: TrainBatch, step: number, lr: number): StepValues {
    const { lossT, kept } = this.launch(batch, step, lr);
    const values: StepValues = { total: lossT.dataSync()[0] };
    for (const [k, t] of Object.entries(kept)) values[k] = t.dataSync()[0];
    tf.dispose([lossT, ...Object.values(kept)]);
    return values;
  }

  /** `run`, reading the losses back with `await data()`: GPU backends (webgpu) need not block, or cannot. */
  async runAsync(batch: TrainBatch, step: number, lr: number): Promise<StepValues> {
    const { lossT, kept } = this.launch(batch, step, lr);
    const keys = Object.keys(kept);
    const read = await Promise.all([lossT, ...keys.map((k) => kept[k])].map((t) => t.data()));
    const values: StepValues = { total: read[0][0] };
    keys.forEach((k, i) => {
      values[k] = read[i + 1][0];
    });
    tf.dispose([lossT, ...Object.values(kept)]);
    return values;
  }

  private launch(batch: TrainBatch, step: number, lr: number) {
    const kept: Record<string, tf.Scalar> = {};
    const lossT = tf.tidy(() => {
      const targets = this.objective.targets({ pooled: batch.pooled }, step);
      const { value, grads } = tf.variableGrads(
        () => this.loss(batch.tokens, targets, step, kept),
        this.variables,
      );
      this.update(grads, targets, lr);
      return value;
    });
    return { lossT, kept };
  }

  /**
   * The training loss of the student reading `tokens` against the objective's `targets` (call it
   * inside a gradient tape): objective loss over the prefix lengths + auxWeight · discretizer aux
   * loss (+ regulariser). `keep`, when given, receives the per-length terms (`len<l>`) and `aux`.
   */
  loss(
    tokens: tf.Tensor3D,
    targets: unknown,
    step: number,
    keep?: Record<string, tf.Scalar>,
    part?: BatchPart,
  ): tf.Scalar {
    const { objective, student } = this;
    const out = student.forward(tokens, { mode: 'train', step, lengths: [...objective.lengths] });
    // A `wholeBatch` objective (in-batch negatives) on a replica: the whole batch's projections (targets too, from the caller).
    const whole = part !== undefined && objective.wholeBatch === true;
    // Logits [B, L, V]; the regulariser's `input` option says how to read them (default logits).
    let logits = this.regularizer ? tf.stack(out.decoder.logits, 1) : undefined;
    let projected = out.prefixes.map((p) => p.projection);
    // p(symbol 1) [B, V], for an objective that scores length 1 as an expectation over symbol 1.
    let firstProbs = objective.usesFirstSymbol ? tf.softmax(out.decoder.logits[0]) : undefined;
    if (part && (whole || logits || firstProbs)) {
      // One all-gather for everything this step needs whole (each gather is two replica barriers).
      const locals = [
        ...(whole ? projected : []),
        ...(logits ? [logits] : []),
        ...(firstProbs ? [firstProbs] : []),
      ];
      const gathered = gatherTogether(part, locals);
      if (whole) projected = gathered.slice(0, projected.length);
      if (logits) logits = gathered[projected.length * (whole ? 1 : 0)];
      if (firstProbs) firstProbs = gathered[gathered.length - 1];
    }
    const projections = new Map(out.prefixes.map((p, i) => [p.length, projected[i]]));
    const first = firstProbs
      ? { projections: oneSymbolProjections(student, part), probs: firstProbs as tf.Tensor2D }
      : undefined;
    const r = objective.loss(projections, targets, first);
    const aux = tf.mul(out.auxLoss, this.options.auxWeight);
    let total: tf.Tensor;
    const wholeTerms: tf.Tensor[] = [];
    if (!part) total = tf.add(r.total, aux);
    else if (whole) {
      total = tf.add(r.total, tf.mul(aux, part.share));
      wholeTerms.push(r.total);
    } else total = tf.mul(tf.add(r.total, aux), part.share);
    if (this.regularizer && logits) {
      const reg = this.regularizer.compute(logits).total;
      total = tf.add(total, reg);
      wholeTerms.push(reg);
      if (keep) keep.regularizer = tf.keep(reg);
    }
    if (part) {
      part.wholeBatchKeys = [
        ...(this.regularizer ? ['regularizer'] : []),
        ...(whole ? Object.keys(r.perLength).map((l) => `len${l}`) : []),
      ];
      part.wholeBatchLoss = tf.keep(wholeTerms.reduce((a, b) => tf.add(a, b), tf.scalar(0)) as tf.Scalar);
    }
    if (keep) {
      for (const [l, t] of Object.entries(r.perLength)) keep[`len${l}`] = tf.keep(t);
      keep.aux = tf.keep(out.auxLoss as tf.Scalar);
    }
    return total as tf.Scalar;
  }

  /** The update from gradients (keyed by variable name): global-norm clip, Adam(W) at `lr`, then the objective's own update. */
  update(grads: tf.NamedTensorMap, targets: unknown, lr: number = this.optimizer.learningRate): void {
    this.optimizer.learningRate = lr;
    tf.tidy(() => {
      const clipped = this.options.clipGrad > 0 ? clipByGlobalNorm(grads, this.options.clipGrad) : grads;
      this.optimizer.apply(clipped);
    });
    this.objective.update(targets);
  }

  /** The variables the optimizer updates, in its order. */
  trainableVariables(): tf.Variable[] {
    return this.variables;
  }

  state(): StateDict {
    return this.optimizer.state();
  }

  load(state: StateDict, source?: string): void {
    this.optimizer.load(state, source);
  }

  /** Frees the optimizer's slots (the student and the objective belong to the caller). */
  dispose(): void {
    this.optimizer.dispose();
  }
}

/**
 * The projector output of each one-symbol sequence, [V, K]. It depends on the parameters only, so
 * on a data-parallel replica (which scores the batch whole) its gradient is scaled by the replica's
 * share: the replicas' gradients then sum to one replica's, as for the per-image terms.
 */
export function oneSymbolProjections(student: Student, part?: BatchPart): tf.Tensor2D {
  return tf.tidy(() => {
    const v = student.config.vocabSize;
    const symbols = tf.reshape(tf.range(0, v, 1, 'int32'), [v, 1]);
    const e = student.projector.apply(student.embedSymbols(symbols)) as tf.Tensor2D;
    if (!part || part.share === 1) return e;
    return tf.add(tf.mul(e, part.share), tf.mul(stopGradient(e), 1 - part.share)) as tf.Tensor2D;
  });
}

/** Scales all gradients by min(1, maxNorm / (‖g‖ + 1e-6)), ‖g‖ the global L2 norm. */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): tf.NamedTensorMap {
  return tf.tidy(() => {
    const sq = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    const norm = tf.sqrt(sumInChunks(sq));
    const scale = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
    const out: tf.NamedTensorMap = {};
    for (const [k, g] of Object.entries(grads)) out[k] = tf.mul(g, scale);
    return out;
  });
}

/**
 * Σ of same-shape tensors by tf.addN over at most `chunk` at a time: tfjs-webgpu's AddN binds one
 * storage buffer per input, and WebGPU guarantees only 8 per shader stage (the global-norm clip sums
 * one term per parameter tensor, 64 for the cpu preset's student).
 */
export function sumInChunks(xs: tf.Tensor[], chunk = 7): tf.Tensor {
  if (xs.length === 0) throw new Error('sumInChunks: no tensors');
  if (!(Number.isInteger(chunk) && chunk >= 2))
    throw new Error(`sumInChunks: chunk must be >= 2, got ${chunk}`);
  return tf.tidy(() => {
    let level = xs;
    while (level.length > 1) {
      const next: tf.Tensor[] = [];
      for (let i = 0; i < level.length; i += chunk) {
        const group = level.slice(i, i + chunk);
        next.push(group.length === 1 ? group[0] : tf.addN(group));
      }
      level = next;
    }
    return tf.clone(level[0]);
  });
}

/** A symbol regulariser with a non-zero weight: `usageWeight=0` (and `infoMaxWeight=0`) switch it off. */
export function regularizerActive(r?: SymbolRegularizerConfig): r is SymbolRegularizerConfig {
  return !!r && ((r.usageWeight ?? 0) > 0 || (r.infoMaxWeight ?? 0) > 0);
}

/**
 * The whole batch's rows of each tensor in `locals` (this replica's rows, [n, …] each) through one
 * all-gather: flattened per row, concatenated, gathered, split and reshaped back.
 */
export function gatherTogether(part: BatchPart, locals: tf.Tensor[]): tf.Tensor[] {
  const n = locals[0].shape[0];
  // One tensor: no concat/split (tfjs-core's SplitV gradient fails for a single output).
  if (locals.length === 1) return [part.wholeBatch(locals[0])];
  const widths = locals.map((t) => t.size / n);
  const whole = part.wholeBatch(
    tf.concat(
      locals.map((t) => tf.reshape(t, [n, -1])),
      1,
    ),
  );
  const b = whole.shape[0];
  return tf.split(whole, widths, 1).map((t, i) => tf.reshape(t, [b, ...locals[i].shape.slice(1)]));
}
