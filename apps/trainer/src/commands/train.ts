import { join } from 'node:path';
import { assertWritableFolder } from '@symseq/data';
import { Student } from '@symseq/decoder';
import { selectBackend } from '../backend';
import { buildTrainConfig, type TrainFlags, withAbsolutePaths } from '../config';
import { checkDataLocation, openSplits } from '../data-source';
import { checkAgainstData, evaluateRun, runFacts } from '../evaluation';
import { defaultWorkers } from '../feature-workers';
import { featuresOf } from '../features';
import { summaryLine } from '../report';
import { RunFolder } from '../run-folder';
import { loadTeacher } from '../teacher-source';
import { studentConfigFor, train } from '../train';

/**
 * `symseq train`: validate everything that can be checked (config, run folder, data location,
 * teacher, sizes, the student config itself) before the slow work; only then touch the run folder,
 * extract (or reuse) teacher features, train, write the final student and the report.
 */
export async function trainCommand(
  flags: TrainFlags & { workers?: number; printConfig?: boolean },
): Promise<void> {
  if (flags.printConfig) {
    console.log(JSON.stringify(buildTrainConfig(flags), null, 2));
    return;
  }
  const given = buildTrainConfig(flags);
  const folder = new RunFolder(given.out);
  folder.checkStart(flags);
  assertWritableFolder(given.out, 'output');
  assertWritableFolder(given.cache.dir, 'cache.dir');
  const log = (l: string) => console.log(l);
  const backend = await selectBackend(given.backend);
  const gpu = backend.adapter;
  const on = gpu ? ` on ${gpu.description}${gpu.software ? ', software' : ''}` : '';
  log(
    `backend: ${backend.name}${on}${backend.notes.length ? ` (passed over: ${backend.notes.join('; ')})` : ''}`,
  );
  // Refused here, before any slow work, when the backend cannot run replicas.
  const replicas = trainReplicas(flags.workers, backend.name, given.optim.batchSize);
  const t0 = Date.now();
  checkDataLocation(given);
  // Paths stored absolute, so eval/encode/attn/export --run work from any directory.
  const config = withAbsolutePaths(given);
  const teacher = await loadTeacher(config);
  log(`teacher: ${teacher.id} (${teacher.dims.numTokens} tokens × ${teacher.dims.tokenDim})`);
  // Build (and drop) the student once: its own checks (discretizer options…) run before any extraction.
  new Student(
    studentConfigFor(config, { tokenDim: teacher.dims.tokenDim, pooledDim: teacher.dims.pooledDim }),
  ).dispose();
  const splits = await openSplits(config, { quiet: flags.quiet });
  log(
    `data: ${splits.train.length} train / ${splits.test.length} test images, ${splits.train.classes.length} classes`,
  );
  checkAgainstData(config, { train: splits.train.length, test: splits.test.length });
  await folder.begin(config, { overwrite: flags.overwrite && !flags.resume });

  const featureOpts = { quiet: flags.quiet, workers: flags.workers };
  const trainF = await featuresOf(config, teacher, splits.train, 'train', config.cache.views, featureOpts);
  const testF = await featuresOf(config, teacher, splits.test, 'test', 0, featureOpts);
  teacher.dispose();
  const featureSeconds = (Date.now() - t0) / 1000;
  const result = await train(config, trainF, {
    resume: flags.resume,
    quiet: flags.quiet,
    log,
    workers: replicas,
  });
  await folder.writeStudent(result.student, {
    step: result.steps,
    teacher: teacher.id,
    grid: teacher.dims.grid,
    classes: trainF.manifest.classes,
  });
  const loss = `final loss ${result.finalLoss.toFixed(4)}`;
  log(
    result.alreadyFinished
      ? `already finished at step ${result.steps}; ${loss}; final student and report written again`
      : `trained ${result.steps} steps in ${result.seconds.toFixed(0)} s; ${loss}`,
  );
  const { result: r, table } = await evaluateRun(
    config.out,
    config,
    result.student,
    trainF,
    testF,
    runFacts(
      { backend: backend.name, teacherId: teacher.id, train: trainF, test: testF, skipped: splits.skipped },
      { steps: result.steps, trainSeconds: result.seconds, featureSeconds, finalLoss: result.finalLoss },
    ),
    { quiet: flags.quiet },
  );
  log('');
  log(table);
  log(`${summaryLine(r)}; report: ${join(config.out, 'report.md')}`);
  result.student.dispose();
}

/**
 * Data-parallel replicas for `train`: `--workers` when given, else every core on the single-threaded
 * backends (wasm, cpu), capped at the batch size; one on the others (webgpu, tfjs-node), which use the
 * device or their own threads, and whose replicas are refused: the all-reduce reads tensors synchronously.
 */
export function trainReplicas(workers: number | undefined, backend: string, batchSize: number): number {
  const threaded = backend === 'wasm' || backend === 'cpu';
  if (workers === undefined) return threaded ? Math.max(1, Math.min(defaultWorkers(), batchSize)) : 1;
  if (workers > 1 && !threaded) {
    throw new Error(
      `--workers ${workers}: data-parallel training runs on the wasm or cpu backend; '${backend}' trains in one process (--workers 1)`,
    );
  }
  return workers;
}
