import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';

/**
 * Runs every ```ts block of the README as a module, so the examples stay runnable.
 * Blocks are written next to this file (bare imports must resolve from the package), then removed.
 */
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
const dir = new URL(`./.readme-run-${process.pid}/`, import.meta.url);

describe('README examples run', () => {
  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
    vi.spyOn(console, 'log').mockImplementation(() => {});
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    vi.restoreAllMocks();
  });

  test('the README has an example per feature', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(14);
  });

  blocks.forEach((code, i) => {
    const title = code.split('\n').find((l) => !l.startsWith('import') && l.trim()) ?? '';
    test(`block ${i + 1}: ${title.slice(0, 60)}`, async () => {
      const file = new URL(`block-${i + 1}.ts`, dir);
      writeFileSync(file, code);
      await import(/* @vite-ignore */ file.href);
    });
  });
});
