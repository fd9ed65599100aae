import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

// A consumer project as a user makes one: the packages' `npm pack` tarballs plus what a README says to
// install, put in place by `npm ci --offline` from a lock file derived from the monorepo's, so it
// needs no network (every third-party tarball is in the npm cache after the monorepo's `npm ci`).

export const repoRoot = join(import.meta.dirname, '..', '..');

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

/** The published packages: directory under packages/, name and tarball file name. */
export function publishedPackages(): { dir: string; name: string; version: string; tarball: string }[] {
  return readdirSync(join(repoRoot, 'packages'))
    .filter((d) => !readJson(join(repoRoot, 'packages', d, 'package.json')).private)
    .map((dir) => {
      const { name, version } = readJson(join(repoRoot, 'packages', dir, 'package.json'));
      return { dir, name, version, tarball: `${name.replace('@', '').replace('/', '-')}-${version}.tgz` };
    });
}

/** `npm pack` of every published package (built dist required) into `dest`; returns name → tarball path. */
export function packAll(dest: string): Map<string, string> {
  mkdirSync(dest, { recursive: true });
  const pkgs = publishedPackages();
  execFileSync(
    'npm',
    [
      'pack',
      '--ignore-scripts',
      '--pack-destination',
      dest,
      ...pkgs.flatMap((p) => ['-w', `packages/${p.dir}`]),
    ],
    { cwd: repoRoot, stdio: 'pipe' },
  );
  return new Map(pkgs.map((p) => [p.name, join(dest, p.tarball)]));
}

/**
 * The tarballs of the packages as they are now, packed once and shared by every test file of a run:
 * the folder is named by a hash of what goes into them (package.json, README, LICENSE, dist files'
 * sizes and times), and filled in a temporary folder renamed into place, so parallel workers agree.
 */
export function packedTarballs(): Map<string, string> {
  const hash = createHash('sha256');
  for (const p of publishedPackages()) {
    const dir = join(repoRoot, 'packages', p.dir);
    const dist = existsSync(join(dir, 'dist')) ? readdirSync(join(dir, 'dist')).sort() : [];
    for (const f of ['package.json', 'README.md', 'LICENSE', ...dist.map((d) => `dist/${d}`)]) {
      const at = join(dir, f);
      if (!existsSync(at)) continue;
      const st = statSync(at);
      hash.update(`${p.dir}/${f}:${st.size}:${st.mtimeMs}\n`);
    }
  }
  const dest = join(tmpdir(), `symseq-tarballs-${hash.digest('hex').slice(0, 16)}`);
  // Packs of earlier builds: removed once a day old (a running test may still read a recent one).
  for (const old of readdirSync(tmpdir()).filter((d) => d.startsWith('symseq-tarballs-'))) {
    const at = join(tmpdir(), old);
    if (at !== dest && Date.now() - statSync(at).mtimeMs > 86_400_000)
      rmSync(at, { recursive: true, force: true });
  }
  if (!existsSync(dest)) {
    const fresh = mkdtempSync(`${dest}.tmp-`);
    packAll(fresh);
    try {
      renameSync(fresh, dest);
    } catch {
      rmSync(fresh, { recursive: true, force: true }); // another worker packed the same files first
    }
  }
  return new Map(publishedPackages().map((p) => [p.name, join(dest, p.tarball)]));
}

/**
 * Writes package.json + package-lock.json for `deps` (package names; @symseq ones come from
 * `tarballs`, the rest at the monorepo's installed version) and installs with `npm ci --offline`.
 */
export function createConsumer(dir: string, deps: string[], tarballs: Map<string, string>): void {
  mkdirSync(dir, { recursive: true });
  const mono = readJson(join(repoRoot, 'package-lock.json')).packages as Record<string, LockEntry>;
  const tooling = ['@types/node']; // to type-check the examples (tsc itself runs from the monorepo)
  const lock: Record<string, LockEntry> = {};
  const tarballEntry = (name: string): LockEntry => {
    const file = tarballs.get(name) as string;
    const meta = readJson(join(repoRoot, 'packages', name.split('/')[1], 'package.json'));
    const integrity = `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
    const { version, license, dependencies, peerDependencies, peerDependenciesMeta, engines } = meta;
    return {
      version,
      resolved: `file:${relative(dir, file)}`,
      integrity,
      license,
      dependencies,
      peerDependencies,
      peerDependenciesMeta,
      engines,
    };
  };
  const version = (name: string): string => {
    if (tarballs.has(name)) return `file:${relative(dir, tarballs.get(name) as string)}`;
    const v = mono[`node_modules/${name}`]?.version;
    if (!v)
      throw new Error(
        `consumer: '${name}' is not installed in the monorepo, so it cannot be installed offline`,
      );
    return v;
  };
  // Where Node would find `name` from the package at `from`, in the monorepo's tree.
  const locate = (name: string, from: string): string | undefined => {
    if (tarballs.has(name)) return `node_modules/${name}`;
    for (let at = from; ; at = at.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, '')) {
      const candidate = `${at ? `${at}/` : ''}node_modules/${name}`;
      if (mono[candidate] && !mono[candidate].link) return candidate;
      if (!at) return undefined;
    }
  };
  // Copy a package's entry and then its dependencies' (peers are the user's: the README names them).
  const place = (name: string, from: string, optional = false): void => {
    const found = locate(name, from);
    if (!found) {
      if (optional) return; // an optional dependency that did not install in the monorepo either
      throw new Error(`consumer: cannot place '${name}' (needed from '${from || 'the project'}')`);
    }
    if (lock[found]) return;
    const entry = tarballs.has(name) ? tarballEntry(name) : mono[found];
    lock[found] = entry;
    for (const dep of Object.keys(entry.dependencies ?? {})) place(dep, found);
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) place(dep, found, true);
  };
  const root = {
    name: 'readme-consumer',
    private: true,
    type: 'module',
    dependencies: Object.fromEntries(deps.map((d) => [d, version(d)])),
    devDependencies: Object.fromEntries(tooling.map((d) => [d, version(d)])),
  };
  for (const d of [...deps, ...tooling]) place(d, '');
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(root, null, 2)}\n`);
  const lockfile = { name: root.name, lockfileVersion: 3, requires: true, packages: { '': root, ...lock } };
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(lockfile, null, 2)}\n`);
  execFileSync('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: dir,
    stdio: 'pipe',
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
}

const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');

/** A user's strict ESM TypeScript setup for Node (DOM types too, for browser code). */
export const consumerTsconfig = {
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

export interface Diagnostic {
  line: number;
  column: number;
  message: string;
}

/** Writes the tsconfig, runs tsc (type-check + emit to out/) and returns the errors per file (no extension). */
export function typecheck(project: string, include = ['*.ts']): Map<string, Diagnostic[]> {
  const tsconfig = { ...consumerTsconfig, include };
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  const out = spawnSync('node', [tsc, '-p', '.', '--pretty', 'false'], { cwd: project, encoding: 'utf8' });
  const byFile = new Map<string, Diagnostic[]>();
  for (const text of `${out.stdout}${out.stderr}`.split('\n')) {
    const m = /^([\w./-]+)\.ts\((\d+),(\d+)\): (.*)$/.exec(text);
    if (!m) continue;
    const d = { line: Number(m[2]), column: Number(m[3]), message: m[4] };
    byFile.set(m[1], [...(byFile.get(m[1]) ?? []), d]);
  }
  return byFile;
}

/** Runs an emitted file (path relative to `cwd`) with Node; returns the exit status and stderr. */
export function runNode(cwd: string, script: string): { status: number | null; stderr: string } {
  const r = spawnSync('node', ['--enable-source-maps', script], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stderr: r.stderr ?? '' };
}
