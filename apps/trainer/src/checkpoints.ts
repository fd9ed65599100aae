import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '@symseq/data';
import { type HostTensor, readSafetensors, writeSafetensors } from '@symseq/nn';

/** Training state besides the student's weights, enough to continue exactly. */
export interface TrainState {
  step: number;
  epoch: number;
  /** Optimizer slot variables, by position, as tfjs `getWeights()` lists them. */
  optimizer: Record<string, HostTensor>;
  /** DINO centre and other loss state. */
  lossState?: number[];
  /** RNG states (e.g. Gumbel noise) by owner. */
  rngStates: Record<string, number[]>;
  /** Loss of the last logged step, for the log. */
  lastLoss?: number;
}

interface Pointer {
  step: number;
  student: string;
  state: string;
  optimizer: string;
}

/**
 * Checkpoints live in `<out>/checkpoints/step-NNNNNNN.*`; `latest.json` names the newest complete one
 * and is written (atomically) only after all its files are, so a crash never leaves a half checkpoint
 * behind the pointer. The two newest are kept.
 */
export class CheckpointDir {
  constructor(readonly dir: string) {}

  async save(student: { json: string; weights: Uint8Array }, state: TrainState): Promise<string> {
    mkdirSync(this.dir, { recursive: true });
    const base = `step-${String(state.step).padStart(7, '0')}`;
    const p = (ext: string) => join(this.dir, `${base}.${ext}`);
    await writeFileAtomic(p('student.safetensors'), student.weights);
    await writeFileAtomic(p('student.json'), student.json);
    await writeFileAtomic(p('optimizer.safetensors'), writeSafetensors(state.optimizer));
    const { optimizer: _o, ...rest } = state;
    await writeJsonAtomic(p('state.json'), rest);
    const pointer: Pointer = {
      step: state.step,
      student: `${base}.student`,
      state: `${base}.state.json`,
      optimizer: `${base}.optimizer.safetensors`,
    };
    await writeJsonAtomic(join(this.dir, 'latest.json'), pointer);
    this.prune(2);
    return p('student.json');
  }

  exists(): boolean {
    return existsSync(join(this.dir, 'latest.json'));
  }

  /** The newest complete checkpoint: student files and training state. */
  load(): { studentJson: string; studentWeights: Uint8Array; state: TrainState; source: string } {
    const ptrPath = join(this.dir, 'latest.json');
    if (!existsSync(ptrPath))
      throw new Error(`--resume: no checkpoint in ${this.dir} (latest.json is missing)`);
    const ptr = JSON.parse(readFileSync(ptrPath, 'utf8')) as Pointer;
    const source = join(this.dir, ptr.student);
    const state = JSON.parse(readFileSync(join(this.dir, ptr.state), 'utf8')) as TrainState;
    state.optimizer = readSafetensors(
      new Uint8Array(readFileSync(join(this.dir, ptr.optimizer))),
      ptr.optimizer,
    ).tensors;
    return {
      studentJson: readFileSync(`${source}.json`, 'utf8'),
      studentWeights: new Uint8Array(readFileSync(`${source}.safetensors`)),
      state,
      source,
    };
  }

  private prune(keep: number): void {
    const steps = [
      ...new Set(
        readdirSync(this.dir)
          .map((f) => /^step-(\d+)\./.exec(f)?.[1])
          .filter(Boolean),
      ),
    ].sort();
    for (const s of steps.slice(0, Math.max(0, steps.length - keep))) {
      for (const f of readdirSync(this.dir)) if (f.startsWith(`step-${s}.`)) rmSync(join(this.dir, f));
    }
  }
}
