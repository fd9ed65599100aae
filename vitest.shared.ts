import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * What every test run shares: workspace packages are imported from source (a change is tested
 * without a rebuild), and tools/test-setup.ts registers gradients and selects the backend.
 */
const shared = {
  resolve: {
    alias: [{ find: /^@symseq\/([a-z-]+)$/, replacement: `${root}packages/$1/src/index.ts` }],
  },
  test: {
    setupFiles: [`${root}tools/test-setup.ts`],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks' as const,
  },
};

export default defineConfig(shared);

/**
 * The two projects of every run: `wasm` runs `tests` on the wasm backend (the fast one on CPU
 * machines) and `cpu` repeats `numericTests` on the pure-JS cpu backend, so a backend difference
 * shows. Globs are relative to `dir`, so a run finds the same files from any working directory.
 */
export function backendProjects(
  dir: string,
  tests: string[],
  numericTests: string[],
): TestProjectInlineConfiguration[] {
  const project = (name: 'wasm' | 'cpu', include: string[]): TestProjectInlineConfiguration => ({
    ...shared,
    root: dir,
    test: { ...shared.test, name, include, env: { SYMSEQ_BACKEND: name } },
  });
  return [project('wasm', tests), project('cpu', numericTests)];
}

/**
 * A package's own vitest.config.ts (`export default packageTestConfig(import.meta.url)`): its
 * `test/**\/*.test.ts` on wasm and its `*.numeric.test.ts` also on cpu, as the root run does, so
 * `npm test -w @symseq/<name>`, `turbo run test` and `npx vitest run` in the package all work.
 */
export function packageTestConfig(configUrl: string) {
  const dir = fileURLToPath(new URL('.', configUrl));
  // tools/test-setup.ts registers gradients through the built entry users import; `npm test` at the
  // root and `turbo run test` build it first, a bare run in a fresh checkout would fail obscurely.
  if (!existsSync(`${root}packages/nn/dist/register-gradients.js`)) {
    throw new Error(
      'tests need the built @symseq/nn/register-gradients (tools/test-setup.ts imports it): run ' +
        '`npx turbo run build --filter=@symseq/nn` first, or `npx turbo run test --filter=<package>`, which builds it',
    );
  }
  return defineConfig({
    test: { projects: backendProjects(dir, ['test/**/*.test.ts'], ['test/**/*.numeric.test.ts']) },
  });
}
