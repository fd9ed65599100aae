import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createConsumer, packAll, repoRoot } from './consumer';
import { type Program, readmeCode } from './markdown';

const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
const fixtures = join(repoRoot, 'tools', 'readme', 'fixtures');

const tsconfig = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2022', 'DOM'],
    types: ['node'],
    strict: true,
    skipLibCheck: true,
    sourceMap: true,
    outDir: 'out',
  },
  include: ['*.ts'],
};

/**
 * Tests every ```ts program of a README the way a user meets it: in a fresh project with the
 * packages' `npm pack` tarballs and only what the README's `npm install` line names, type-checked
 * with tsc and run with Node. Files an example reads come from tools/readme/fixtures/<slug>/.
 */
export function describeReadme(readme: string, slug: string): void {
  const { programs, installs } = readmeCode(readFileSync(join(repoRoot, readme), 'utf8'), readme);
  const file = (i: number) => `example${String(i + 1).padStart(2, '0')}`;
  let dir = '';
  const diagnostics = new Map<string, string[]>();

  describe(`${readme} examples, as copied`, () => {
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), `symseq-readme-${slug}-`));
      const tarballs = packAll(join(dir, 'tarballs'));
      createConsumer(join(dir, 'project'), installs, tarballs);
      const project = join(dir, 'project');
      if (existsSync(join(fixtures, slug))) cpSync(join(fixtures, slug), project, { recursive: true });
      writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
      for (const [i, p] of programs.entries()) {
        writeFileSync(join(project, `${file(i)}.ts`), `${p.code}\nexport {};\n`);
      }
      const out = spawnSync('node', [tsc, '-p', '.', '--pretty', 'false'], {
        cwd: project,
        encoding: 'utf8',
      });
      for (const line of `${out.stdout}${out.stderr}`.split('\n')) {
        const m = /^(example\d+)\.ts\((\d+),(\d+)\): (.*)$/.exec(line);
        if (!m) continue;
        const program = programs[Number(m[1].slice(7)) - 1];
        const at = `${readme}:${program.lines[Number(m[2]) - 1] ?? '?'}:${m[3]}`;
        diagnostics.set(m[1], [...(diagnostics.get(m[1]) ?? []), `${at} ${m[4]}`]);
      }
    });
    afterAll(() => {
      if (dir && !process.env.SYMSEQ_KEEP_README_PROJECT) rmSync(dir, { recursive: true, force: true });
    });

    test(`installs only ${installs.join(', ') || '(nothing named)'}`, () => {
      expect(installs.length, `${readme} has no \`npm install\` line`).toBeGreaterThan(0);
      const pkg = JSON.parse(readFileSync(join(dir, 'project', 'package.json'), 'utf8'));
      expect(Object.keys(pkg.dependencies).sort()).toEqual([...installs].sort());
    });

    programs.forEach((p: Program, i) => {
      test(`${p.run ? 'type-checks and runs' : 'type-checks'}: ${readme}:${p.line} (${p.heading})`, () => {
        expect(diagnostics.get(file(i)) ?? [], 'tsc').toEqual([]);
        if (!p.run) return;
        const r = spawnSync('node', ['--enable-source-maps', `out/${file(i)}.js`], {
          cwd: join(dir, 'project'),
          encoding: 'utf8',
          timeout: 60_000,
        });
        expect(
          r.status,
          `${readme}:${p.line} exited with ${r.status}:\n${(r.stderr ?? '').slice(-3000)}`,
        ).toBe(0);
      });
    });
  });
}
