import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

// Checks what users get from npm: the built dist (run `npm run build` first; `npm test` does),
// imported for real by Node as ESM and as CJS, and the tarball contents.
const root = fileURLToPath(new URL('../..', import.meta.url));
const packages = readdirSync(`${root}packages`).filter((d) =>
  existsSync(`${root}packages/${d}/package.json`),
);

describe.each(packages)('@symseq/%s as published', (dir) => {
  const pkg = JSON.parse(readFileSync(`${root}packages/${dir}/package.json`, 'utf8'));
  const run = (args: string[]) => execFileSync('node', args, { cwd: root, encoding: 'utf8' });

  test('npm pack contains dist, README, CHANGELOG and LICENSE only', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: `${root}packages/${dir}`,
      encoding: 'utf8',
    });
    const files: string[] = JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
    const unexpected = files.filter(
      (f) => !/^(dist\/.+|README\.md|CHANGELOG\.md|LICENSE|package\.json)$/.test(f),
    );
    expect(unexpected).toEqual([]);
    for (const f of [
      'README.md',
      'LICENSE',
      'dist/index.js',
      'dist/index.cjs',
      'dist/index.d.ts',
      'dist/index.d.cts',
    ]) {
      expect(files).toContain(f);
    }
  });

  test('imports as ESM and as CJS with the same exports', () => {
    const esm = run([
      '--input-type=module',
      '-e',
      `import * as m from '${pkg.name}'; console.log(JSON.stringify(Object.keys(m).sort()))`,
    ]);
    const cjs = run(['-e', `console.log(JSON.stringify(Object.keys(require('${pkg.name}')).sort()))`]);
    const esmKeys = JSON.parse(esm).filter((k: string) => k !== 'default');
    expect(esmKeys.length).toBeGreaterThan(0);
    expect(JSON.parse(cjs).filter((k: string) => k !== 'default')).toEqual(esmKeys);
  });
});
