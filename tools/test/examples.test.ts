import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createConsumer,
  type Diagnostic,
  packedTarballs,
  repoRoot,
  runNode,
  typecheck,
} from '../readme/consumer';

// Tests examples/<name> as a user gets them: installed from the packages' `npm pack` tarballs (one
// project for all examples, so one install and one tsc run; that each example imports only what its
// own package.json names is checked from its import statements), type-checked with tsc (strict,
// NodeNext), then `main.ts` run with Node from its folder (each example checks its own result and
// exits non-zero otherwise), or, for a browser page (index.html), bundled for the browser with esbuild.
const examplesDir = join(repoRoot, 'examples');
const examples = readdirSync(examplesDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => {
    const folder = join(examplesDir, d.name);
    const pkg = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
    const files = readdirSync(folder);
    return {
      name: d.name,
      deps: Object.keys(pkg.dependencies ?? {}),
      sources: files.filter((f) => f.endsWith('.ts')),
      browser: files.includes('index.html'),
    };
  });

/** Bare package names a TypeScript file imports (`@scope/name/sub` → `@scope/name`). */
function importedPackages(code: string): string[] {
  const specs = [...code.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?(?:from\s*)?['"]([^'"]+)['"]/g)].map(
    (m) => m[1],
  );
  return specs
    .filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !builtinModules.includes(s))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]));
}

let dir = '';
let project = '';
let diagnostics = new Map<string, Diagnostic[]>();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'symseq-examples-'));
  project = join(dir, 'project');
  createConsumer(project, [...new Set(examples.flatMap((e) => e.deps))].sort(), packedTarballs());
  for (const e of examples) {
    cpSync(join(examplesDir, e.name), join(project, e.name), {
      recursive: true,
      filter: (src) => !/[\\/](package\.json|tsconfig\.json|node_modules|out|dist)$/.test(src),
    });
  }
  diagnostics = typecheck(project, ['*/*.ts']);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(examples.map((e) => [e.name, e] as const))(
  'examples/%s',
  (_, { name, deps, sources, browser }) => {
    test('imports only what its package.json names, and type-checks', () => {
      for (const f of sources) {
        const used = importedPackages(readFileSync(join(examplesDir, name, f), 'utf8'));
        expect(
          used.filter((p) => !deps.includes(p)),
          `${name}/${f} imports packages its package.json lacks`,
        ).toEqual([]);
      }
      const errors = [...diagnostics]
        .filter(([file]) => file.startsWith(`${name}/`))
        .flatMap(([file, ds]) => ds.map((d) => `examples/${file}.ts:${d.line}:${d.column} ${d.message}`));
      expect(errors).toEqual([]);
    });

    if (browser) {
      test('main.ts bundles for the browser (no Node built-ins)', async () => {
        const r = await build({
          entryPoints: [join(project, name, 'main.ts')],
          absWorkingDir: project,
          bundle: true,
          format: 'esm',
          platform: 'browser',
          write: false,
          metafile: true,
          logLevel: 'silent',
        });
        const inputs = Object.keys(r.metafile.inputs);
        expect(inputs.filter((f) => f.startsWith('node:') || /^(fs|path|crypto|zlib)$/.test(f))).toEqual([]);
        expect(inputs.some((f) => f.includes('@symseq/decoder/dist/'))).toBe(true);
      });
    } else {
      test('runs with Node and passes its own check', () => {
        const r = runNode(join(project, name), `../out/${name}/main.js`);
        expect(r.status, `examples/${name} exited with ${r.status}:\n${r.stderr.slice(-3000)}`).toBe(0);
      });
    }
  },
);
