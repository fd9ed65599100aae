import { openSplits } from '../data-source';
import { checkAgainstData, evaluateRun, runFacts } from '../evaluation';
import { featuresOf } from '../features';
import { summaryLine, trainingFactsOf } from '../report';
import { openRun, type RunFlags } from '../run-folder';
import { loadTeacher } from '../teacher-source';

/** `symseq eval`: the k-NN table of a finished run (and the extra rows); rewrites its report. */
export async function evalCommand(flags: RunFlags & { quiet?: boolean }): Promise<void> {
  const { config, student, backend } = await openRun(flags);
  try {
    console.log(`backend: ${backend.name}`);
    const splits = await openSplits(config, { quiet: flags.quiet });
    checkAgainstData(config, { train: splits.train.length, test: splits.test.length });
    const teacher = await loadTeacher(config);
    const trainF = await featuresOf(config, teacher, splits.train, 'train', config.cache.views, flags);
    const testF = await featuresOf(config, teacher, splits.test, 'test', 0, flags);
    teacher.dispose();
    const { result, table } = await evaluateRun(
      flags.run,
      config,
      student,
      trainF,
      testF,
      runFacts(
        {
          backend: backend.name,
          teacherId: teacher.id,
          train: trainF,
          test: testF,
          skipped: splits.skipped,
        },
        trainingFactsOf(flags.run),
      ),
      { quiet: flags.quiet },
    );
    console.log(table);
    console.log(summaryLine(result));
  } finally {
    student.dispose();
  }
}
