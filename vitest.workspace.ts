import { fileURLToPath } from 'node:url';
import { defineWorkspace } from 'vitest/config';
import { backendProjects } from './vitest.shared';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The root run (`npm test`, CI): every test once on the wasm backend, and the packages'
 * `*.numeric.test.ts` again on cpu. Each package's vitest.config.ts runs the same split for its
 * own tests alone; this file does not load those, so nothing runs twice.
 */
export default defineWorkspace(
  backendProjects(
    root,
    ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'tools/test/**/*.test.ts'],
    ['packages/*/test/**/*.numeric.test.ts'],
  ),
);
