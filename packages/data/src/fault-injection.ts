import { basename } from 'node:path';

/** Where in `writeFileAtomic` a fault can be injected. */
export type FaultMoment = 'before-rename' | 'after-rename';

interface FaultSpec {
  moment: FaultMoment;
  name: RegExp;
  nth: number;
}

let parsed: { env: string; spec: FaultSpec | undefined } | undefined;
let matches = 0;

/**
 * Test hook for the fault-injection suite (apps/trainer/test/fault-injection.test.ts), off unless the
 * environment sets it: `SYMSEQ_FAULT=<moment>:<file-name glob>[#n]` makes the process SIGKILL itself at
 * the n-th (default first) atomic write of a file whose name matches, either `before-rename` (the
 * temporary file is complete, the target untouched: a kill in the middle of a write) or `after-rename`
 * (the file is in place, nothing after it written). `*` in the glob matches any characters.
 * Example: `SYMSEQ_FAULT=after-rename:step-*.student.safetensors#2`.
 */
export function injectFault(moment: FaultMoment, target: string): void {
  const env = process.env.SYMSEQ_FAULT ?? '';
  if (!env) return;
  if (parsed?.env !== env) {
    parsed = { env, spec: parseFault(env) };
    matches = 0;
  }
  const spec = parsed.spec!;
  if (spec.moment !== moment || !spec.name.test(basename(target))) return;
  matches++;
  if (matches === spec.nth) process.kill(process.pid, 'SIGKILL');
}

function parseFault(env: string): FaultSpec {
  const m = /^(before-rename|after-rename):([^#]+)(?:#(\d+))?$/.exec(env);
  if (!m) {
    throw new Error(
      `SYMSEQ_FAULT=${env}: expected <before-rename|after-rename>:<file-name glob>[#n], e.g. after-rename:latest.json#2`,
    );
  }
  const glob = m[2].replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return { moment: m[1] as FaultMoment, name: new RegExp(`^${glob}$`), nth: Number(m[3] ?? 1) };
}
