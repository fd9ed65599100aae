// TEMPORARY manual check
import { mkdtempSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { serveFolders } from '../test/static-server';

const { url, server } = await serveFolders({ '/': 'apps/demo/dist', '/model/': process.argv[2] });
const ctx = await chromium.launchPersistentContext(mkdtempSync('/tmp/pwud-'), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const page = await ctx.newPage();
page.on('console', (m) => console.log('console:', m.type(), m.text().slice(0, 300)));
page.on('pageerror', (e) => console.log('pageerror:', e.message));
const t0 = Date.now();
await page.goto(url + (process.argv[3] ?? '?backend=wasm'));
await page.waitForFunction(() => document.body.dataset.state !== 'starting', null, { timeout: 60000 });
console.log(
  'state',
  await page.evaluate(() => document.body.dataset.state),
  Date.now() - t0,
  'ms',
  await page.textContent('#backend'),
  await page.textContent('#error'),
);
if (process.argv[4]) {
  await page.setInputFiles('#file-input', process.argv[4]);
  await page.waitForFunction(() => document.querySelector('#result')?.getAttribute('data-count'), null, {
    timeout: 60000,
  });
  console.log(
    'symbols',
    await page.getAttribute('#symbols', 'data-symbols'),
    await page.textContent('#status'),
  );
}
await page.screenshot({ path: '/tmp/demo-scratch/shot.png', fullPage: true });
await ctx.close();
server.close();
