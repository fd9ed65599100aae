import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Tests import workspace packages from source, so a change is tested without a rebuild. */
export default defineConfig({
  resolve: {
    alias: [{ find: /^@symseq\/([a-z-]+)$/, replacement: `${root}packages/$1/src/index.ts` }],
  },
  test: {
    setupFiles: [`${root}tools/test-setup.ts`],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
