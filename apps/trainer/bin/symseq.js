#!/usr/bin/env node
// The `symseq` command. It lives in the source tree, not in dist/, so that `npm ci` (which links a
// workspace's bin only when its file exists) links it before anything is built.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error(
    `symseq: ${fileURLToPath(cli)} is missing: the trainer is not built yet; run \`npm run build\` first`,
  );
  process.exit(1);
}
await import(cli.href);
