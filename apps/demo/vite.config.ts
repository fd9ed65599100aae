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
    // tfjs-core and tfjs-layers alone make the main chunk ~530 kB (150 kB gzipped).
    chunkSizeWarningLimit: 700,
    rollupOptions: {
      output: {
        // Each backend is a chunk loaded on demand; name it after its package (rather than `dist`).
        chunkFileNames(chunk) {
          const pkg = /@tensorflow\/(tfjs-backend-[a-z]+)\//.exec(chunk.facadeModuleId ?? '')?.[1];
          return `assets/${pkg ?? '[name]'}-[hash].js`;
        },
      },
    },
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
