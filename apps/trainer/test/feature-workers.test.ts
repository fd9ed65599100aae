// Teacher extraction in worker threads (--workers N) and in jobs (--shard i/n, --merge) through the built
// CLI: the cache is byte-identical to a one-worker build, shards stay the unit of resume, and a merge of an
// incomplete set names the missing shards.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseShard } from '../src/commands/features';
import { cliPath, inputArgs, runCli, tinyRunFolder, writeTinyInputs } from './tiny-image-run';

const tiny = tinyRunFolder('symseq-workers-');
const { root } = tiny;

// 2 × 20 train images in shards of 6: 7 shards (the last of 4); 2 × 4 test images: 2 shards.
const CONFIG = {
  name: 'workers',
  seed: 3,
  data: { dataset: 'imagefolder' },
  teacher: { kind: 'mobilenet', inputSize: 16, tokensLayer: 'feat', pooledLayer: 'feat', batchSize: 4 },
  cache: { dtype: 'float32', views: 1, shardSize: 6 },
};

const features = (cache: string, extra: string[], env: Record<string, string> = {}) =>
  runCli(
    ['features', ...inputArgs(tiny), '--set', `cache.dir=${cache}`, '--backend', 'wasm', '-q', ...extra],
    env,
  );

/** Every file of a cache folder tree (relative path → hex bytes). */
function filesOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p).toString('hex');
    }
  };
  walk(dir);
  return out;
}

let reference: Record<string, string>;

beforeAll(async () => {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npm run build first`);
  await writeTinyInputs(tiny, { train: 20, test: 4 }, CONFIG);
  const one = features(join(root, 'one'), ['--workers', '1']);
  expect(one.status, one.err).toBe(0);
  reference = filesOf(join(root, 'one'));
}, 120_000);

describe('features --workers / --shard', () => {
  it('parses i/n and refuses anything else', () => {
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 });
    for (const bad of ['5/5', '1', '-1/2', 'a/b', '0/0']) {
      expect(() => parseShard(bad)).toThrow(`--shard ${bad}: expected i/n with 0 <= i < n`);
    }
  });

  it('the one-worker cache has every shard', () => {
    const names = Object.keys(reference).map((p) => p.split('/').pop());
    expect(names.filter((n) => n?.startsWith('shard-'))).toHaveLength(7 + 2);
    expect(names.filter((n) => n === 'manifest.json')).toHaveLength(2);
  });

  it('2 and 3 worker threads write the same bytes as one', () => {
    for (const workers of ['2', '3']) {
      const dir = join(root, `w${workers}`);
      const r = features(dir, ['--workers', workers]);
      expect(r.status, r.err).toBe(0);
      expect(r.out).toMatch(/features train: built, 7 shards computed, complete/);
      expect(filesOf(dir)).toEqual(reference);
    }
  }, 120_000);

  it('a 2-worker build killed after its third shard resumes to the same bytes', () => {
    const dir = join(root, 'killed');
    const k = features(dir, ['--workers', '2'], { SYMSEQ_FAULT: 'after-rename:shard-*.bin#3' });
    expect(k.signal).toBe('SIGKILL');
    const shardsWritten = Object.keys(filesOf(dir)).filter((p) => p.includes('shard-'));
    expect(shardsWritten).toHaveLength(3);
    const resumed = features(dir, ['--workers', '2']);
    expect(resumed.status, resumed.err).toBe(0);
    expect(resumed.out).toMatch(/features train: resumed, 4 shards computed, complete/);
    expect(filesOf(dir)).toEqual(reference);
  }, 120_000);

  it('--shard jobs build their parts; --merge names what is missing, then completes', () => {
    const dir = join(root, 'jobs');
    const a = features(dir, ['--shard', '0/3', '--workers', '1']);
    expect(a.status, a.err).toBe(0);
    // train: shards 0..1 of 7; test: none of 2 (floor(0·2/3) .. floor(2/3)).
    expect(a.out).toMatch(/features train: built, 2 shards computed \(job 0\/3\), 5 of 7 left to other jobs/);
    const c = features(dir, ['--shard', '2/3', '--workers', '2']);
    expect(c.status, c.err).toBe(0);
    const m = features(dir, ['--merge']);
    expect(m.status).toBe(1);
    // Job 1 of 3 builds train shards 2, 3 (images 12..23) and test shard 0 (images 0..5)... train first.
    expect(m.err).toContain(
      'is incomplete, 2 of 7 shards missing: shard-00002.bin (images 12..17), shard-00003.bin (images 18..23)',
    );
    expect(m.err).toContain('run the --shard jobs that build them');
    const b = features(dir, ['--shard', '1/3']);
    expect(b.status, b.err).toBe(0);
    expect(b.out).toMatch(/features train: \w+, 2 shards computed \(job 1\/3\), complete/);
    const merged = features(dir, ['--merge']);
    expect(merged.status, merged.err).toBe(0);
    expect(merged.out).toMatch(/features train: complete, 7 shards/);
    expect(filesOf(dir)).toEqual(reference);
  }, 180_000);

  it('a bad --shard fails before any work', () => {
    const r = features(join(root, 'bad'), ['--shard', '3/3']);
    expect(r.status).toBe(1);
    expect(r.err).toContain('--shard 3/3: expected i/n with 0 <= i < n');
    expect(existsSync(join(root, 'bad'))).toBe(false);
  });
});
