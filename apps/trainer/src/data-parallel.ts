import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Student } from '@symseq/decoder';
import type { Discretizer } from '@symseq/discretize';
import type { Objective } from '@symseq/loss';
import type { Rng, StateDict } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from './config';

import type { BatchPart, StepValues, TrainStep, TrainStepOptions } from './train-step';

/**
 * Data-parallel training on CPU: N replicas of the student (rank 0 in the calling thread, the others in
 * worker threads, each with its own backend — wasm is single-threaded in Node) split every batch into N
 * contiguous parts. Each computes the gradient of its part's share of the batch loss; the gradients are
 * summed through shared memory in rank order, so every replica applies the same update and stays
 * bit-identical. Batch-level terms see the whole batch, so N replicas compute what one does, to float
 * rounding:
 * - the symbol regulariser's logits and a `wholeBatch` objective's projections (contrast: in-batch
 *   negatives) are all-gathered, the other replicas' rows entering as constants; each replica computes
 *   the whole term (unscaled), whose derivative w.r.t. its own rows is its part of the whole gradient;
 *   a `wholeBatch` objective's targets come from the whole batch's pooled rows;
 * - the objective's update inputs (the DINO centre's teacher logits) are all-gathered;
 * - the discretizer gets a `BatchShard`: Gumbel draws the whole batch's noise and uses its rows, VQ
 *   gathers the vectors for its EMA statistics, k-means init and dead-code restarts (its Rng is
 *   rank 0's on every replica).
 * Synchronisation is a blocking barrier on a SharedArrayBuffer (Atomics.wait), because gradients are
 * taken inside tf.variableGrads' synchronous loss function.
 */

/**
 * Discretizers reviewed for data-parallel training: temperature and FSQ are per-row functions; Gumbel
 * and VQ follow the whole batch through their `batchShard`. A new one is refused until it is added here.
 */
export const DATA_PARALLEL_DISCRETIZERS = ['temperature', 'fsq', 'gumbel', 'vq'];

/**
 * Objectives reviewed for data-parallel training: a mean of per-image terms (features, dino: its
 * centre update all-gathered) or `wholeBatch` (contrast). A new one is refused until it is added here.
 */
export const DATA_PARALLEL_OBJECTIVES = ['features', 'dino', 'contrast'];

/** Why `config` cannot be trained data-parallel, or undefined. */
export function dataParallelProblem(config: TrainConfig): string | undefined {
  const kind = (config.student.discretizer as { kind?: string } | undefined)?.kind ?? 'temperature';
  if (!DATA_PARALLEL_DISCRETIZERS.includes(kind)) {
    return `train --workers > 1 supports the ${DATA_PARALLEL_DISCRETIZERS.join(', ')} discretizers, not '${kind}': its batch-level noise or statistics were not checked to follow the whole batch; use --workers 1`;
  }
  if (!DATA_PARALLEL_OBJECTIVES.includes(config.objective.kind)) {
    return `train --workers > 1 supports the ${DATA_PARALLEL_OBJECTIVES.join(', ')} objectives, not '${config.objective.kind}': it was not checked to give one replica's loss over batch parts; use --workers 1`;
  }
  return undefined;
}

/** The shared memory of a replica group; every buffer is N slots of one region. */
export interface SharedBuffers {
  /** [count, generation, abort, op, step, sizes…] as Int32; lr at Float64 index 8 (bytes 64..71). */
  control: SharedArrayBuffer;
  /** The batch, written by rank 0: tokens [B, N, D] then pooled [B, Dp]. */
  inputs: SharedArrayBuffer;
  /** Per rank: the rows it contributes to an all-gather (logits, projections, update inputs, VQ vectors). */
  gather: SharedArrayBuffer;
  /** Per rank: its gradients + loss scalars. */
  grads: SharedArrayBuffer;
}

export interface ReplicaShape {
  replicas: number;
  batchSize: number;
  tokenCount: number;
  tokenDim: number;
  pooledDim: number;
  /** Floats per image of the largest all-gathered tensor (e.g. the regulariser's maxLength × vocabSize). */
  gatherPerRow: number;
  /** Floats of all gradients plus the loss scalars. */
  gradFloats: number;
}

const SIZES_AT = 5;
const LR_AT = 8; // Float64 index; Int32 slots 0..15 before it
const OP_STEP = 1;
const OP_STOP = 2;

const maxPart = (s: ReplicaShape) => Math.ceil(s.batchSize / s.replicas);

export function allocateShared(s: ReplicaShape): SharedBuffers {
  const f = 4;
  return {
    control: new SharedArrayBuffer(128),
    inputs: new SharedArrayBuffer(s.batchSize * (s.tokenCount * s.tokenDim + s.pooledDim) * f),
    gather: new SharedArrayBuffer(s.replicas * maxPart(s) * Math.max(1, s.gatherPerRow) * f),
    grads: new SharedArrayBuffer(s.replicas * s.gradFloats * 4),
  };
}

/** Contiguous parts of a batch of `b` over `n` replicas: sizes differ by at most one. */
export function splitBatch(b: number, n: number): number[] {
  return Array.from({ length: n }, (_, r) => Math.floor(((r + 1) * b) / n) - Math.floor((r * b) / n));
}

/** One replica's side of the group: the barrier and the collective operations, the same on every rank. */
export class ReplicaComm {
  readonly ctrl: Int32Array;
  readonly lr: Float64Array;

  constructor(
    readonly shape: ReplicaShape,
    readonly buffers: SharedBuffers,
    readonly rank: number,
  ) {
    this.ctrl = new Int32Array(buffers.control, 0, 16);
    this.lr = new Float64Array(buffers.control, 0, 16);
  }

  /** Waits until every replica arrived; throws if one failed. */
  barrier(): void {
    const c = this.ctrl;
    const gen = Atomics.load(c, 1);
    if (Atomics.add(c, 0, 1) === this.shape.replicas - 1) {
      Atomics.store(c, 0, 0);
      Atomics.add(c, 1, 1);
      Atomics.notify(c, 1);
    } else {
      const started = Date.now();
      while (Atomics.load(c, 1) === gen) {
        if (Atomics.load(c, 2) !== 0)
          throw new Error(`data-parallel replica ${Atomics.load(c, 2) - 1} failed`);
        Atomics.wait(c, 1, gen, 200);
        if (Date.now() - started > 30 * 60_000) throw new Error('data-parallel: a replica stopped answering');
      }
    }
    if (Atomics.load(c, 2) !== 0) throw new Error(`data-parallel replica ${Atomics.load(c, 2) - 1} failed`);
  }

  /** Marks this replica as failed, waking the others. */
  abort(): void {
    Atomics.compareExchange(this.ctrl, 2, 0, this.rank + 1);
    Atomics.notify(this.ctrl, 1);
  }

  /** Batch part sizes of the current step, read once after the step's first barrier (rank 0 rewrites them for the next). */
  parts: number[] = [];

  beginStep(): void {
    this.parts = Array.from({ length: this.shape.replicas }, (_, r) => this.ctrl[SIZES_AT + r]);
  }

  /**
   * `local` [n_r, …] of this replica → the whole batch's [B, …]: the other ranks' rows (constants) and
   * this one's (with its gradient) in rank order.
   */
  allGatherRows(local: tf.Tensor): tf.Tensor {
    const sizes = this.parts;
    if (local.shape[0] !== sizes[this.rank]) {
      throw new Error(
        `data-parallel: all-gather of [${local.shape.join(', ')}] on replica ${this.rank}, expected ${sizes[this.rank]} rows (its part of the batch)`,
      );
    }
    const perRow = local.size / Math.max(1, local.shape[0]);
    const slot = maxPart(this.shape) * Math.max(1, this.shape.gatherPerRow);
    if (perRow > Math.max(1, this.shape.gatherPerRow)) {
      throw new Error(
        `data-parallel: all-gathered rows of ${perRow} floats exceed the shared slot (${this.shape.gatherPerRow} per row)`,
      );
    }
    const all = new Float32Array(this.buffers.gather);
    all.set(local.dataSync() as Float32Array, this.rank * slot);
    this.barrier();
    const rest = local.shape.slice(1);
    const parts = sizes.map((n, q) =>
      q === this.rank ? local : tf.tensor(all.slice(q * slot, q * slot + n * perRow), [n, ...rest]),
    );
    // Everyone has copied the rows out before any slot is written again (the next all-gather).
    this.barrier();
    return tf.concat(parts, 0);
  }

  /** Sum over replicas, in rank order (so every replica gets the same bits), of `local`. */
  allReduceSum(local: Float32Array): Float64Array {
    const n = this.shape.gradFloats;
    const all = new Float32Array(this.buffers.grads);
    all.set(local, this.rank * n);
    this.barrier();
    const sum = new Float64Array(local.length);
    for (let q = 0; q < this.shape.replicas; q++) {
      const o = q * n;
      for (let i = 0; i < local.length; i++) sum[i] += all[o + i];
    }
    this.barrier();
    return sum;
  }
}

/** Every tensor of `targets` (a tensor, or an object of them) with this part's rows, gathered to the whole batch. */
function gatherTargets(targets: unknown, comm: ReplicaComm, rows: number): unknown {
  if (targets instanceof tf.Tensor) return targets.shape[0] === rows ? comm.allGatherRows(targets) : targets;
  if (targets && typeof targets === 'object') {
    return Object.fromEntries(Object.entries(targets).map(([k, v]) => [k, gatherTargets(v, comm, rows)]));
  }
  return targets;
}

/** Floats per image of the tensors in `targets` with `rows` rows (the objective-update inputs). */
export function targetFloatsPerRow(targets: unknown, rows: number): number {
  if (targets instanceof tf.Tensor) return targets.shape[0] === rows ? targets.size / rows : 0;
  if (targets && typeof targets === 'object') {
    return Math.max(0, ...Object.values(targets).map((v) => targetFloatsPerRow(v, rows)));
  }
  return 0;
}

/**
 * One data-parallel step on this replica: its part of the batch (rows `offset…` of `inputs`) → loss
 * share and gradients → all-reduce → the same update on every replica. Returns the batch's losses.
 */
export function replicaStep(stepper: TrainStep, comm: ReplicaComm, step: number, lr: number): StepValues {
  const { shape, rank } = comm;
  const sizes = comm.parts;
  const total = sizes.reduce((a, b) => a + b, 0);
  const n = sizes[rank];
  const offset = sizes.slice(0, rank).reduce((a, b) => a + b, 0);
  const per = shape.tokenCount * shape.tokenDim;
  const tokenData = new Float32Array(comm.buffers.inputs, offset * per * 4, n * per);
  const pooledStart = shape.batchSize * per * 4;
  const pooledData = new Float32Array(
    comm.buffers.inputs,
    pooledStart + offset * shape.pooledDim * 4,
    n * shape.pooledDim,
  );
  const share = n / total;
  const vars = stepper.trainableVariables();
  const names = vars.map((v) => v.name);
  const { objective, student } = stepper;
  // Gumbel noise and VQ statistics follow the whole batch (see BatchShard).
  student.discretizer.batchShard = { offset, total, gatherRows: (local) => comm.allGatherRows(local) };
  try {
    return tf.tidy(() => {
      // No copies: tf.tensor copies the values into the backend (wasm) or keeps them only for this
      // step's tidy (cpu), and rank 0 rewrites the shared inputs only after the step's last barrier.
      const tokens = tf.tensor3d(tokenData, [n, shape.tokenCount, shape.tokenDim]);
      // A wholeBatch objective scores every row against every other: its targets are the whole batch's.
      const pooled = objective.wholeBatch
        ? tf.tensor2d(new Float32Array(comm.buffers.inputs, pooledStart, total * shape.pooledDim), [
            total,
            shape.pooledDim,
          ])
        : tf.tensor2d(pooledData, [n, shape.pooledDim]);
      const targets = objective.targets({ pooled }, step);
      const kept: Record<string, tf.Scalar> = {};
      const part: BatchPart = { share, wholeBatch: (local) => comm.allGatherRows(local) };
      const { value, grads } = tf.variableGrads(() => stepper.loss(tokens, targets, step, kept, part), vars);
      // Gradients, then the loss scalars: value, its whole-batch part, each kept term, in a fixed order.
      // Per-image terms are this part's means (scaled by its share); whole-batch ones the same everywhere.
      const wholeKeys = new Set(part.wholeBatchKeys);
      const keys = Object.keys(kept).sort();
      const scalars = 2 + keys.length;
      if (shape.gradFloats - vars.reduce((a, v) => a + v.size, 0) < scalars) {
        throw new Error(`data-parallel: ${scalars} loss scalars exceed the shared slot`);
      }
      const flat = new Float32Array(shape.gradFloats);
      let o = 0;
      for (const name of names) {
        const g = grads[name].dataSync() as Float32Array;
        flat.set(g, o);
        o += g.length;
      }
      flat[o] = value.dataSync()[0];
      flat[o + 1] = part.wholeBatchLoss!.dataSync()[0];
      keys.forEach((k, i) => {
        const v = kept[k].dataSync()[0];
        flat[o + 2 + i] = wholeKeys.has(k) ? v : v * share;
      });
      const sum = comm.allReduceSum(flat);
      const summed: tf.NamedTensorMap = {};
      o = 0;
      for (const [i, name] of names.entries()) {
        summed[name] = tf.tensor(Float32Array.from(sum.subarray(o, o + vars[i].size)), vars[i].shape);
        o += vars[i].size;
      }
      // DINO's centre follows the whole batch's teacher logits; a wholeBatch objective's targets already are.
      stepper.update(summed, objective.wholeBatch ? targets : gatherTargets(targets, comm, n), lr);
      tf.dispose([...Object.values(kept), part.wholeBatchLoss!]);
      // Whole-batch terms are the same value on every replica: counted once.
      const values: StepValues = {};
      keys.forEach((k, i) => {
        values[k] = wholeKeys.has(k) ? sum[o + 2 + i] / shape.replicas : sum[o + 2 + i];
      });
      values.total = sum[o] - ((shape.replicas - 1) * sum[o + 1]) / shape.replicas;
      return values;
    });
  } finally {
    student.discretizer.batchShard = undefined;
  }
}

/** What a replica worker starts from. */
export interface ReplicaWorkerData {
  rank: number;
  config: TrainConfig;
  backend: string;
  shape: ReplicaShape;
  buffers: SharedBuffers;
  student: { json: string; weights: Uint8Array };
  optimizer: StateDict;
  objective: StateDict;
  /** The discretizer's Rng state (VQ k-means and restarts), which the student's files do not hold. */
  discretizerRng?: number[];
  stepOptions: TrainStepOptions;
}

function replicaScript(): URL {
  for (const rel of ['./train-replica.js', '../dist/train-replica.js']) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  throw new Error(
    'train --workers: dist/train-replica.js not found; build the trainer first (npm run build -w @symseq/trainer)',
  );
}

/** Rank 0's handle on the group: starts the other replicas, runs steps, stops them. */
export class DataParallel {
  private readonly comm: ReplicaComm;
  private readonly workers: Worker[] = [];
  private readonly errors: string[] = [];
  private readonly checksums = new Map<number, string>();

  private constructor(
    private readonly stepper: TrainStep,
    readonly shape: ReplicaShape,
    buffers: SharedBuffers,
  ) {
    this.comm = new ReplicaComm(shape, buffers, 0);
  }

  /** Starts `replicas - 1` workers holding copies of the student, the optimizer and the objective as they are now. */
  static async start(o: {
    replicas: number;
    config: TrainConfig;
    stepper: TrainStep;
    student: Student;
    objective: Objective;
    tokenCount: number;
    tokenDim: number;
    pooledDim: number;
  }): Promise<DataParallel> {
    const problem = dataParallelProblem(o.config);
    if (problem) throw new Error(problem);
    const { config } = o;
    if (o.replicas > config.optim.batchSize) {
      throw new Error(
        `train --workers ${o.replicas}: more replicas than images per batch (optim.batchSize ${config.optim.batchSize})`,
      );
    }
    const vars = o.stepper.trainableVariables();
    const probe = o.objective.targets({ pooled: tf.zeros([2, o.pooledDim]) as tf.Tensor2D }, 0);
    const targetsPerRow = targetFloatsPerRow(probe, 2);
    tf.dispose(probe as never);
    const d = o.student.discretizer as Discretizer & { codebookDim?: number; rng?: Rng };
    const shape: ReplicaShape = {
      replicas: o.replicas,
      batchSize: config.optim.batchSize,
      tokenCount: o.tokenCount,
      tokenDim: o.tokenDim,
      pooledDim: o.pooledDim,
      // What is all-gathered per image: regulariser logits, objective projections and update inputs, VQ vectors.
      gatherPerRow: Math.max(
        // Logits, every prefix's projection and p(symbol 1) go in one all-gather (train-step.ts gatherTogether).
        config.student.maxLength * config.student.vocabSize +
          o.objective.lengths.length * o.objective.outDim +
          (o.objective.usesFirstSymbol ? config.student.vocabSize : 0),
        targetsPerRow,
        o.objective.outDim,
        d.inputDim,
        d.codebookDim ?? 0,
      ),
      // The loss scalars: value, its whole-batch part, aux, regulariser and one per prefix length.
      gradFloats: vars.reduce((n, v) => n + v.size, 0) + 4 + o.objective.lengths.length,
    };
    const buffers = allocateShared(shape);
    const dp = new DataParallel(o.stepper, shape, buffers);
    const saved = await o.student.save();
    const script = replicaScript();
    const ready: Promise<void>[] = [];
    for (let rank = 1; rank < o.replicas; rank++) {
      const data: ReplicaWorkerData = {
        rank,
        config,
        backend: tf.getBackend(),
        shape,
        buffers,
        student: saved,
        optimizer: o.stepper.state(),
        objective: o.objective.state(),
        discretizerRng: d.rng?.getState(),
        stepOptions: o.stepper.options,
      };
      const w = new Worker(script, { workerData: data });
      dp.workers.push(w);
      ready.push(
        new Promise((resolve, reject) => {
          w.on('message', (m: { type: string; message?: string; checksum?: string }) => {
            if (m.type === 'ready') resolve();
            else if (m.type === 'error') {
              dp.errors.push(`replica ${rank}: ${m.message}`);
              reject(new Error(`train --workers: replica ${rank}: ${m.message}`));
            } else if (m.type === 'checksum') dp.checksums.set(rank, m.checksum!);
          });
          w.on('error', (e) => {
            dp.errors.push(`replica ${rank}: ${e.message}`);
            dp.comm.abort();
            reject(e);
          });
        }),
      );
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await dp.close();
      throw e;
    }
    return dp;
  }

  /** One step on batch `tokens` [B, N, D] / `pooled` [B, Dp] (host arrays); every replica applies the same update. */
  run(tokens: Float32Array, pooled: Float32Array, step: number, lr: number): StepValues {
    const { shape, comm } = this;
    const b = pooled.length / shape.pooledDim;
    const inputs = new Float32Array(comm.buffers.inputs);
    inputs.set(tokens, 0);
    inputs.set(pooled, shape.batchSize * shape.tokenCount * shape.tokenDim);
    splitBatch(b, shape.replicas).forEach((n, r) => {
      comm.ctrl[SIZES_AT + r] = n;
    });
    comm.ctrl[3] = OP_STEP;
    comm.ctrl[4] = step;
    comm.lr[LR_AT] = lr;
    try {
      comm.barrier(); // the batch is there
      comm.beginStep();
      return replicaStep(this.stepper, comm, step, lr);
    } catch (e) {
      comm.abort();
      throw new Error(`${(e as Error).message}${this.errors.length ? `: ${this.errors.join('; ')}` : ''}`);
    }
  }

  /** Stops the workers; their weights' sha256 by rank (1…), to check they stayed identical to rank 0's. */
  close(): Promise<Map<number, string>> {
    this.closing ??= this.stop();
    return this.closing;
  }

  private closing: Promise<Map<number, string>> | undefined;

  private async stop(): Promise<Map<number, string>> {
    const exited = this.workers.map((w) => new Promise((r) => w.once('exit', r)));
    if (Atomics.load(this.comm.ctrl, 2) === 0) {
      this.comm.ctrl[3] = OP_STOP;
      try {
        this.comm.barrier();
      } catch {
        // a replica failed: terminate below
      }
    }
    const timer = setTimeout(() => {
      for (const w of this.workers) void w.terminate();
    }, 60_000);
    await Promise.all(exited);
    clearTimeout(timer);
    return this.checksums;
  }
}

/** The worker side's loop: wait for a step, run it; return at stop. */
export function replicaLoop(stepper: TrainStep, comm: ReplicaComm): void {
  for (;;) {
    comm.barrier();
    const op = comm.ctrl[3];
    if (op === OP_STOP) return;
    if (op !== OP_STEP) throw new Error(`data-parallel: unknown operation ${op}`);
    comm.beginStep();
    replicaStep(stepper, comm, comm.ctrl[4], comm.lr[LR_AT]);
  }
}
