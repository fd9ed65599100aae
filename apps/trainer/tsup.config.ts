import { defineConfig } from 'tsup';

// The CLI is one ESM bundle; workspace packages and tfjs stay external (resolved from node_modules).
export default defineConfig({
  entry: [
    'src/cli.ts',
    'src/index.ts',
    'src/feature-worker.ts',
    'src/train-replica.ts',
    'src/baseline-worker.ts',
  ],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  clean: true,
  banner: { js: '#!/usr/bin/env node' },
  // Optional native backends load their binaries relative to their own folder: never bundle them.
  external: ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
});
