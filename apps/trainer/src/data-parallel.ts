import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Student } from '@symseq/decoder';
import type { Objective } from '@symseq/loss';
import type { StateDict } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from './config';

import type { StepValues, TrainStep, TrainStepOptions } from './train-step';

/**
 * Data-parallel training on CPU: N replicas of the student (rank 0 in the calling thread, the others in
 * worker threads, each with its own backend — wasm is single-threaded in Node) split every batch into N
 * contiguous parts. Each computes the gradient of its part's share of the batch loss; the gradients are
 * summed through shared memory in rank order, so every replica applies the same update and stays
 * bit-identical. Batch-level terms see the whole batch: the symbol regulariser's logits and the
 * objective's update inputs (e.g. the DINO centre's teacher logits) are all-gathered, the other
 * replicas' rows entering as constants, so N replicas compute what one does, to float rounding.
 * Synchronisation is a blocking barrier on a SharedArrayBuffer (Atomics.wait), because gradients are
 * taken inside tf.variableGrads' synchronous loss function.
 */

/** Discretizers whose train-mode forward is a pure function of its input (no noise stream, no EMA state). */
export const DATA_PARALLEL_DISCRETIZERS = ['temperature', 'fsq'];

/** Why `config` cannot be trained data-parallel, or undefined. */
export function dataParallelProblem(config: TrainConfig): string | undefined {
  const kind = (config.student.discretizer as { kind?: string } | undefined)?.kind ?? 'temperature';
  if (!DATA_PARALLEL_DISCRETIZERS.includes(kind)) {
    return (
      `train --workers > 1 supports the ${DATA_PARALLEL_DISCRETIZERS.join(' and ')} discretizers, not '${kind}': ` +
      "its train-mode forward draws noise (gumbel) or updates EMA codebook statistics (vq) inside Student.forward, which has no hook to split a batch's noise or all-reduce those statistics; use --workers 1"
    );
  }
  // Objectives whose loss is a mean of per-image terms split exactly over batch parts; in-batch
  // contrastive losses (negatives from the whole batch) do not, and have no all-gather hook here.
  if (!DATA_PARALLEL_OBJECTIVES.includes(config.objective.kind)) {
    return `train --workers > 1 supports the ${DATA_PARALLEL_OBJECTIVES.join(' and ')} objectives, not '${config.objective.kind}': its loss compares each image with the rest of the batch, so a replica's part would see other negatives than one replica does; use --workers 1`;
  }
  return undefined;
}

/** Objectives whose loss is a mean of per-image terms (batch-level state only in `update`, which is all-gathered). */
export const DATA_PARALLEL_OBJECTIVES = ['features', 'dino'];

/** The shared memory of a replica group; every buffer is N slots of one region. */
export interface SharedBuffers {
  /** [count, generation, abort, op, step, sizes…] as Int32; lr at Float64 index 8 (bytes 64..71). */
  control: SharedArrayBuffer;
  /** The batch, written by rank 0: tokens [B, N, D] then pooled [B, Dp]. */
  inputs: SharedArrayBuffer;
  /** Per rank: its logits rows (regulariser), its objective-update rows, its gradients + loss scalars. */
  logits: SharedArrayBuffer;
  targets: SharedArrayBuffer;
  grads: SharedArrayBuffer;
}

export interface ReplicaShape {
  replicas: number;
  batchSize: number;
  tokenCount: number;
  tokenDim: number;
  pooledDim: number;
  /** Floats per image of the regulariser's input (maxLength × vocabSize). */
  logitsPerRow: number;
  /** Floats per image of the objective-update inputs. */
  targetsPerRow: number;
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
    logits: new SharedArrayBuffer(s.replicas * maxPart(s) * Math.max(1, s.logitsPerRow) * f),
    targets: new SharedArrayBuffer(s.replicas * maxPart(s) * Math.max(1, s.targetsPerRow) * f),
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
  allGatherRows(local: tf.Tensor, region: 'logits' | 'targets'): tf.Tensor {
    const sizes = this.parts;
    const perRow = local.size / Math.max(1, local.shape[0]);
    const slot =
      maxPart(this.shape) *
      Math.max(1, region === 'logits' ? this.shape.logitsPerRow : this.shape.targetsPerRow);
    if (perRow * maxPart(this.shape) > slot) {
      throw new Error(
        `data-parallel: ${region} rows of ${perRow} floats exceed the shared slot (${slot / maxPart(this.shape)})`,
      );
    }
    const all = new Float32Array(this.buffers[region]);
    all.set(local.dataSync() as Float32Array, this.rank * slot);
    this.barrier();
    const rest = local.shape.slice(1);
    const parts = sizes.map((n, q) =>
      q === this.rank ? local : tf.tensor(all.slice(q * slot, q * slot + n * perRow), [n, ...rest]),
    );
    // Everyone has copied the rows out before any slot is written again (e.g. the next target field).
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
  if (targets instanceof tf.Tensor)
    return targets.shape[0] === rows ? comm.allGatherRows(targets, 'targets') : targets;
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
  return tf.tidy(() => {
    const tokens = tf.tensor3d(tokenData.slice(), [n, shape.tokenCount, shape.tokenDim]);
    const pooled = tf.tensor2d(pooledData.slice(), [n, shape.pooledDim]);
    const targets = stepper.objective.targets({ pooled }, step);
    const kept: Record<string, tf.Scalar> = {};
    const { value, grads } = tf.variableGrads(
      () =>
        stepper.loss(tokens, targets, step, kept, {
          share,
          wholeBatch: (local) => comm.allGatherRows(local, 'logits'),
        }),
      vars,
    );
    // Gradients, then the loss scalars: value, each kept term (unscaled part means), in a fixed order.
    const keys = Object.keys(kept).sort();
    const flat = new Float32Array(shape.gradFloats);
    let o = 0;
    for (const name of names) {
      const g = grads[name].dataSync() as Float32Array;
      flat.set(g, o);
      o += g.length;
    }
    flat[o] = value.dataSync()[0];
    keys.forEach((k, i) => {
      const v = kept[k].dataSync()[0];
      flat[o + 1 + i] = k === 'regularizer' ? v : v * share;
    });
    const sum = comm.allReduceSum(flat);
    const summed: tf.NamedTensorMap = {};
    o = 0;
    for (const [i, name] of names.entries()) {
      summed[name] = tf.tensor(Float32Array.from(sum.subarray(o, o + vars[i].size)), vars[i].shape);
      o += vars[i].size;
    }
    stepper.update(summed, gatherTargets(targets, comm, n), lr);
    tf.dispose(Object.values(kept));
    // The regulariser is the same whole-batch value on every replica: counted once.
    const values: StepValues = {};
    keys.forEach((k, i) => {
      values[k] = k === 'regularizer' ? sum[o + 1 + i] / shape.replicas : sum[o + 1 + i];
    });
    values.total = sum[o] - (shape.replicas - 1) * (values.regularizer ?? 0);
    return values;
  });
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
    const vars = o.stepper.trainableVariables();
    const probe = o.objective.targets({ pooled: tf.zeros([2, o.pooledDim]) as tf.Tensor2D }, 0);
    const targetsPerRow = targetFloatsPerRow(probe, 2);
    tf.dispose(probe as never);
    const shape: ReplicaShape = {
      replicas: o.replicas,
      batchSize: config.optim.batchSize,
      tokenCount: o.tokenCount,
      tokenDim: o.tokenDim,
      pooledDim: o.pooledDim,
      logitsPerRow: config.student.maxLength * config.student.vocabSize,
      targetsPerRow,
      gradFloats: vars.reduce((n, v) => n + v.size, 0) + 16,
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
