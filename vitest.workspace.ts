import { defineWorkspace } from 'vitest/config';

/**
 * Every test runs on the wasm backend (the fast one on CPU machines). Files named
 * `*.numeric.test.ts` also run on the pure-JS cpu backend, so a backend difference shows.
 */
export default defineWorkspace([
  {
    extends: './vitest.shared.ts',
    test: {
      name: 'wasm',
      include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'tools/test/**/*.test.ts'],
      env: { SYMSEQ_BACKEND: 'wasm' },
    },
  },
  {
    extends: './vitest.shared.ts',
    test: {
      name: 'cpu',
      include: ['packages/*/test/**/*.numeric.test.ts'],
      env: { SYMSEQ_BACKEND: 'cpu' },
    },
  },
]);
