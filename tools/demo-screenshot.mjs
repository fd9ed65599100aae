#!/usr/bin/env node
// Screenshot of the built demo with a real export (apps/demo/dist/model), for the README:
//   node apps/trainer/dist/cli.js export --run runs/cpu -o apps/demo/public/model
//   npm run build -w apps/demo && node tools/demo-screenshot.mjs [gallery index] [out.png] [tree]
// With `tree`, the first prefix-tree node is chosen first (its next level open, the gallery filtered).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { preview } from 'vite';
import { CHROMIUM, CHROMIUM_FLAGS } from '../apps/demo/test/chromium.mjs';

const index = Number(process.argv[2] ?? 1);
const out = process.argv[3] ?? 'docs/demo-trained.png';
const tree = process.argv[4] === 'tree';
const server = await preview({ root: 'apps/demo', preview: { port: 4179, host: '127.0.0.1' } });
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'shot-')), {
  executablePath: CHROMIUM,
  headless: true,
  args: CHROMIUM_FLAGS,
  viewport: { width: 1040, height: 900 },
});
try {
  const page = await context.newPage();
  await page.goto('http://127.0.0.1:4179/?backend=wasm');
  await page.waitForFunction(() => document.body.dataset.state !== 'starting', null, { timeout: 120_000 });
  if (tree) await page.click('#tree > ul > li.tree-node:first-child > .tree-row .tree-select');
  const before = await page.evaluate(() => document.body.dataset.answered);
  await page.click(`#gallery button[data-index="${index}"]`);
  await page.waitForFunction((b) => document.body.dataset.answered !== b, before, { timeout: 60_000 });
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await context.close();
  server.httpServer.close();
}
