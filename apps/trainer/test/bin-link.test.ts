// `npx symseq` after `npm ci` in a fresh clone: npm links a workspace's bin only when the file it names
// exists at install time, so it must be a tracked source file, not dist/ (absent before a build).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = join(__dirname, '..', '..', '..');
const trainerPkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));

describe('the symseq bin', () => {
  it('names a file tracked by git (present in a fresh clone before any build)', () => {
    const bin = trainerPkg.bin.symseq as string;
    const path = join('apps', 'trainer', bin);
    const tracked = spawnSync('git', ['ls-files', '--error-unmatch', path], { cwd: repo, encoding: 'utf8' });
    expect(tracked.status, `${path} is not tracked: ${tracked.stderr}`).toBe(0);
  });

  it('npm ci of a workspace with the trainer package links node_modules/.bin/symseq, which says to build first', () => {
    const root = mkdtempSync(join(tmpdir(), 'symseq-bin-'));
    // The workspace layout and the trainer's name, type and bin, without dependencies (offline, fast).
    const rootPkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
    writeFileSync(
      join(root, 'package.json'),
      JSON.stringify({ name: 'clone', private: true, workspaces: rootPkg.workspaces }),
    );
    const app = join(root, 'apps', 'trainer');
    mkdirSync(app, { recursive: true });
    const { name, version, type, bin } = trainerPkg;
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name, version, type, bin }));
    // What a clone holds of the bin's folder: the tracked files only.
    const files = execFileSync('git', ['ls-files', join('apps', 'trainer', dirname(bin.symseq))], {
      cwd: repo,
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .filter(Boolean);
    for (const f of files) {
      const to = join(root, f);
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(join(repo, f), to);
    }
    const npm = (args: string[]) =>
      spawnSync('npm', args, { cwd: root, encoding: 'utf8', timeout: 120_000, env: process.env });
    const install = npm(['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund']);
    expect(install.status, install.stderr).toBe(0);
    const ci = npm(['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund']);
    expect(ci.status, ci.stderr).toBe(0);
    expect(existsSync(join(root, 'node_modules', '.bin', 'symseq'))).toBe(true);
    const run = npm(['exec', '--offline', '--no', '--', 'symseq', '--version']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `symseq: ${join(root, 'apps', 'trainer', 'dist', 'cli.js')} is missing: the trainer is not built yet; run \`npm run build\` first`,
    );
  }, 240_000);
});
