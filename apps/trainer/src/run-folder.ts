import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '@symseq/data';
import { Student } from '@symseq/decoder';
import { type BackendChoice, selectBackend } from './backend';
import { CheckpointDir, sha256 } from './checkpoints';
import { merge, readConfigFile, resolveTrainConfig, type TrainConfig } from './config';

/** Files a run writes into its folder; `--overwrite` removes exactly these. */
const RUN_FILES = [
  'config.json',
  'metrics.jsonl',
  'student.json',
  'student.safetensors',
  'report.md',
  'report.json',
  'accuracy.svg',
];
const RUN_DIRS = ['checkpoints', 'attention'];

/**
 * A run folder: config.json, metrics.jsonl, checkpoints/, the final student (student.json +
 * student.safetensors) and the report. The final pair is one unit: student.json records the
 * sha256 of student.safetensors and is written second, and readers refuse a pair that does not match.
 */
export class RunFolder {
  readonly checkpoints: CheckpointDir;
  constructor(readonly dir: string) {
    this.checkpoints = new CheckpointDir(join(dir, 'checkpoints'));
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** Does the folder hold (part of) a run? */
  holdsRun(): boolean {
    return ['config.json', 'metrics.jsonl', 'student.json', 'checkpoints'].some((f) =>
      existsSync(this.path(f)),
    );
  }

  /**
   * A fresh `train` into a folder that holds another run is refused unless `overwrite`; `resume`
   * continues it. Read-only: call it before any slow work, and `begin` once everything is valid.
   */
  checkStart(opts: { resume?: boolean; overwrite?: boolean }): void {
    if (opts.resume && opts.overwrite) throw new Error('--resume and --overwrite exclude each other');
    if (!opts.resume && !opts.overwrite && this.holdsRun()) {
      throw new Error(
        `${resolve(this.dir)} already holds a run (config.json, metrics.jsonl or checkpoints/): pass --resume to continue it, --overwrite to replace it, or choose another --out`,
      );
    }
  }

  /**
   * Starts writing, once the config is valid and the data found: `overwrite` first removes the old
   * run's files; the config is written; a resumed run's metrics lose the steps after `resumeStep`
   * (they will be run again).
   */
  async begin(config: TrainConfig, opts: { overwrite?: boolean }): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    if (opts.overwrite) {
      for (const f of RUN_FILES) rmSync(this.path(f), { force: true });
      for (const d of RUN_DIRS) rmSync(this.path(d), { recursive: true, force: true });
    }
    await writeJsonAtomic(this.path('config.json'), config);
  }

  appendMetrics(record: Record<string, unknown>): void {
    appendFileSync(this.path('metrics.jsonl'), `${JSON.stringify(record)}\n`);
  }

  /** Keeps the metrics lines of steps ≤ `step` (a resumed run writes the later ones again). */
  truncateMetrics(step: number): void {
    const p = this.path('metrics.jsonl');
    if (!existsSync(p)) return;
    const kept = readFileSync(p, 'utf8')
      .split('\n')
      .filter((l) => {
        if (!l.trim()) return false;
        try {
          return (JSON.parse(l) as { step?: number }).step! <= step;
        } catch {
          return false; // a line cut by a kill
        }
      });
    writeFileSync(p, kept.length ? `${kept.join('\n')}\n` : '');
  }

  /** Writes the final student: weights first, then the JSON that names their checksum. */
  async writeStudent(student: Student, meta: Record<string, unknown>): Promise<void> {
    const saved = await student.save(meta);
    const json = JSON.parse(saved.json) as { meta: Record<string, unknown> };
    json.meta.weightsSha256 = sha256(saved.weights);
    await writeFileAtomic(this.path('student.safetensors'), saved.weights);
    await writeFileAtomic(this.path('student.json'), JSON.stringify(json, null, 2));
  }

  /** The final student; refuses a weights file that is not the one student.json was written with. */
  readStudent(): Student {
    const jsonPath = this.path('student.json');
    const weightsPath = this.path('student.safetensors');
    if (!existsSync(jsonPath))
      throw new Error(`${resolve(this.dir)}: student.json is missing (training did not finish?)`);
    if (!existsSync(weightsPath)) throw new Error(`${resolve(weightsPath)} is missing`);
    const text = readFileSync(jsonPath, 'utf8');
    const weights = new Uint8Array(readFileSync(weightsPath));
    let expected: unknown;
    try {
      expected = (JSON.parse(text) as { meta?: { weightsSha256?: unknown } }).meta?.weightsSha256;
    } catch (e) {
      throw new Error(`${resolve(jsonPath)} is not valid JSON (${(e as Error).message})`);
    }
    if (expected !== undefined && expected !== sha256(weights)) {
      throw new Error(
        `${resolve(weightsPath)} is not the file ${resolve(jsonPath)} was written with (sha256 differs: an interrupted write?). Run train --resume on this folder to write both again.`,
      );
    }
    return Student.load(text, weights, { source: join(this.dir, 'student') });
  }
}

/** What the commands that read a finished run may override: where its data and teacher moved, the backend. */
export interface RunFlags {
  run: string;
  dataDir?: string;
  teacher?: string;
  backend?: string;
}

/**
 * Opens a finished run for `eval`, `encode`, `attn` and `export`: its resolved config (with the
 * data/teacher paths the flags override), the selected backend, then its final student (whose
 * variables need the backend).
 */
export async function openRun(flags: RunFlags): Promise<{
  config: TrainConfig;
  student: Student;
  backend: { name: string; notes: string[] };
  folder: RunFolder;
}> {
  const folder = new RunFolder(flags.run);
  const cfgPath = folder.path('config.json');
  if (!existsSync(cfgPath))
    throw new Error(`${resolve(flags.run)} is not a symseq run folder (config.json is missing)`);
  const config = resolveTrainConfig(
    merge(readConfigFile(cfgPath), {
      data: flags.dataDir ? { dir: flags.dataDir } : {},
      teacher: flags.teacher ? { path: flags.teacher } : {},
    }),
    cfgPath,
  );
  if (!existsSync(folder.path('student.json')))
    throw new Error(`${resolve(flags.run)}: student.json is missing (training did not finish?)`);
  const backend = await selectBackend((flags.backend as BackendChoice | undefined) ?? config.backend);
  return { config, student: folder.readStudent(), backend, folder };
}
