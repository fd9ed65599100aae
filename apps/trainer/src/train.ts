import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createProgress } from '@symseq/data';
import { Student, type StudentConfigInput } from '@symseq/decoder';
import { kmeans } from '@symseq/discretize';
import { DinoLoss, FeatureRegressionLoss, MultiLengthLoss, SymbolRegularizer } from '@symseq/loss';
import { Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointDir, type TrainState } from './checkpoints';
import type { TrainConfig } from './config';
import { type FeatureSet, gatherPooled, gatherTokens } from './features';
import { cosineLr } from './schedule';

export interface TrainResult {
  student: Student;
  steps: number;
  finalLoss: number;
  seconds: number;
  /** The frozen teacher head (prototypes) when the objective is `dino` on a teacher without one. */
  teacherHead?: tf.Tensor;
}

export interface TrainOptions {
  resume?: boolean;
  quiet?: boolean;
  log?: (line: string) => void;
  /** Stop after this many optimizer steps in this call (for tests of --resume). */
  maxSteps?: number;
}

/** The student config the run uses: the config's student section plus what the teacher and objective fix. */
export function studentConfigFor(config: TrainConfig, train: FeatureSet): StudentConfigInput {
  const s = config.student as StudentConfigInput;
  const outDim = config.objective.kind === 'features' ? train.pooledDim : config.objective.prototypes;
  return {
    ...s,
    teacherDim: train.tokenDim,
    lengths: config.objective.lengths,
    projector: { ...(s.projector ?? {}), outDim },
  } as StudentConfigInput;
}

/**
 * Trains a student on cached teacher features. Each step: student reads view A's tokens and writes
 * symbols; every prefix length in `objective.lengths` is re-encoded, projected, and matched to the
 * teacher target from view B (same view unless `pairing` is `cross`).
 */
export async function train(
  config: TrainConfig,
  data: FeatureSet,
  opts: TrainOptions = {},
): Promise<TrainResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const out = config.out;
  mkdirSync(out, { recursive: true });
  const ckpt = new CheckpointDir(join(out, 'checkpoints'));
  const metricsPath = join(out, 'metrics.jsonl');
  const { optim, objective } = config;
  const stepsPerEpoch = Math.floor(data.n / optim.batchSize);
  if (stepsPerEpoch < 1) {
    throw new Error(`optim.batchSize ${optim.batchSize} is larger than the training set (${data.n} images)`);
  }
  const totalSteps = stepsPerEpoch * optim.epochs;
  const warmupSteps = Math.round(optim.warmupEpochs * stepsPerEpoch);

  let student: Student;
  let state: TrainState | undefined;
  if (opts.resume && ckpt.exists()) {
    const c = ckpt.load();
    student = Student.load(c.studentJson, c.studentWeights, { source: c.source });
    state = c.state;
    log(`resuming from ${c.source} at step ${state.step}`);
  } else {
    if (opts.resume) log(`--resume: no checkpoint in ${ckpt.dir}, starting fresh`);
    student = new Student(studentConfigFor(config, data), { seed: config.seed });
  }

  const multi = new MultiLengthLoss({ lengths: objective.lengths, weights: objective.weights });
  const featureLoss = new FeatureRegressionLoss({ kind: 'cosine' });
  const dino =
    objective.kind === 'dino' ? new DinoLoss({ outDim: objective.prototypes, ...objective.dino }) : undefined;
  const regularizer = Object.keys(objective.regularizer).length
    ? new SymbolRegularizer(objective.regularizer)
    : undefined;
  // A teacher without a DINO head gets a frozen one: K prototypes from k-means on its pooled features.
  const teacherHead = dino ? prototypeHead(data, objective.prototypes, config.seed) : undefined;

  const optimizer = tf.train.adam(optim.lr, 0.9, 0.999, 1e-8);
  const variables = student.trainableVariables();
  const decayed = new Set(variables.filter((v) => v.rank >= 2));
  let step = 0;
  if (state) {
    step = state.step;
    await restoreOptimizer(optimizer, state, variables);
    if (dino && state.lossState) dino.setCenter(state.lossState);
    restoreRngs(student, state.rngStates);
  }

  const started = Date.now();
  let finalLoss = Number.NaN;
  const bar = createProgress({ label: 'train', total: totalSteps - step, unit: 'step', quiet: opts.quiet });
  const stopAt = opts.maxSteps !== undefined ? Math.min(totalSteps, step + opts.maxSteps) : totalSteps;
  try {
    while (step < stopAt) {
      const epoch = Math.floor(step / stepsPerEpoch);
      // The order of an epoch depends only on (seed, epoch), so a resumed run sees the same batches.
      const order = new Rng(config.seed * 7919 + epoch + 1).permutation(data.n);
      const viewRng = new Rng(config.seed * 104729 + epoch + 1);
      const views = order.map(() => pickViews(viewRng, data.views, objective.pairing));
      for (let b = step % stepsPerEpoch; b < stepsPerEpoch && step < stopAt; b++) {
        const idx = order.slice(b * optim.batchSize, (b + 1) * optim.batchSize);
        const vw = views.slice(b * optim.batchSize, (b + 1) * optim.batchSize);
        const lr = cosineLr(step, totalSteps, warmupSteps, optim.lr, optim.minLr);
        (optimizer as unknown as { learningRate: number }).learningRate = lr;
        const values = trainStep(step, idx, vw, lr);
        finalLoss = values.total;
        if (!Number.isFinite(values.total)) {
          throw new Error(
            `loss became ${values.total} at step ${step} (epoch ${epoch}); stopping. The last good checkpoint is kept in ${ckpt.dir}. Try a lower optim.lr or a larger optim.clipGrad.`,
          );
        }
        step++;
        bar.increment();
        if (step % config.logEvery === 0 || step === stopAt) {
          appendFileSync(
            metricsPath,
            `${JSON.stringify({ step, epoch, lr, ...values, time: (Date.now() - started) / 1000 })}\n`,
          );
        }
        if (step % config.checkpointEvery === 0 || step % stepsPerEpoch === 0 || step === stopAt) {
          await saveCheckpoint(step, Math.floor(step / stepsPerEpoch), values.total);
        }
        if (opts.quiet !== true && !bar.visible && step % 50 === 0) {
          log(
            `step ${step}/${totalSteps} epoch ${epoch} loss ${values.total.toFixed(4)} lr ${lr.toExponential(2)}`,
          );
        }
      }
    }
  } finally {
    bar.stop();
    optimizer.dispose();
    dino?.dispose();
  }
  return { student, steps: step, finalLoss, seconds: (Date.now() - started) / 1000, teacherHead };

  function trainStep(
    stepNow: number,
    idx: number[],
    vw: [number, number][],
    lr: number,
  ): Record<string, number> {
    const perLengthT: Record<number, tf.Scalar> = {};
    let auxT: tf.Scalar | undefined;
    const lossT = tf.tidy(() => {
      const B = idx.length;
      const tokens = tf.tensor3d(
        gatherTokens(data, idx, (i) => vw[i][0]),
        [B, data.tokensPerView, data.tokenDim],
      );
      const pooled = tf.tensor2d(
        gatherPooled(data, idx, (i) => vw[i][1]),
        [B, data.pooledDim],
      );
      // The teacher's head output, once per step: for the targets now and the centre update after.
      const tLogits = dino && teacherHead ? teacherLogits(pooled, teacherHead) : undefined;
      const targets = dino && tLogits ? dino.teacherTargets(tLogits, stepNow) : undefined;
      const { value, grads } = tf.variableGrads(() => {
        const outS = student.forward(tokens, {
          mode: 'train',
          step: stepNow,
          lengths: [...objective.lengths],
        });
        const byLength = new Map(outS.prefixes.map((p) => [p.length, p.projection]));
        const r = targets
          ? multi.aggregate(byLength, (s) => dino!.crossEntropy(targets, s))
          : multi.aggregate(byLength, (s) => featureLoss.compute(s, pooled));
        let total = tf.add(r.total, tf.mul(outS.auxLoss, objective.auxWeight));
        if (regularizer) {
          // Logits [B, L, V]; the regulariser's `input` option says how to read them (default logits).
          total = tf.add(total, regularizer.compute(tf.stack(outS.decoder.logits, 1)).total);
        }
        for (const [l, t] of Object.entries(r.perLength)) perLengthT[Number(l)] = tf.keep(t);
        auxT = tf.keep(outS.auxLoss as tf.Scalar);
        return total as tf.Scalar;
      }, variables);
      const clipped = optim.clipGrad > 0 ? clipByGlobalNorm(grads, optim.clipGrad) : grads;
      optimizer.applyGradients(clipped as unknown as Record<string, tf.Variable>);
      // Decoupled weight decay (AdamW) on matrices only, as DINO excludes biases and norms.
      if (optim.weightDecay > 0) {
        for (const v of decayed) v.assign(tf.mul(v, 1 - lr * optim.weightDecay));
      }
      if (dino && tLogits) dino.updateCenter(tLogits);
      return value;
    });
    const values: Record<string, number> = { total: lossT.dataSync()[0] };
    for (const [l, t] of Object.entries(perLengthT)) values[`len${l}`] = t.dataSync()[0];
    if (auxT) values.aux = auxT.dataSync()[0];
    tf.dispose([lossT, auxT, ...Object.values(perLengthT)]);
    return values;
  }

  async function saveCheckpoint(stepNow: number, epoch: number, lastLoss: number): Promise<void> {
    const optimizerWeights = await optimizer.getWeights();
    const host: TrainState['optimizer'] = {};
    for (let i = 0; i < optimizerWeights.length; i++) {
      const t = optimizerWeights[i].tensor;
      host[`${String(i).padStart(4, '0')}.${optimizerWeights[i].name}`] = {
        shape: t.shape.length ? [...t.shape] : [1],
        data: (await t.data()) as Float32Array,
      };
      // getWeights() makes a fresh tensor for the iteration count; the slots are the optimizer's own.
      if (!(t instanceof tf.Variable)) t.dispose();
    }
    await ckpt.save(await student.save({ step: stepNow, epoch, config: config.name }), {
      step: stepNow,
      epoch,
      optimizer: host,
      lossState: dino ? Array.from(dino.getCenter().data) : undefined,
      rngStates: rngStatesOf(student),
      lastLoss,
    });
  }
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

function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): tf.NamedTensorMap {
  return tf.tidy(() => {
    const sq = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    const norm = tf.sqrt(tf.addN(sq));
    const scale = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
    const out: tf.NamedTensorMap = {};
    for (const [k, g] of Object.entries(grads)) out[k] = tf.mul(g, scale);
    return out;
  });
}

/** Cosine similarity of L2-normalised pooled features to each prototype: logits in [-1, 1], as DINO's head gives. */
export function teacherLogits(pooled: tf.Tensor, head: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.matMul(l2n(pooled), head, false, true));
}

// Written without tf.norm, which needs tfjs' chained-op handler that tfjs-core alone lacks.
const l2n = (x: tf.Tensor) => tf.mul(x, tf.rsqrt(tf.add(tf.sum(tf.square(x), -1, true), 1e-12)));

/** K unit-norm prototypes from k-means (cosine) on a sample of the clean views' pooled features. */
export function prototypeHead(data: FeatureSet, k: number, seed: number): tf.Tensor {
  const rng = new Rng(seed + 17);
  const sample = rng.permutation(data.n).slice(0, Math.min(data.n, Math.max(20 * k, 10_000)));
  return tf.tidy(() => {
    const x = l2n(
      tf.tensor2d(
        gatherPooled(data, sample, () => 0),
        [sample.length, data.pooledDim],
      ),
    );
    const { centres, counts } = kmeans(x, k, { iters: 20, rng, distance: 'cosine' });
    counts.dispose();
    return l2n(centres);
  });
}

async function restoreOptimizer(
  optimizer: tf.Optimizer,
  state: TrainState,
  variables: tf.Variable[],
): Promise<void> {
  // tfjs creates Adam's slots lazily: one zero-gradient step builds them, then setWeights overwrites.
  const names = Object.keys(state.optimizer).sort();
  if (!names.length) return;
  const zero: tf.NamedTensorMap = {};
  for (const v of variables) zero[v.name] = tf.zerosLike(v);
  const saved = variables.map((v) => tf.clone(v));
  optimizer.applyGradients(zero as unknown as Record<string, tf.Variable>);
  for (let i = 0; i < variables.length; i++) variables[i].assign(saved[i]);
  tf.dispose([...saved, ...Object.values(zero)]);
  const current = await optimizer.getWeights();
  if (current.length !== names.length) {
    throw new Error(
      `--resume: the checkpoint has ${names.length} optimizer tensors, this model needs ${current.length}`,
    );
  }
  await optimizer.setWeights(
    names.map((n, i) => ({
      name: current[i].name,
      tensor: tf.tensor(state.optimizer[n].data, current[i].tensor.shape),
    })),
  );
}

type WithRng = { rng?: { getState(): number[]; setState(s: number[]): void } };

function rngStatesOf(student: Student): Record<string, number[]> {
  const d = (student as unknown as { discretizer?: WithRng }).discretizer;
  return d?.rng ? { discretizer: d.rng.getState() } : {};
}

function restoreRngs(student: Student, states: Record<string, number[]>): void {
  const d = (student as unknown as { discretizer?: WithRng }).discretizer;
  if (d?.rng && states.discretizer) d.rng.setState(states.discretizer);
}
