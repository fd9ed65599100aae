import { mkdirSync } from 'node:fs';
import { createProgress, type FeatureCache } from '@symseq/data';
import { Student, type StudentConfigInput } from '@symseq/decoder';
import { kmeans } from '@symseq/discretize';
import { createObjective, type Objective } from '@symseq/loss';
import { l2Normalize, Rng, type StateDict } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { NonFiniteError, sha256 } from './checkpoints';
import type { TrainConfig } from './config';
import { DataParallel, splitBatch } from './data-parallel';
import { pooledDimOf, pooledOfViews, tokensOfViews } from './features';
import { RunFolder } from './run-folder';
import { cosineLr } from './schedule';
import { TrainStep } from './train-step';
import { readOnHost } from './webgpu-backend';

export interface TrainResult {
  student: Student;
  steps: number;
  /** True when a resumed run's newest checkpoint already held the last step: nothing was trained. */
  alreadyFinished: boolean;
  /** The last step's loss (a finished run's, from its checkpoint). */
  finalLoss: number;
  seconds: number;
  /** sha256 of every data-parallel replica's final weights, rank 0 first (identical, or train throws). */
  replicaWeights?: string[];
}

export interface TrainOptions {
  resume?: boolean;
  quiet?: boolean;
  log?: (line: string) => void;
  /** Stop after this many optimizer steps in this call (for tests of --resume). */
  maxSteps?: number;
  /** Data-parallel replicas (this thread + worker threads), each on part of every batch; 1: none. */
  workers?: number;
}

/** What the teacher fixes about the student: token size, and the pooled size (the `features`/`contrast` objectives' K). */
export interface TeacherShape {
  tokenDim: number;
  pooledDim: number;
}

/** The student config the run uses: the config's student section plus what the teacher and objective fix. */
export function studentConfigFor(config: TrainConfig, teacher: TeacherShape): StudentConfigInput {
  const s = config.student;
  // dino scores prototypes; features and contrast score the pooled features themselves.
  const outDim = config.objective.kind === 'dino' ? config.objective.prototypes : teacher.pooledDim;
  return {
    ...s,
    teacherDim: teacher.tokenDim,
    lengths: [...config.objective.lengths],
    projector: { ...s.projector, outDim },
  } as StudentConfigInput;
}

/** The configured objective, continuing from `resume` (its saved state) when given. */
export function objectiveFor(config: TrainConfig, data: FeatureCache, resume?: StateDict): Objective {
  const o = config.objective;
  return createObjective(
    o.kind,
    o[o.kind],
    {
      lengths: [...o.lengths],
      weights: o.weights,
      pooledDim: pooledDimOf(data),
      prototypes: (k) => prototypeHead(data, k, config.seed),
      pooledMean: () => pooledMean(data),
      resume,
    },
    { prototypes: o.prototypes },
  );
}

/** The mean [D] of the clean training views' pooled features (float64 sums). */
export function pooledMean(data: FeatureCache): Float32Array {
  const D = pooledDimOf(data);
  const sum = new Float64Array(D);
  const chunk = 1024;
  for (let s = 0; s < data.count; s += chunk) {
    const idx = Array.from({ length: Math.min(chunk, data.count - s) }, (_, i) => s + i);
    const p = data.pooled(idx, 0);
    for (let r = 0; r < p.length; r += D) for (let c = 0; c < D; c++) sum[c] += p[r + c];
  }
  return Float32Array.from(sum, (v) => v / data.count);
}

/** K unit-norm prototypes from k-means (cosine) on a sample of the clean views' pooled features. */
export function prototypeHead(data: FeatureCache, k: number, seed: number): tf.Tensor2D {
  const rng = new Rng(seed + 17);
  const sample = rng.permutation(data.count).slice(0, Math.min(data.count, Math.max(20 * k, 10_000)));
  return tf.tidy(() => {
    const x = l2Normalize(tf.tensor2d(data.pooled(sample, 0), [sample.length, pooledDimOf(data)]));
    const { centres, counts } = kmeans(x, k, { iters: 20, rng, distance: 'cosine' });
    counts.dispose();
    return l2Normalize(centres) as tf.Tensor2D;
  });
}

/**
 * Per-channel mean and standard deviation of the clean training tokens (every image, every token
 * position), for `student.decoder.standardizeTokens`. Sums are float64; a channel that never varies
 * gets std 1 (its standardised value is then 0, not 0/0).
 */
export function tokenStatistics(data: FeatureCache): { mean: Float64Array; std: Float64Array } {
  const D = data.tokenDim;
  const sum = new Float64Array(D);
  const sq = new Float64Array(D);
  const chunk = 256;
  for (let s = 0; s < data.count; s += chunk) {
    const idx = Array.from({ length: Math.min(chunk, data.count - s) }, (_, i) => s + i);
    const t = data.tokens(idx, 0);
    for (let r = 0; r < t.length; r += D) {
      for (let c = 0; c < D; c++) {
        const x = t[r + c];
        sum[c] += x;
        sq[c] += x * x;
      }
    }
  }
  const n = data.count * data.tokenCount;
  const mean = new Float64Array(D);
  const std = new Float64Array(D);
  for (let c = 0; c < D; c++) {
    mean[c] = sum[c] / n;
    const sd = Math.sqrt(Math.max(0, sq[c] / n - mean[c] * mean[c]));
    std[c] = sd > 1e-6 ? sd : 1;
  }
  return { mean, std };
}

/** Student view and target view for one image. `same`: the clean view for both (or one random view); `cross`: two different views. */
function pickViews(rng: Rng, views: number, pairing: 'same' | 'cross'): [number, number] {
  if (views <= 1) return [0, 0];
  if (pairing === 'same') {
    const v = rng.int(views);
    return [v, v];
  }
  const a = rng.int(views);
  const b = (a + 1 + rng.int(views - 1)) % views;
  return [a, b];
}

/**
 * The run's length and warm-up in optimizer steps: `epochs` of the training set, raised to `minSteps`
 * (the warm-up stretched by the same factor, so it stays the same share of the run), capped by
 * `maxSteps`.
 */
export function stepPlan(
  optim: Pick<TrainConfig['optim'], 'epochs' | 'warmupEpochs' | 'minSteps' | 'maxSteps'>,
  stepsPerEpoch: number,
): { totalSteps: number; warmupSteps: number } {
  const byEpochs = stepsPerEpoch * optim.epochs;
  const stretch = optim.minSteps !== undefined && optim.minSteps > byEpochs ? optim.minSteps / byEpochs : 1;
  const totalSteps = Math.min(Math.round(byEpochs * stretch), optim.maxSteps ?? Number.POSITIVE_INFINITY);
  return { totalSteps, warmupSteps: Math.round(optim.warmupEpochs * stepsPerEpoch * stretch) };
}

/**
 * Trains a student on cached teacher features: the epoch/batch loop, the learning-rate schedule,
 * logging, checkpoint cadence and stop conditions; each step is a `TrainStep`. A checkpoint is the
 * student's files plus the state of the optimizer, the objective and the loop, so `resume`
 * continues bit for bit.
 */
export async function train(
  config: TrainConfig,
  data: FeatureCache,
  opts: TrainOptions = {},
): Promise<TrainResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  mkdirSync(config.out, { recursive: true });
  const folder = new RunFolder(config.out);
  const ckpt = folder.checkpoints;
  const { optim, objective: oc } = config;
  const stepsPerEpoch = Math.floor(data.count / optim.batchSize);
  if (stepsPerEpoch < 1) {
    throw new Error(
      `optim.batchSize ${optim.batchSize} is larger than the training set (${data.count} images)`,
    );
  }
  const { totalSteps, warmupSteps } = stepPlan(optim, stepsPerEpoch);
  const teacherShape = { tokenDim: data.tokenDim, pooledDim: pooledDimOf(data) };

  let student: Student;
  let resumed: Record<string, StateDict> | undefined;
  let step = 0;
  /** The newest checkpoint known to hold finite values (all written ones do). */
  let lastGood = 'none yet';
  if (opts.resume && ckpt.exists()) {
    const c = ckpt.load(log);
    student = Student.load(c.student.json, c.student.weights, { source: c.source });
    resumed = c.states;
    step = c.step;
    lastGood = c.source;
    const dropped = ckpt.dropAfter(step);
    if (dropped.length) log(`--resume: removed newer, unusable checkpoints of steps ${dropped.join(', ')}`);
    folder.truncateMetrics(step);
    log(`resuming from ${c.source} at step ${step}`);
  } else {
    if (opts.resume) log(`--resume: no checkpoint in ${ckpt.dir}, starting fresh`);
    folder.truncateMetrics(0);
    student = new Student(studentConfigFor(config, teacherShape), { seed: config.seed });
    if (student.config.decoder.standardizeTokens) {
      const { mean, std } = tokenStatistics(data);
      student.decoder.setTokenStatistics(mean, std);
    }
  }

  const objective = objectiveFor(config, data, resumed?.objective);
  const stepper = new TrainStep(student, objective, {
    lr: optim.lr,
    weightDecay: optim.weightDecay,
    clipGrad: optim.clipGrad,
    auxWeight: oc.auxWeight,
    regularizer: oc.regularizer,
  });
  if (resumed) {
    if (!resumed.optimizer) throw new Error(`--resume: ${lastGood} has no optimizer state`);
    stepper.load(resumed.optimizer, `${lastGood} optimizer state`);
  }

  const parallel =
    (opts.workers ?? 1) > 1
      ? await DataParallel.start({
          replicas: opts.workers!,
          config,
          stepper,
          student,
          objective,
          tokenCount: data.tokenCount,
          tokenDim: data.tokenDim,
          pooledDim: teacherShape.pooledDim,
        })
      : undefined;
  if (parallel)
    log(
      `data-parallel: ${opts.workers} replicas, batch parts of ${splitBatch(optim.batchSize, opts.workers!).join('/')}`,
    );
  let replicaWeights: string[] | undefined;
  const started = Date.now();
  const lastLoss = resumed?.loop?.lastLoss;
  let finalLoss = typeof lastLoss === 'number' ? lastLoss : Number.NaN;
  const alreadyFinished = resumed !== undefined && step >= totalSteps;
  if (alreadyFinished) log(`--resume: already finished at step ${step} of ${totalSteps}; nothing to train`);
  const bar = createProgress({ label: 'train', total: totalSteps - step, unit: 'step', quiet: opts.quiet });
  const stopAt = opts.maxSteps !== undefined ? Math.min(totalSteps, step + opts.maxSteps) : totalSteps;
  try {
    while (step < stopAt) {
      const epoch = Math.floor(step / stepsPerEpoch);
      // The order of an epoch depends only on (seed, epoch), so a resumed run sees the same batches.
      const order = new Rng(config.seed * 7919 + epoch + 1).permutation(data.count);
      const viewRng = new Rng(config.seed * 104729 + epoch + 1);
      const views = order.map(() => pickViews(viewRng, data.viewCount, oc.pairing));
      for (let b = step % stepsPerEpoch; b < stepsPerEpoch && step < stopAt; b++) {
        const idx = order.slice(b * optim.batchSize, (b + 1) * optim.batchSize);
        const vw = views.slice(b * optim.batchSize, (b + 1) * optim.batchSize);
        const lr = cosineLr(step, totalSteps, warmupSteps, optim.lr, optim.minLr);
        const tokenRows = tokensOfViews(data, idx, (i) => vw[i][0]);
        const pooledRows = pooledOfViews(data, idx, (i) => vw[i][1]);
        let values: Record<string, number>;
        if (parallel) values = parallel.run(tokenRows, pooledRows, step, lr);
        else {
          const tokens = tf.tensor3d(tokenRows, [idx.length, data.tokenCount, data.tokenDim]);
          const pooled = tf.tensor2d(pooledRows, [idx.length, teacherShape.pooledDim]);
          values = await stepper.runAsync({ tokens, pooled }, step, lr);
          tf.dispose([tokens, pooled]);
        }
        finalLoss = values.total;
        // Steps are counted as files name them: step N is the N-th update (checkpoint step-N holds its result).
        if (!Number.isFinite(values.total)) {
          throw new Error(
            `loss became ${values.total} at step ${step + 1} (epoch ${epoch}); stopping. The last finite checkpoint is ${lastGood}. Try a lower optim.lr or a larger optim.clipGrad.`,
          );
        }
        step++;
        bar.increment(1, `loss ${values.total.toFixed(4)}`);
        if (step % config.logEvery === 0 || step === stopAt) {
          folder.appendMetrics({ step, epoch, lr, ...values, time: (Date.now() - started) / 1000 });
        }
        if (step % config.checkpointEvery === 0 || step % stepsPerEpoch === 0 || step === stopAt) {
          const e = Math.floor(step / stepsPerEpoch);
          try {
            lastGood = await ckpt.save(
              {
                step,
                student: await student.save({ step, epoch: e, config: config.name }),
                states: {
                  // readOnHost: webgpu in Node has no synchronous readback for these state() reads.
                  ...(await readOnHost(() => ({ optimizer: stepper.state(), objective: objective.state() }))),
                  loop: { step, epoch: e, lastLoss: values.total },
                },
              },
              await student.store.toHost(),
            );
          } catch (err) {
            if (!(err instanceof NonFiniteError)) throw err;
            throw new Error(
              `the parameters became non-finite by ${err.message}; stopping without writing that checkpoint. The last finite checkpoint is ${lastGood}. Try a lower optim.lr or a larger optim.clipGrad.`,
            );
          }
        }
        if (opts.quiet !== true && !bar.visible && step % 50 === 0) {
          log(
            `step ${step}/${totalSteps} epoch ${epoch} loss ${values.total.toFixed(4)} lr ${lr.toExponential(2)}`,
          );
        }
      }
    }
    if (parallel) {
      const others = await parallel.close();
      const mine = sha256((await student.save()).weights);
      replicaWeights = [mine, ...[...others.keys()].sort((a, b) => a - b).map((r) => others.get(r)!)];
      if (replicaWeights.length !== opts.workers || replicaWeights.some((h) => h !== mine)) {
        throw new Error(`data-parallel replicas ended with different weights: ${replicaWeights.join(', ')}`);
      }
    }
  } catch (e) {
    await parallel?.close();
    student.dispose();
    throw e;
  } finally {
    bar.stop();
    stepper.dispose();
    objective.dispose();
  }
  const seconds = (Date.now() - started) / 1000;
  return { student, steps: step, alreadyFinished, finalLoss, seconds, replicaWeights };
}
