import { expect } from 'vitest';
import type { MalformedCase, MalformedReader } from './generate.mjs';
import { generateMalformedCorpus } from './generate.mjs';

export type { MalformedCase };

/** Writes the corpus into `dir` and returns the cases of `reader`, failing if there are none. */
export function corpusCases(dir: string, reader: MalformedReader): MalformedCase[] {
  const cases = generateMalformedCorpus(dir).filter((c) => c.reader === reader);
  expect(cases.length, `corpus cases for ${reader}`).toBeGreaterThan(0);
  return cases;
}

/**
 * `read` must refuse the case within `ms` (never hang) with a plain Error (not a TypeError/RangeError
 * from a crash inside the reader) whose message names `names` (the file or folder) and matches
 * `c.expect`, and carries no stack trace.
 */
export async function expectRefusal(
  c: MalformedCase,
  read: () => unknown,
  names: string = c.path,
  ms = 10_000,
): Promise<Error> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    (async () => {
      try {
        await read();
        return { ok: true as const };
      } catch (e) {
        return { ok: false as const, error: e };
      }
    })(),
    new Promise<{ hang: true }>((done) => {
      timer = setTimeout(() => done({ hang: true }), ms);
    }),
  ]);
  clearTimeout(timer);
  expect('hang' in outcome, `${c.path}: reader still running after ${ms} ms`).toBe(false);
  const r = outcome as { ok: boolean; error?: unknown };
  expect(r.ok, `${c.path}: reader accepted a malformed input`).toBe(false);
  const error = r.error as Error;
  expect(error, `${c.path}: threw a non-Error ${String(error)}`).toBeInstanceOf(Error);
  expect(error.constructor.name, `${c.path}: raw ${error.constructor.name}: ${error.message}`).toBe('Error');
  expect(error.message, 'names the input').toContain(names);
  expect(error.message).toMatch(c.expect!);
  expect(error.message).not.toMatch(/\n\s+at /);
  return error;
}
