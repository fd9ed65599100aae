import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { describe, expect, test } from 'vitest';
import { repoRoot } from '../readme/consumer';

// What a browser bundler makes of the published packages (their built dist, as resolved through
// package.json `exports`): tfjs-core is the app's own, so it stays external and is not counted.
async function bundle(contents: string) {
  const r = await build({
    stdin: { contents, resolveDir: repoRoot },
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'iife',
    write: false,
    metafile: true,
    external: ['@tensorflow/tfjs-core'],
    logLevel: 'silent',
  });
  return { code: r.outputFiles[0].text, bytes: r.outputFiles[0].contents.length, metafile: r.metafile };
}

/** Minified bytes per package in the bundle. */
function bytesByPackage(metafile: Metafile): Record<string, number> {
  const out: Record<string, number> = {};
  for (const output of Object.values(metafile.outputs)) {
    for (const [file, input] of Object.entries(output.inputs)) {
      const name =
        /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? /packages\/([^/]+)\//.exec(file)?.[1];
      if (name) out[name] = (out[name] ?? 0) + input.bytesInOutput;
    }
  }
  return out;
}

describe('browser bundles', () => {
  test('temperatureSoftmax alone bundles for the browser within 70 KB (zod v3 is ~59 KB of it)', async () => {
    const { bytes, metafile } = await bundle(
      "import { temperatureSoftmax } from '@symseq/discretize'; globalThis.f = temperatureSoftmax;",
    );
    const parts = bytesByPackage(metafile);
    console.log(`temperatureSoftmax bundle: ${bytes} bytes minified`, parts);
    expect(bytes).toBeLessThan(70_000);
    expect(Object.keys(parts).filter((p) => /^(node:|fs|crypto|zlib|path)/.test(p))).toEqual([]);
  });

  test('the student and the attention overlays bundle for the browser (no Node built-ins)', async () => {
    const { bytes } = await bundle(
      "import { Student } from '@symseq/decoder'; import { symbolOverlays } from '@symseq/attnviz'; globalThis.x = [Student, symbolOverlays];",
    );
    expect(bytes).toBeGreaterThan(0);
  });

  test('@symseq/data in a browser bundle fails at load with a message saying it is Node-only', async () => {
    const { code, metafile } = await bundle("import * as data from '@symseq/data'; globalThis.data = data;");
    expect(
      Object.keys(metafile.inputs).filter((f) => !f.endsWith('dist/browser.js') && f !== '<stdin>'),
    ).toEqual([]);
    expect(() => new Function(code)()).toThrow(/@symseq\/data is Node-only.*cannot run in a browser/);
  });

  test('a bundler keeps @symseq/nn/register-gradients (sideEffects) and the bundled app trains', async () => {
    // Resolved as webpack and Vite do (tfjs-core's ESM `module` entry), everything bundled, then run.
    const r = await build({
      stdin: {
        contents: `import * as tf from '@tensorflow/tfjs-core'; import '@tensorflow/tfjs-backend-cpu';
          import '@symseq/nn/register-gradients';
          const g = tf.grad((x) => tf.sum(tf.mul(tf.softmax(x), tf.tanh(x))))(tf.tensor1d([1, 2, 3]));
          console.log(JSON.stringify(Array.from(g.dataSync())));`,
        resolveDir: repoRoot,
      },
      bundle: true,
      platform: 'node',
      mainFields: ['module', 'main'],
      format: 'cjs',
      write: false,
      logLevel: 'silent',
    });
    const dir = mkdtempSync(join(tmpdir(), 'symseq-bundle-'));
    try {
      writeFileSync(join(dir, 'app.cjs'), r.outputFiles[0].text);
      const out = execFileSync('node', [join(dir, 'app.cjs')], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const got: number[] = JSON.parse(out.trim().split('\n').at(-1) as string);
      // d/dx_j Σ_i s_i tanh(x_i), s = softmax(x): s_j (tanh x_j − Σ_i s_i tanh x_i) + s_j (1 − tanh² x_j).
      const x = [1, 2, 3];
      const e = x.map(Math.exp);
      const sm = e.map((v) => v / e.reduce((a, b) => a + b, 0));
      const mean = sm.reduce((a, si, i) => a + si * Math.tanh(x[i]), 0);
      const expected = x.map((v, j) => sm[j] * (Math.tanh(v) - mean) + sm[j] * (1 - Math.tanh(v) ** 2));
      expect(got).toHaveLength(3);
      for (const [j, g] of got.entries()) expect(g).toBeCloseTo(expected[j], 5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
