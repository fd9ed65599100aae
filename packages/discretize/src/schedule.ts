import { parseConfig } from '@symseq/nn';
import { z } from 'zod';

const positive = z.number().finite().positive();

export const TemperatureScheduleSchema = z
  .object({
    kind: z.enum(['constant', 'linear', 'exponential', 'cosine']),
    start: positive,
    /** Required unless kind is 'constant'. */
    end: positive.optional(),
    /** Required unless kind is 'constant'. */
    steps: z.number().int().positive().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.kind === 'constant') return;
    for (const key of ['end', 'steps'] as const) {
      if (c[key] === undefined) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [key],
          message: `required for a ${c.kind} schedule`,
        });
      }
    }
  });

export type TemperatureScheduleConfig = z.input<typeof TemperatureScheduleSchema>;

/**
 * A temperature as a pure function of the training step. Over `steps` steps the value goes
 * from `start` to `end` and stays at `end` afterwards:
 * - `constant`: start
 * - `linear`: start + (end − start)·t
 * - `exponential`: start·(end/start)^t (a constant ratio per step)
 * - `cosine`: end + (start − end)·(1 + cos πt)/2
 * with t = min(step/steps, 1).
 */
export function temperatureSchedule(config: TemperatureScheduleConfig): (step: number) => number {
  const c = parseConfig(TemperatureScheduleSchema, config, 'temperature schedule');
  return (step: number) => {
    if (!(Number.isFinite(step) && step >= 0)) {
      throw new Error(`temperature schedule: step must be a finite number ≥ 0, got ${step}`);
    }
    if (c.kind === 'constant') return c.start;
    const end = c.end as number;
    const t = Math.min(step / (c.steps as number), 1);
    switch (c.kind) {
      case 'linear':
        return c.start + (end - c.start) * t;
      case 'exponential':
        return c.start * (end / c.start) ** t;
      case 'cosine':
        return end + ((c.start - end) * (1 + Math.cos(Math.PI * t))) / 2;
    }
  };
}

/** A temperature given as a number or a schedule. */
export const TemperatureSchema = z.union([positive, TemperatureScheduleSchema], {
  // zod's own union message is "Invalid input"; say which alternative failed and why.
  errorMap: (issue, ctx) => {
    if (issue.code !== 'invalid_union') return { message: ctx.defaultError };
    if (typeof ctx.data === 'number') return { message: `must be a finite number > 0, got ${ctx.data}` };
    if (typeof ctx.data === 'object' && ctx.data !== null) {
      const inner = issue.unionErrors[1]?.issues ?? [];
      return {
        message: `invalid schedule: ${inner.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      };
    }
    return { message: 'expected a number > 0 or a schedule { kind, start, end, steps }' };
  },
});
export type Temperature = z.input<typeof TemperatureSchema>;

/** Resolves a temperature (number or schedule) at `step`; a schedule needs the step. */
export function resolveTemperature(
  temperature: number | ((step: number) => number),
  step: number | undefined,
  what: string,
): number {
  if (typeof temperature === 'number') return temperature;
  if (step === undefined) {
    throw new Error(
      `${what}: the temperature follows a schedule, so discretize() needs the training step ({ step })`,
    );
  }
  return temperature(step);
}
