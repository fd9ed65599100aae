import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '@symseq/data';
import {
  type HostTensor,
  joinStates,
  readSafetensors,
  type StateDict,
  type StateValue,
  splitStates,
  writeSafetensors,
} from '@symseq/nn';

export const CHECKPOINT_STATE_FORMAT = 'symseq-train-state';
export const CHECKPOINT_STATE_VERSION = 2;

/** One checkpoint: the student's own files, plus owner → state of everything else (optimizer, objective, loop). */
export interface Checkpoint {
  step: number;
  student: { json: string; weights: Uint8Array };
  states: Record<string, StateDict>;
}

export const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** A tensor or parameter set held non-finite values; the checkpoint was not written. */
export class NonFiniteError extends Error {}

/** Names and counts the non-finite values among host tensors, or returns undefined when all are finite. */
export function nonFinite(tensors: Record<string, HostTensor>): string | undefined {
  let count = 0;
  const names: string[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    let here = 0;
    for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i])) here++;
    if (here) names.push(name);
    count += here;
  }
  if (!count) return undefined;
  return `${count} non-finite values in ${names.length} tensors (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''})`;
}

interface StateJson {
  format: typeof CHECKPOINT_STATE_FORMAT;
  version: number;
  step: number;
  values: Record<string, Record<string, StateValue>>;
  /** sha256 of the other files of this checkpoint, checked on load. */
  files: Record<string, string>;
}

const stepName = (step: number) => `step-${String(step).padStart(7, '0')}`;

/**
 * Checkpoints live in `<out>/checkpoints/step-NNNNNNN.*` (N = optimizer steps done). Each has the
 * student's files, `state.safetensors` (every state tensor, `owner/name`) and `state.json` (the
 * other state values and the sha256 of the other files); `latest.json` names the newest and is
 * written last. Only finite parameters are written. Loading verifies every file and falls back to
 * the older kept checkpoint when the newest is unreadable. The two newest are kept.
 */
export class CheckpointDir {
  constructor(readonly dir: string) {}

  async save(c: Checkpoint, studentTensors: Record<string, HostTensor>): Promise<string> {
    const { tensors, values } = splitStates(c.states);
    const bad = nonFinite({ ...studentTensors, ...tensors });
    if (bad) throw new NonFiniteError(`step ${c.step}: ${bad}`);
    mkdirSync(this.dir, { recursive: true });
    const base = stepName(c.step);
    const stateBytes = writeSafetensors(tensors);
    const files: Record<string, string> = {
      [`${base}.student.safetensors`]: sha256(c.student.weights),
      [`${base}.student.json`]: sha256(c.student.json),
      [`${base}.state.safetensors`]: sha256(stateBytes),
    };
    await writeFileAtomic(join(this.dir, `${base}.student.safetensors`), c.student.weights);
    await writeFileAtomic(join(this.dir, `${base}.student.json`), c.student.json);
    await writeFileAtomic(join(this.dir, `${base}.state.safetensors`), stateBytes);
    const json: StateJson = {
      format: CHECKPOINT_STATE_FORMAT,
      version: CHECKPOINT_STATE_VERSION,
      step: c.step,
      values,
      files,
    };
    await writeJsonAtomic(join(this.dir, `${base}.state.json`), json);
    await writeJsonAtomic(join(this.dir, 'latest.json'), { step: c.step, state: `${base}.state.json` });
    this.prune(c.step, 2);
    return join(this.dir, `${base}.student.json`);
  }

  exists(): boolean {
    return this.steps().length > 0 || existsSync(join(this.dir, 'latest.json'));
  }

  /** Step numbers that have a state.json, newest first. */
  steps(): number[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .map((f) => /^step-(\d+)\.state\.json$/.exec(f)?.[1])
      .filter((s): s is string => s !== undefined)
      .map(Number)
      .sort((a, b) => b - a);
  }

  /**
   * The newest checkpoint that reads back intact: the one `latest.json` names, else (saying why
   * through `log`) the next older. Throws, naming each file and what is wrong, when none does.
   */
  load(log: (line: string) => void = () => {}): Checkpoint & { source: string } {
    const order = this.steps();
    const ptrPath = join(this.dir, 'latest.json');
    if (existsSync(ptrPath)) {
      try {
        const ptr = JSON.parse(readFileSync(ptrPath, 'utf8')) as { step?: unknown };
        if (typeof ptr.step === 'number' && order.includes(ptr.step)) {
          order.splice(order.indexOf(ptr.step), 1);
          order.unshift(ptr.step);
        }
      } catch (e) {
        log(`${ptrPath} is unreadable (${(e as Error).message}); using the newest checkpoint found`);
      }
    }
    if (!order.length) throw new Error(`--resume: no checkpoint in ${this.dir} (no step-*.state.json)`);
    const problems: string[] = [];
    for (const step of order) {
      try {
        const c = this.read(step);
        if (problems.length) log(`--resume: ${problems.join('; ')}; falling back to ${stepName(step)}`);
        return c;
      } catch (e) {
        problems.push(`checkpoint ${stepName(step)} is unusable: ${(e as Error).message}`);
      }
    }
    throw new Error(`--resume: no usable checkpoint in ${this.dir}:\n  ${problems.join('\n  ')}`);
  }

  /** Deletes checkpoints newer than `step` (left by a run that went on past the point resumed from). */
  dropAfter(step: number): number[] {
    const gone = this.steps().filter((s) => s > step);
    for (const s of gone) this.remove(s);
    return gone;
  }

  private read(step: number): Checkpoint & { source: string } {
    const base = stepName(step);
    const path = (ext: string) => join(this.dir, `${base}.${ext}`);
    const file = (ext: string): Buffer => {
      try {
        return readFileSync(path(ext));
      } catch (e) {
        throw new Error(
          `${path(ext)} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        );
      }
    };
    let json: StateJson;
    try {
      json = JSON.parse(file('state.json').toString('utf8')) as StateJson;
    } catch (e) {
      if ((e as Error).message.includes('cannot be read')) throw e;
      throw new Error(`${path('state.json')} is not valid JSON (${(e as Error).message})`);
    }
    if (json.format !== CHECKPOINT_STATE_FORMAT || json.version !== CHECKPOINT_STATE_VERSION) {
      throw new Error(
        `${path('state.json')}: format ${JSON.stringify(json.format)} v${JSON.stringify(json.version)}, expected ${CHECKPOINT_STATE_FORMAT} v${CHECKPOINT_STATE_VERSION}`,
      );
    }
    if (json.step !== step || typeof json.files !== 'object' || typeof json.values !== 'object') {
      throw new Error(
        `${path('state.json')}: step, values or files missing or wrong (expected step ${step})`,
      );
    }
    const bytes: Record<string, Buffer> = {};
    for (const ext of ['student.safetensors', 'student.json', 'state.safetensors']) {
      const name = `${base}.${ext}`;
      bytes[ext] = file(ext);
      if (json.files[name] !== sha256(bytes[ext])) {
        throw new Error(
          `${path(ext)} does not match the checksum in ${base}.state.json (damaged or from another write)`,
        );
      }
    }
    const tensors = readSafetensors(
      new Uint8Array(bytes['state.safetensors']),
      path('state.safetensors'),
    ).tensors;
    return {
      step,
      student: {
        json: bytes['student.json'].toString('utf8'),
        weights: new Uint8Array(bytes['student.safetensors']),
      },
      states: joinStates(tensors, json.values),
      source: path('student'),
    };
  }

  private remove(step: number): void {
    const prefix = `${stepName(step)}.`;
    for (const f of readdirSync(this.dir))
      if (f.startsWith(prefix)) rmSync(join(this.dir, f), { force: true });
  }

  /** Keeps `step` and the newest older ones, `keep` in all; drops newer ones (an abandoned future). */
  private prune(step: number, keep: number): void {
    const all = new Set(
      readdirSync(this.dir)
        .map((f) => /^step-(\d+)\./.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .map(Number),
    );
    const older = [...all].filter((s) => s <= step).sort((a, b) => b - a);
    for (const s of [...all].filter((s) => s > step)) this.remove(s);
    for (const s of older.slice(keep)) this.remove(s);
  }
}
