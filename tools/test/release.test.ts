import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { publishedPackages, repoRoot } from '../readme/consumer';

// The release flow, short of publishing: every package passes `npm publish --dry-run` (built dist
// required; `npm test` builds first), and `changeset version` turns the pending changesets into
// versions and CHANGELOGs (run on a copy, so the tree is untouched).
const packages = publishedPackages();
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

describe.each(packages)('$name release', ({ dir, name, version }) => {
  const pkg = readJson(join(repoRoot, 'packages', dir, 'package.json'));

  test('npm publish --dry-run: public, with dist, README and LICENSE', () => {
    const r = spawnSync('npm', ['publish', '--dry-run', '--ignore-scripts', '--offline', '--json'], {
      cwd: join(repoRoot, 'packages', dir),
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout)[name];
    expect(report.id).toBe(`${name}@${version}`);
    expect(r.stderr).toContain('public access');
    const files = report.files.map((f: { path: string }) => f.path);
    for (const f of [
      'README.md',
      'LICENSE',
      'package.json',
      'dist/index.js',
      'dist/index.cjs',
      'dist/index.d.ts',
    ]) {
      expect(files).toContain(f);
    }
  });

  test('metadata: repository (this folder), homepage, bugs, keywords, license, engines, sideEffects, files', () => {
    expect(pkg.repository).toMatchObject({ type: 'git', directory: `packages/${dir}` });
    expect(pkg.repository.url).toMatch(/^git\+https:\/\/github\.com\/.+\.git$/);
    expect(pkg.homepage).toContain(`/packages/${dir}`);
    expect(pkg.bugs.url).toMatch(/\/issues$/);
    expect(pkg.keywords).toEqual(expect.arrayContaining(['symseq', 'tensorflowjs']));
    expect(pkg.license).toBe('MIT');
    expect(pkg.engines.node).toMatch(/^>=\d+/);
    expect(pkg.sideEffects === false || Array.isArray(pkg.sideEffects)).toBe(true);
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'CHANGELOG.md']));
  });

  test('README links the generated API reference (npm run docs → docs/api, git-ignored)', () => {
    const readme = readFileSync(join(repoRoot, 'packages', dir, 'README.md'), 'utf8');
    // TypeDoc names a scoped package's module page _scope_name.html.
    expect(readme).toContain(`(../../docs/api/modules/_symseq_${dir}.html)`);
    const typedoc = readJson(join(repoRoot, 'typedoc.json'));
    expect(typedoc).toMatchObject({
      entryPointStrategy: 'packages',
      entryPoints: ['packages/*'],
      out: 'docs/api',
    });
    expect(readFileSync(join(repoRoot, '.gitignore'), 'utf8').split('\n')).toContain('docs/api/');
    expect(readJson(join(repoRoot, 'package.json')).scripts.docs).toBe('typedoc');
  });
});

/** The bump each package gets from the pending changesets' front matter (the highest one named). */
function pendingBumps(changesetDir: string): Map<string, 'major' | 'minor' | 'patch'> {
  const rank = { patch: 0, minor: 1, major: 2 } as const;
  const bumps = new Map<string, 'major' | 'minor' | 'patch'>();
  for (const f of readdirSync(changesetDir).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
    const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(changesetDir, f), 'utf8'))?.[1] ?? '';
    for (const m of front.matchAll(/^"([^"]+)":\s*(major|minor|patch)\s*$/gm)) {
      const [, pkgName, bump] = m as unknown as [string, string, 'major' | 'minor' | 'patch'];
      const had = bumps.get(pkgName);
      if (!had || rank[bump] > rank[had]) bumps.set(pkgName, bump);
    }
  }
  return bumps;
}

function bumped(version: string, bump: 'major' | 'minor' | 'patch'): string {
  const [major, minor, patch] = version.split('.').map(Number);
  if (bump === 'major') return `${major + 1}.0.0`;
  if (bump === 'minor') return `${major}.${minor + 1}.0`;
  return `${major}.${minor}.${patch + 1}`;
}

describe('changesets', () => {
  let copy = '';
  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), 'symseq-changeset-'));
    cpSync(join(repoRoot, 'package.json'), join(copy, 'package.json'));
    cpSync(join(repoRoot, '.changeset'), join(copy, '.changeset'), { recursive: true });
    for (const group of ['packages', 'apps']) {
      for (const d of readdirSync(join(repoRoot, group))) {
        const file = join(repoRoot, group, d, 'package.json');
        if (existsSync(file)) cpSync(file, join(copy, group, d, 'package.json'));
      }
    }
    symlinkSync(join(repoRoot, 'node_modules'), join(copy, 'node_modules'));
    execFileSync('node', [join(repoRoot, 'node_modules/@changesets/cli/bin.js'), 'version'], {
      cwd: copy,
      stdio: 'pipe',
    });
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  test('`changeset version` bumps every package as its changesets say and writes their CHANGELOG', () => {
    const bumps = pendingBumps(join(repoRoot, '.changeset'));
    expect(bumps.size, 'no pending changesets to check').toBeGreaterThan(0);
    for (const { dir, name, version } of packages) {
      const bump = bumps.get(name);
      const after = readJson(join(copy, 'packages', dir, 'package.json')).version;
      if (!bump) continue;
      expect(after, name).toBe(bumped(version, bump));
      const changelog = readFileSync(join(copy, 'packages', dir, 'CHANGELOG.md'), 'utf8');
      expect(changelog.startsWith(`# ${name}\n\n## ${after}\n`), `${name} CHANGELOG heading`).toBe(true);
    }
    // Each changeset's text lands in the CHANGELOG of every package it names.
    for (const f of readdirSync(join(repoRoot, '.changeset')).filter(
      (f) => f.endsWith('.md') && f !== 'README.md',
    )) {
      const text = readFileSync(join(repoRoot, '.changeset', f), 'utf8');
      const summary = text
        .replace(/^---\n[\s\S]*?\n---\n/, '')
        .trim()
        .split('\n')[0];
      for (const m of text.matchAll(/^"(@symseq\/[^"]+)":/gm)) {
        const dir = m[1].split('/')[1];
        expect(readFileSync(join(copy, 'packages', dir, 'CHANGELOG.md'), 'utf8'), `${f} → ${m[1]}`).toContain(
          summary,
        );
      }
    }
    expect(
      readdirSync(join(copy, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md'),
    ).toEqual([]);
  });
});
