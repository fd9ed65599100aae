import type { StateDict } from '@symseq/nn';
import type * as tf from '@tensorflow/tfjs-core';
import type { z } from 'zod';
import type { MultiLengthResult } from './multi-length';

/** What the frozen teacher gives one training step: pooled features of the target view, [B, D]. */
export interface TeacherBatch {
  pooled: tf.Tensor2D;
}

/**
 * A training objective: it turns a teacher batch into targets and scores the student's projector
 * output of every prefix length against them. One step runs, in order:
 * `targets` (outside the gradient tape, no gradient) → `loss` (inside it) → `update` (after the
 * optimizer step: running state such as DINO's centre). `state()`/`load()` hold everything needed
 * to continue a run exactly.
 */
export interface Objective<T = unknown> {
  readonly kind: string;
  /** Width K of the projector output this objective scores. */
  readonly outDim: number;
  /** Prefix lengths that get a loss term. */
  readonly lengths: readonly number[];
  /**
   * True when the loss compares the rows of a batch with each other (in-batch negatives), so it is
   * not a mean of per-image terms. A data-parallel trainer then scores the whole batch's projections
   * against the whole batch's targets on every replica, only its own rows carrying gradient; the
   * replicas' gradients then sum to the one-replica gradient. Omitted: a mean of per-image terms.
   */
  readonly wholeBatch?: boolean;
  /**
   * True when `loss` scores prefix length 1 from every symbol's one-symbol projection and the
   * first symbol's probabilities (`FirstSymbolInput`) rather than from the written symbol alone.
   */
  readonly usesFirstSymbol?: boolean;
  targets(teacher: TeacherBatch, step: number): T;
  /**
   * Total and per-length loss; `projections` maps prefix length → student projector output [B, K].
   * `first` is required when `usesFirstSymbol` is true.
   */
  loss(projections: Map<number, tf.Tensor>, targets: T, first?: FirstSymbolInput): MultiLengthResult;
  update(targets: T): void;
  /** Frees the tensors `targets` returned. */
  disposeTargets(targets: T): void;
  state(): StateDict;
  load(state: StateDict, source?: string): void;
  dispose(): void;
}

/** What an objective with `usesFirstSymbol` needs besides the prefixes' projections. */
export interface FirstSymbolInput {
  /** The projector output of each one-symbol sequence (symbol c alone), [V, K]. */
  projections: tf.Tensor2D;
  /** p(symbol 1 = c) per image, [B, V], rows summing to 1 (softmax of the decoder's first logits). */
  probs: tf.Tensor2D;
}

/** What every objective is built from besides its own options. */
export interface ObjectiveContext {
  lengths: number[];
  /** One weight per length (default: equal). */
  weights?: number[];
  /** Size D of the teacher's pooled features. */
  pooledDim: number;
  /**
   * K frozen unit-norm prototypes [K, D] for objectives that need a teacher head, when the teacher
   * has none (e.g. k-means on its pooled features). Called at most once.
   */
  prototypes?: (k: number) => tf.Tensor2D;
  /**
   * The mean [D] of the training set's pooled features, for objectives that centre their targets
   * (`contrast` with `center`). Called at most once, and not when resuming.
   */
  pooledMean?: () => Float32Array;
  /** A saved objective state to continue from (e.g. its teacher head), instead of building anew. */
  resume?: StateDict;
}

/**
 * One registry entry: the schema of the objective's own options (the config section named after
 * it, e.g. `objective.dino`) and how to build it. A new objective is one file exporting such a spec
 * plus one line in `OBJECTIVES` (objectives.ts).
 */
export interface ObjectiveSpec<S extends z.ZodTypeAny = z.ZodTypeAny> {
  options: S;
  /** One line on what it optimises (for help and docs). */
  describe: string;
  create(options: z.output<S>, ctx: ObjectiveContext, extra: { prototypes: number }): Objective;
}
