import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const packages = fileURLToPath(new URL('../../packages/', import.meta.url));

/**
 * The demo bundles the workspace packages from source (as the tests do), so `npm run dev` shows a
 * change to a package at once and a build never picks up a stale `dist/`.
 * `base: './'` keeps every URL relative: the build works from any folder of a static server.
 */
export default defineConfig({
  base: './',
  resolve: {
    alias: [{ find: /^@symseq\/([a-z-]+)$/, replacement: `${packages}$1/src/index.ts` }],
  },
  build: {
    target: 'es2022',
    // tfjs backends are large by nature; each is its own chunk, loaded only when tried.
    chunkSizeWarningLimit: 3000,
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
