import { describe, expect, test } from 'vitest';
import { temperatureSchedule } from '../src';

describe('temperatureSchedule', () => {
  test('constant', () => {
    const s = temperatureSchedule({ kind: 'constant', start: 0.7 });
    expect([0, 10, 1e6].map(s)).toEqual([0.7, 0.7, 0.7]);
  });

  test('linear: start → end over steps, then end', () => {
    const s = temperatureSchedule({ kind: 'linear', start: 2, end: 0.5, steps: 100 });
    expect(s(0)).toBe(2);
    expect(s(25)).toBeCloseTo(1.625, 12);
    expect(s(100)).toBeCloseTo(0.5, 12);
    expect(s(1000)).toBeCloseTo(0.5, 12);
  });

  test('exponential: a constant ratio per step', () => {
    const s = temperatureSchedule({ kind: 'exponential', start: 1, end: 0.01, steps: 4 });
    const expected = [1, 10 ** -0.5, 0.1, 10 ** -1.5, 0.01, 0.01];
    for (const [i, step] of [0, 1, 2, 3, 4, 9].entries()) expect(s(step)).toBeCloseTo(expected[i], 12);
  });

  test('cosine: half a cosine from start to end', () => {
    const s = temperatureSchedule({ kind: 'cosine', start: 1, end: 0.2, steps: 10 });
    expect(s(0)).toBeCloseTo(1, 12);
    expect(s(5)).toBeCloseTo(0.6, 12);
    expect(s(2.5)).toBeCloseTo(0.2 + (0.8 * (1 + Math.SQRT1_2)) / 2, 12);
    expect(s(10)).toBeCloseTo(0.2, 12);
    expect(s(20)).toBeCloseTo(0.2, 12);
  });

  test('bad configs and steps give clear errors', () => {
    expect(() => temperatureSchedule({ kind: 'linear', start: 0, end: 1, steps: 10 })).toThrow(/start/);
    expect(() => temperatureSchedule({ kind: 'linear', start: 1, end: -1, steps: 10 })).toThrow(/end/);
    // biome-ignore lint/suspicious/noExplicitAny: testing a JS caller's mistake
    expect(() => temperatureSchedule({ kind: 'cosine', start: 1, end: 0.5 } as any)).toThrow(
      /steps: required for a cosine schedule/,
    );
    // biome-ignore lint/suspicious/noExplicitAny: testing a JS caller's mistake
    expect(() => temperatureSchedule({ kind: 'sigmoid', start: 1 } as any)).toThrow(/kind/);
    // biome-ignore lint/suspicious/noExplicitAny: testing a JS caller's mistake
    expect(() => temperatureSchedule({ kind: 'linear', start: 1, end: 0.5, step: 3 } as any)).toThrow(
      /did you mean 'steps'/,
    );
    const s = temperatureSchedule({ kind: 'linear', start: 1, end: 0.5, steps: 3 });
    expect(() => s(-1)).toThrow(/step must be a finite number ≥ 0, got -1/);
    expect(() => s(Number.NaN)).toThrow(/step/);
  });
});
