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
});
