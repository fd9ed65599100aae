import type { z } from 'zod';

/**
 * Validates `value` against a zod schema and returns the parsed (defaulted) config, or throws
 * one readable error that names the config and lists each bad field with what was expected.
 * Unknown keys are rejected when the schema is `.strict()`, with a suggestion of the closest name.
 */
export function parseConfig<S extends z.ZodTypeAny>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const lines = r.error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.join('.') : '(root)';
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schema, issue.path);
      return issue.keys
        .map((k) => {
          const s = closest(k, known);
          return `  ${[...issue.path, k].join('.')}: unknown key${s ? ` (did you mean '${s}'?)` : ''}`;
        })
        .join('\n');
    }
    return `  ${path}: ${issue.message}`;
  });
  throw new Error(`invalid ${what}:\n${lines.join('\n')}`);
}

function knownKeys(schema: z.ZodTypeAny, path: (string | number)[]): string[] {
  // biome-ignore lint/suspicious/noExplicitAny: walks zod's internal definition tree
  let s: any = schema;
  for (const p of path) {
    s = unwrap(s);
    s = s?.shape?.[p] ?? s?._def?.type;
  }
  s = unwrap(s);
  return s?.shape ? Object.keys(s.shape) : [];
}

// biome-ignore lint/suspicious/noExplicitAny: zod wrapper types
function unwrap(s: any): any {
  while (s?._def?.innerType || s?._def?.schema) s = s._def.innerType ?? s._def.schema;
  return s;
}

/** The candidate with the smallest edit distance to `word`, if it is close enough to be a typo. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

export function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}
