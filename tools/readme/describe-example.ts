import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createConsumer, type Diagnostic, packAll, repoRoot, runNode, typecheck } from './consumer';

/**
 * Tests examples/<name> as a user gets it: a fresh project with the packages' `npm pack` tarballs and
 * only the dependencies its package.json names, type-checked with tsc, then `main.ts` run with Node
 * (each example checks its own result and exits non-zero otherwise), or, for a browser page
 * (index.html), bundled for the browser with esbuild.
 */
export function describeExample(name: string): void {
  const source = join(repoRoot, 'examples', name);
  const pkg = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'));
  const installs = Object.keys(pkg.dependencies ?? {});
  const browser = existsSync(join(source, 'index.html'));
  let dir = '';
  let diagnostics = new Map<string, Diagnostic[]>();

  describe(`examples/${name}`, () => {
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), `symseq-example-${name}-`));
      const project = join(dir, 'project');
      createConsumer(project, installs, packAll(join(dir, 'tarballs')));
      for (const f of readdirSync(source).filter(
        (f) => !/^(package\.json|tsconfig\.json|node_modules|out|dist)$/.test(f),
      )) {
        cpSync(join(source, f), join(project, f), { recursive: true });
      }
      diagnostics = typecheck(project);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test(`type-checks (strict, NodeNext) with only ${installs.join(', ')}`, () => {
      const errors = [...diagnostics].flatMap(([file, ds]) =>
        ds.map((d) => `examples/${name}/${file}.ts:${d.line}:${d.column} ${d.message}`),
      );
      expect(errors).toEqual([]);
    });

    if (browser) {
      test('main.ts bundles for the browser (no Node built-ins)', async () => {
        const r = await build({
          entryPoints: [join(dir, 'project', 'main.ts')],
          absWorkingDir: join(dir, 'project'),
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
        const r = runNode(join(dir, 'project'), 'main');
        expect(r.status, `examples/${name} exited with ${r.status}:\n${r.stderr.slice(-3000)}`).toBe(0);
      });
    }
  });
}
