import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createConsumer, type Diagnostic, packedTarballs, repoRoot, runNode, typecheck } from './consumer';
import { type Program, readmeCode } from './markdown';

const fixtures = join(repoRoot, 'tools', 'readme', 'fixtures');

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
      createConsumer(join(dir, 'project'), installs, packedTarballs());
      const project = join(dir, 'project');
      if (existsSync(join(fixtures, slug))) cpSync(join(fixtures, slug), project, { recursive: true });
      for (const [i, p] of programs.entries()) {
        writeFileSync(join(project, `${file(i)}.ts`), `${p.code}\nexport {};\n`);
      }
      for (const [name, found] of typecheck(project)) {
        const program = programs[Number(name.slice(7)) - 1];
        if (!program) continue;
        const at = (d: Diagnostic) =>
          `${readme}:${program.lines[d.line - 1] ?? '?'}:${d.column} ${d.message}`;
        diagnostics.set(name, found.map(at));
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
        const r = runNode(join(dir, 'project'), `out/${file(i)}.js`);
        expect(r.status, `${readme}:${p.line} exited with ${r.status}:\n${r.stderr.slice(-3000)}`).toBe(0);
      });
    });
  });
}
