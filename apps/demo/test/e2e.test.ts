// End to end: a real (tiny) training run, exported by the trainer, loaded by the built demo in
// Debian's Chromium. The symbols the page shows must be the trainer's `encode` output for the same file.
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImageFile } from '@symseq/data';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_FLAGS } from './chromium.mjs';
import { serveFolders } from './static-server';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEMO = join(ROOT, 'apps/demo');
const CLI = join(ROOT, 'apps/trainer/dist/cli.js');
const SHARED = process.env.SYMSEQ_SHARED ?? resolve(ROOT, '../shared');
const CIFAR = join(SHARED, 'data/cifar10-jpeg');
const MOBILENET = join(SHARED, 'models/mobilenet_v1_0.75_224');
// Git-ignored (test-results/): a test run leaves the tree clean. The README's picture is made on
// purpose by tools/demo-screenshot.mjs.
const SCREENSHOT = join(DEMO, 'test-results/demo.png');

const missing = [
  existsSync(CHROMIUM) ? '' : `Chromium at ${CHROMIUM} (apt-get install chromium)`,
  existsSync(join(MOBILENET, 'model.json')) ? '' : `the MobileNet model in ${MOBILENET}`,
  existsSync(join(CIFAR, 'test')) ? '' : `CIFAR-10 in ${CIFAR}`,
].filter(Boolean);
if (missing.length) console.warn(`demo e2e: skipped: needs ${missing.join(' and ')}`);

function run(cmd: string, args: string[], what: string): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(cmd, args, { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err)
        fail(
          new Error(
            `${what} failed (${err.message.split('\n')[0]}):\n${stderr.slice(-3000)}\n${stdout.slice(-2000)}`,
          ),
        );
      else ok(stdout);
    });
  });
}

const trainer = (args: string[], what: string) => run(process.execPath, [CLI, ...args], what);

/** A test image the gallery does not hold: a CIFAR-10 test photo cropped to 32×26 (not square), as PNG. */
async function writeUploadImage(file: string): Promise<void> {
  const cats = join(CIFAR, 'test', 'cat');
  const source = join(cats, readdirSync(cats).sort()[40]);
  const img = await decodeImageFile(source);
  const top = 3;
  const height = 26;
  const png = new PNG({ width: img.width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < img.width; x++) {
      const s = 3 * ((y + top) * img.width + x);
      const d = 4 * (y * img.width + x);
      png.data.set([img.data[s], img.data[s + 1], img.data[s + 2], 255], d);
    }
  }
  writeFileSync(file, PNG.sync.write(png));
}

interface GalleryJson {
  file: string;
  class?: string;
  symbols: number[];
}

describe.skipIf(missing.length > 0)('demo in Chromium (wasm backend)', () => {
  let tmp: string;
  let exportDir: string;
  let uploadPng: string;
  let galleryPick: number;
  /** Trainer `encode` output: file → symbols. */
  const expected = new Map<string, number[]>();
  let gallery: GalleryJson[];
  let server: Server;
  let baseUrl: string;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`demo e2e: ${CLI} is missing; build first (npm run build)`);
    const help = await trainer(['--help'], 'symseq --help');
    if (!/^\s+export\b/m.test(help)) {
      throw new Error(
        'demo e2e: the trainer has no `export` command (symseq export --run <dir> --out <dir>)',
      );
    }
    tmp = mkdtempSync(join(tmpdir(), 'symseq-demo-e2e-'));
    const runDir = join(tmp, 'run');
    exportDir = join(tmp, 'export');
    uploadPng = join(tmp, 'upload.png');
    await writeUploadImage(uploadPng);

    const produce = async () => {
      await trainer(
        // biome-ignore format: one flag per pair
        ['train', '--train-limit', '500', '--test-limit', '200', '--epochs', '1', '--out', runDir,
         '--data-dir', CIFAR, '--teacher', MOBILENET, '--backend', 'wasm', '--quiet',
         // 15 small steps instead of 2 large ones, same time: symbols vary more between images.
         '--set', 'optim.batchSize=32'],
        'symseq train',
      );
      await trainer(
        ['export', '--run', runDir, '--out', exportDir, '--backend', 'wasm', '--quiet'],
        'symseq export',
      );
      gallery = JSON.parse(readFileSync(join(exportDir, 'gallery.json'), 'utf8'));
      galleryPick = Math.min(7, gallery.length - 1);
      const files = [uploadPng, join(exportDir, gallery[galleryPick].file)];
      const out = await trainer(['encode', '--run', runDir, ...files, '--backend', 'wasm'], 'symseq encode');
      for (const line of out.split('\n').filter((l) => l.startsWith('{'))) {
        const r = JSON.parse(line) as { file: string; symbols: number[] };
        expected.set(resolve(ROOT, r.file), r.symbols);
      }
      for (const f of files)
        if (!expected.has(f)) throw new Error(`symseq encode gave no line for ${f}:\n${out}`);
    };
    const site = join(tmp, 'site');
    const buildSite = () =>
      run(
        process.execPath,
        [
          join(ROOT, 'node_modules/vite/bin/vite.js'),
          'build',
          DEMO,
          '--outDir',
          site,
          '--emptyOutDir',
          '--logLevel',
          'warn',
        ],
        'vite build of the demo',
      );
    // Training and the build are separate processes: on two cores they overlap.
    await Promise.all([produce(), buildSite()]);

    const broken = join(tmp, 'broken');
    mkdirSync(broken);
    writeFileSync(
      join(broken, 'manifest.json'),
      JSON.stringify({ format: 'symseq-demo-export', version: 1 }),
    );
    ({ url: baseUrl, server } = await serveFolders({ '/': site, '/model/': exportDir, '/broken/': broken }));
    context = await chromium.launchPersistentContext(join(tmp, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1040, height: 900 },
    });
    page = await context.newPage();
    await page.goto(`${baseUrl}?backend=wasm`);
    await page.waitForFunction(() => document.body.dataset.state !== 'starting', null, { timeout: 60_000 });
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    server?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** Chooses a file with the file input and waits for the page to describe it. */
  async function choose(file: string): Promise<void> {
    const before = await page.evaluate(() => document.body.dataset.answered);
    await page.setInputFiles('#file-input', file);
    await page.waitForFunction((b) => document.body.dataset.answered !== b, before, { timeout: 60_000 });
  }

  /** Clicks gallery thumbnail `index` and waits for the page to describe it. */
  async function clickGallery(index: number): Promise<void> {
    const before = await page.evaluate(() => document.body.dataset.answered);
    await page.click(`#gallery button[data-index="${index}"]`);
    await page.waitForFunction((b) => document.body.dataset.answered !== b, before, { timeout: 60_000 });
  }

  const shownSymbols = async () =>
    (await page.getAttribute('#symbols', 'data-symbols'))!.split(',').map(Number);
  const neighbourIndices = async () =>
    (await page.getAttribute('#neighbours', 'data-indices'))!.split(',').map(Number);

  async function setPrefix(length: number): Promise<void> {
    await page.$eval(
      '#prefix',
      (el, l) => {
        const input = el as HTMLInputElement;
        input.value = String(l);
        input.dispatchEvent(new Event('input', { bubbles: true }));
      },
      length,
    );
  }

  it('starts on the wasm backend and loads the exported model', async () => {
    expect(await page.textContent('#error')).toBe('');
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('ready');
    expect(await page.textContent('#backend')).toBe('wasm');
    const info = await page.textContent('#model-info');
    expect(info).toContain(`gallery of ${gallery.length} images`);
    expect(await page.locator('#gallery button').count()).toBe(gallery.length);
  });

  it('shows the symbols the trainer encodes for the same image file', async () => {
    await choose(uploadPng);
    expect(await page.isHidden('#error')).toBe(true);
    expect(await page.getAttribute('#result', 'data-image')).toBe('upload.png');
    const want = expected.get(uploadPng)!;
    expect(await shownSymbols()).toEqual(want);
    // The chips show the same ids, in order.
    expect(await page.locator('#symbols li').allTextContents()).toEqual(want.map(String));
  });

  it('draws one non-blank attention overlay per symbol, labelled with its symbol and position', async () => {
    const want = expected.get(uploadPng)!;
    const overlays = await page.$$eval('#overlays canvas', (canvases) =>
      (canvases as HTMLCanvasElement[]).map((c) => {
        const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let sum = 0;
        let sq = 0;
        let n = 0;
        for (let i = 0; i < data.length; i += 4) {
          for (let ch = 0; ch < 3; ch++) {
            sum += data[i + ch];
            sq += data[i + ch] ** 2;
            n++;
          }
        }
        const mean = sum / n;
        return {
          position: Number(c.dataset.position),
          symbol: Number(c.dataset.symbol),
          width: c.width,
          height: c.height,
          variance: sq / n - mean * mean,
          opaque: data.every((v, i) => i % 4 !== 3 || v === 255),
        };
      }),
    );
    expect(overlays).toHaveLength(want.length);
    overlays.forEach((o, i) => {
      expect(o.position).toBe(i + 1);
      expect(o.symbol).toBe(want[i]);
      // 32×26 scaled so the longer side is 128.
      expect([o.width, o.height]).toEqual([128, 104]);
      expect(o.opaque).toBe(true);
      // A blank or single-colour canvas has variance 0; an image under a heatmap has hundreds.
      expect(o.variance).toBeGreaterThan(50);
    });
  });

  it('describes a file dropped on the page the same way', async () => {
    await choose(join(exportDir, gallery[0].file));
    const before = await page.evaluate(() => document.body.dataset.answered);
    const bytes = [...readFileSync(uploadPng)];
    await page.evaluate((b) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(b)], 'dropped.png', { type: 'image/png' }));
      const zone = document.getElementById('drop-zone')!;
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, bytes);
    await page.waitForFunction((b) => document.body.dataset.answered !== b, before, { timeout: 60_000 });
    expect(await page.getAttribute('#result', 'data-image')).toBe('dropped.png');
    expect(await shownSymbols()).toEqual(expected.get(uploadPng));
  });

  it('the prefix slider changes the neighbours, nearest first by shared prefix', async () => {
    const symbols = await shownSymbols();
    const L = symbols.length;
    const byLength = new Map<number, number[]>();
    for (const l of [1, L]) {
      await setPrefix(l);
      expect(await page.getAttribute('#neighbours', 'data-length')).toBe(String(l));
      byLength.set(l, await neighbourIndices());
    }
    expect(byLength.get(1)).not.toEqual(byLength.get(L));
    // An embedding depends only on its prefix, so a gallery image with the same first l symbols is
    // as similar as can be: if there is one, it comes first.
    for (const l of [1, L]) {
      const first = gallery[byLength.get(l)![0]];
      const same = gallery.some((g) => g.symbols.slice(0, l).join() === symbols.slice(0, l).join());
      if (same) expect(first.symbols.slice(0, l)).toEqual(symbols.slice(0, l));
    }
    await setPrefix(1);
    const chipsShown = await page.locator('#neighbours li').count();
    expect(chipsShown).toBe(Math.min(8, gallery.length));
  });

  it('a click on a gallery image describes it like the trainer does, and it is not its own neighbour', async () => {
    await clickGallery(galleryPick);
    expect(await page.getAttribute('#result', 'data-image')).toBe(gallery[galleryPick].file);
    expect(await shownSymbols()).toEqual(expected.get(join(exportDir, gallery[galleryPick].file)));
    for (const l of [1, 8]) {
      await setPrefix(l);
      const found = await neighbourIndices();
      expect(found).not.toContain(galleryPick);
      expect(found).toHaveLength(Math.min(8, gallery.length - 1));
    }
  });

  it('has one file-choosing control: the drop zone opens the file chooser, the native input is out of sight', async () => {
    const box = await page.locator('#file-input').boundingBox();
    expect(box === null || (box.width <= 1 && box.height <= 1)).toBe(true);
    expect(await page.isVisible('#drop-zone')).toBe(true);
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.click('#drop-zone .as-link'),
    ]);
    expect(chooser.isMultiple()).toBe(false);
  });

  /** Gallery indices whose symbols start with `prefix`, from gallery.json (not from the page). */
  const withPrefix = (prefix: number[]) =>
    gallery.flatMap((g, i) => (prefix.every((s, k) => g.symbols[k] === s) ? [i] : []));
  const visibleGallery = async () =>
    await page.$$eval('#gallery button:not([hidden])', (bs) =>
      bs.map((b) => Number((b as HTMLElement).dataset.index)),
    );
  const nodes = (parent: string) =>
    page.$$eval(`${parent} > ul > li.tree-node`, (lis) =>
      lis.map((li) => ({
        prefix: (li as HTMLElement).dataset.prefix!.split(' ').map(Number),
        count: Number((li as HTMLElement).dataset.count),
        mix: Array.from(li.querySelectorAll(':scope > .tree-row .mix span'), (s) =>
          Number((s as HTMLElement).dataset.count),
        ),
        thumbs: li.querySelectorAll(':scope > .tree-row .tree-thumbs img').length,
      })),
    );

  it('the prefix tree groups the gallery by first symbol, largest group first; counts add up to the gallery size', async () => {
    expect(await page.isVisible('#tree-section')).toBe(true);
    const top = await nodes('#tree');
    const firsts = new Map<number, number>();
    for (const g of gallery) firsts.set(g.symbols[0], (firsts.get(g.symbols[0]) ?? 0) + 1);
    const want = [...firsts]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .map(([s, n]) => ({ prefix: [s], count: n }));
    expect(top.map(({ prefix, count }) => ({ prefix, count }))).toEqual(want);
    expect(top.reduce((a, n) => a + n.count, 0)).toBe(gallery.length);
    expect(await page.getAttribute('#tree', 'data-total')).toBe(String(gallery.length));
    for (const n of top) {
      // the class-mix bar counts every image of the node once
      expect(n.mix.reduce((a, b) => a + b, 0)).toBe(n.count);
      expect(n.thumbs).toBe(Math.min(4, n.count));
    }
  });

  it('choosing a tree node shows only its images; its children split them further; "show all" undoes it', async () => {
    expect(await visibleGallery()).toHaveLength(gallery.length);
    const first = page.locator('#tree > ul > li.tree-node').first();
    const prefix = (await first.getAttribute('data-prefix'))!.split(' ').map(Number);
    await first.locator(':scope > .tree-row .tree-select').click();
    expect(await visibleGallery()).toEqual(withPrefix(prefix));
    expect(await page.textContent('#gallery-filter-text')).toBe(
      `${withPrefix(prefix).length} of ${gallery.length} images start with ${prefix.join(' ')}.`,
    );
    // the node opened: its children are the second symbols of its images
    const children = await nodes(`#tree > ul > li.tree-node[data-prefix="${prefix.join(' ')}"]`);
    const seconds = new Set(withPrefix(prefix).map((i) => gallery[i].symbols[1]));
    expect(children.map((c) => c.prefix[1]).sort((a, b) => a - b)).toEqual(
      [...seconds].sort((a, b) => a - b),
    );
    expect(children.reduce((a, c) => a + c.count, 0)).toBe(withPrefix(prefix).length);
    const child = children[children.length - 1].prefix;
    await page.click(`li.tree-node[data-prefix="${child.join(' ')}"] > .tree-row .tree-select`);
    expect(await visibleGallery()).toEqual(withPrefix(child));
    // a filtered gallery image still describes itself
    const pick = withPrefix(child)[0];
    await clickGallery(pick);
    expect(await shownSymbols()).toEqual(gallery[pick].symbols);
    await page.click('#gallery-show-all');
    expect(await visibleGallery()).toHaveLength(gallery.length);
    expect(await page.isHidden('#gallery-filter')).toBe(true);
  });

  it('saves a screenshot for the README, of the gallery image with the most varied symbols', async () => {
    const variety = gallery.map((g) => new Set(g.symbols).size);
    const pick = variety.indexOf(Math.max(...variety));
    await clickGallery(pick);
    // The page and the export (batched, from the dataset's pixels) agree on the gallery's symbols.
    expect(await shownSymbols()).toEqual(gallery[pick].symbols);
    await setPrefix(2);
    mkdirSync(join(DEMO, 'test-results'), { recursive: true });
    const png = await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(PNG.sync.read(png).width).toBe(1040);
  });

  it('says so when the file is not an image, and keeps working', async () => {
    const notes = join(tmp, 'notes.txt');
    writeFileSync(notes, 'these are words, not pixels\n');
    await choose(notes);
    expect(await page.isVisible('#error')).toBe(true);
    expect(await page.textContent('#error')).toBe(
      '“notes.txt” (text/plain) is not an image this browser can read. Choose a PNG, JPEG, WebP or GIF file.',
    );
    await choose(uploadPng);
    expect(await page.isHidden('#error')).toBe(true);
    expect(await shownSymbols()).toEqual(expected.get(uploadPng));
  });

  it('names the file and the problem when the model cannot be loaded', async () => {
    const p = await context.newPage();
    try {
      await p.goto(`${baseUrl}?backend=wasm&model=./nowhere/`);
      await p.waitForFunction(() => document.body.dataset.state === 'failed', null, { timeout: 30_000 });
      const text = await p.textContent('#error');
      expect(text).toContain(`The model at ${baseUrl}nowhere/ could not be loaded.`);
      expect(text).toContain(`${baseUrl}nowhere/manifest.json answered HTTP 404`);
      await p.goto(`${baseUrl}?backend=wasm&model=./broken/`);
      await p.waitForFunction(() => document.body.dataset.state === 'failed', null, { timeout: 30_000 });
      expect(await p.textContent('#error')).toContain(
        `invalid ${baseUrl}broken/manifest.json:\n  student: Required`,
      );
    } finally {
      await p.close();
    }
  });

  it('without a ?backend= falls through webgpu → webgl → wasm to cpu, and says why', async () => {
    const p = await context.newPage();
    try {
      // A browser with no WebGPU, no WebGL and no WebAssembly: only the cpu backend can run. (A string,
      // so the test transform adds no helpers that the page lacks.)
      await p.addInitScript({
        content: `
          Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
          for (const C of [HTMLCanvasElement, OffscreenCanvas]) {
            const getContext = C.prototype.getContext;
            C.prototype.getContext = function (type, ...rest) {
              return type.includes('webgl') ? null : getContext.call(this, type, ...rest);
            };
          }
          delete globalThis.WebAssembly;`,
      });
      await p.goto(baseUrl);
      await p.waitForFunction(() => document.body.dataset.state !== 'starting', null, { timeout: 60_000 });
      expect(await p.textContent('#error')).toBe('');
      expect(await p.textContent('#backend')).toBe(
        'cpu (passed over: webgpu: navigator.gpu is missing; webgl: the browser gives no WebGL context; wasm: WebAssembly is missing)',
      );
      expect(await p.evaluate(() => document.body.dataset.state)).toBe('ready');
    } finally {
      await p.close();
    }
  });

  it('without a ?backend= passes over software WebGL (SwiftShader here) for wasm, and says why', async () => {
    const p = await context.newPage();
    try {
      await p.goto(baseUrl);
      await p.waitForFunction(() => document.body.dataset.state !== 'starting', null, { timeout: 60_000 });
      expect(await p.textContent('#error')).toBe('');
      const text = (await p.textContent('#backend'))!;
      expect(text).toMatch(
        /^wasm \(passed over: webgpu: [^;]+; webgl: a software renderer \([^)]*SwiftShader/,
      );
      expect(text).toContain('slower than wasm');
      expect(await p.evaluate(() => document.body.dataset.backend)).toBe('wasm');
      // asked for by name, the software WebGL still runs
      await p.goto(`${baseUrl}?backend=webgl`);
      await p.waitForFunction(() => document.body.dataset.state !== 'starting', null, { timeout: 60_000 });
      expect(await p.textContent('#backend')).toBe('webgl');
    } finally {
      await p.close();
    }
  });

  it('passes over a software WebGPU adapter too (SwiftShader behind --enable-unsafe-webgpu)', async () => {
    const webgpu = await chromium.launchPersistentContext(join(tmp, 'chromium-webgpu'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_FLAGS, '--enable-unsafe-webgpu'],
    });
    try {
      const p = await webgpu.newPage();
      await p.goto(baseUrl);
      await p.waitForFunction(() => document.body.dataset.state !== 'starting', null, { timeout: 60_000 });
      expect(await p.textContent('#error')).toBe('');
      // Chromium reports its WebGPU SwiftShader as vendor "google", architecture "swiftshader", a fallback adapter
      expect(await p.textContent('#backend')).toMatch(
        /^wasm \(passed over: webgpu: a fallback \(software\) adapter \(google swiftshader\), slower than wasm; webgl: a software renderer/,
      );
    } finally {
      await webgpu.close();
    }
  });

  it('tells an unsupported browser apart from a broken model', async () => {
    const p = await context.newPage();
    try {
      // A browser without WebAssembly cannot start the wasm backend the URL asks for.
      await p.addInitScript(() => {
        delete (globalThis as { WebAssembly?: unknown }).WebAssembly;
      });
      await p.goto(`${baseUrl}?backend=wasm`);
      await p.waitForFunction(() => document.body.dataset.state === 'failed', null, { timeout: 30_000 });
      expect(await p.textContent('#status')).toBe('Unsupported browser.');
      expect(await p.textContent('#backend')).toBe('none');
      expect(await p.textContent('#error')).toContain(
        "This browser cannot run the model: the requested backend 'wasm' could not start (wasm: WebAssembly is missing)",
      );
    } finally {
      await p.close();
    }
  });
});
