import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { describe, expect, test } from 'vitest';
import { listImages } from '../src/commands/encode';
import { trainReplicas } from '../src/commands/train';
import { buildTrainConfig } from '../src/config';
import { openSplit } from '../src/data-source';
import { checkAgainstData } from '../src/evaluation';
import { regularizerActive } from '../src/train-step';

const run = promisify(execFile);
const cli = join(__dirname, '..', 'dist', 'cli.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'symseq-cli-'));
// ../shared beside the checkout (as CI lays it out), or SYMSEQ_SHARED.
const SHARED_CIFAR = join(
  process.env.SYMSEQ_SHARED ?? join(__dirname, '..', '..', '..', '..', 'shared'),
  'data',
  'cifar10-jpeg',
);

/** Runs the built CLI; resolves with its exit code and output (never rejects). */
async function symseq(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const r = await run('node', [cli, ...args], {
      env: { PATH: process.env.PATH, ...env },
      timeout: 120_000,
    });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

describe('config', () => {
  test('presets validate and flags override them', () => {
    const c = buildTrainConfig({
      preset: 'cpu',
      epochs: 2,
      set: ['optim.lr=0.0005', 'student.vocabSize=64'],
    });
    expect(c.optim.epochs).toBe(2);
    expect(c.optim.lr).toBe(0.0005);
    expect((c.student as { vocabSize: number }).vocabSize).toBe(64);
    expect(buildTrainConfig({ preset: 'paper' }).teacher.kind).toBe('vit');
  });

  test("the cpu preset's step floor goes with its epochs: epochs from a flag or a config file mean exactly that many", () => {
    expect(buildTrainConfig({ preset: 'cpu' }).optim).toMatchObject({ epochs: 8, minSteps: 1560 });
    expect(buildTrainConfig({ preset: 'cpu', set: ['optim.lr=0.002'] }).optim.minSteps).toBe(1560);
    expect(buildTrainConfig({ preset: 'cpu', epochs: 1 }).optim.minSteps).toBeUndefined();
    expect(buildTrainConfig({ preset: 'cpu', set: ['optim.epochs=1'] }).optim.minSteps).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), 'symseq-floor-'));
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ optim: { epochs: 2, batchSize: 8 } }));
    expect(buildTrainConfig({ preset: 'cpu', config: join(dir, 'c.json') }).optim.minSteps).toBeUndefined();
    writeFileSync(join(dir, 'd.json'), JSON.stringify({ optim: { batchSize: 8 } }));
    expect(buildTrainConfig({ preset: 'cpu', config: join(dir, 'd.json') }).optim.minSteps).toBe(1560);
    expect(buildTrainConfig({ preset: 'cpu', epochs: 1, set: ['optim.minSteps=40'] }).optim.minSteps).toBe(
      40,
    );
  });

  test('a misspelled key is rejected with a suggestion', () => {
    expect(() => buildTrainConfig({ set: ['optim.epochz=3'] })).toThrow(
      "optim.epochz: unknown key (did you mean 'epochs'?)",
    );
    const dir = tmp();
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ optm: { epochs: 1 } }));
    expect(() => buildTrainConfig({ config: join(dir, 'c.json') })).toThrow(
      /optm: unknown key \(did you mean 'optim'\?\)/,
    );
    writeFileSync(join(dir, 'bad.json'), '{ "optim": ');
    expect(() => buildTrainConfig({ config: join(dir, 'bad.json') })).toThrow(/bad.json: not valid JSON/);
    expect(() => buildTrainConfig({ preset: 'gpu' })).toThrow("unknown preset 'gpu'; presets: cpu, paper");
    expect(() => buildTrainConfig({ set: ['optim.lr=-1'] })).toThrow(
      /optim.lr: Number must be greater than 0/,
    );
    expect(() => buildTrainConfig({ set: ['objective.pairing=cross'] })).toThrow(
      /'cross' needs augmented views/,
    );
  });

  test('every nested key is checked, with the full key path and a suggestion', () => {
    const bad = (set: string) => () => buildTrainConfig({ set: [set] });
    expect(bad('student.decoder.layerz=2')).toThrow(
      "student.decoder.layerz: unknown key (did you mean 'layers'?)",
    );
    expect(bad('objective.dino.teacherTmp=0.04')).toThrow(
      "objective.dino.teacherTmp: unknown key (did you mean 'teacherTemp'?)",
    );
    expect(bad('objective.regularizer.usageWieght=1')).toThrow(
      "objective.regularizer.usageWieght: unknown key (did you mean 'usageWeight'?)",
    );
    expect(bad('student.projector.hiddenDimm=8')).toThrow(
      "student.projector.hiddenDimm: unknown key (did you mean 'hiddenDim'?)",
    );
    expect(bad('student.discretizer.options.temperatur=0.5')).toThrow(
      "student.discretizer.options.temperatur: unknown key for the 'temperature' discretizer (did you mean 'temperature'?)",
    );
    expect(bad('student.discretizer.options.temperature=-1')).toThrow(
      /student\.discretizer\.options\.temperature: /,
    );
    // Values the run itself sets are not the user's to give.
    expect(bad('student.teacherDim=3')).toThrow(/student\.teacherDim: unknown key/);
    expect(bad('student.projector.outDim=3')).toThrow(/student\.projector\.outDim: unknown key/);
  });

  test("a vector discretizer with the preset's usage regulariser and exact first symbol is refused; switching both off allows it", () => {
    const vq = 'student.discretizer={"kind":"vq","codeDim":32}';
    expect(() => buildTrainConfig({ set: [vq] })).toThrow(
      /objective\.regularizer: .*'vq' discretizer's decoder writes vectors.*usageWeight=0/,
    );
    expect(() => buildTrainConfig({ set: [vq, 'objective.regularizer.usageWeight=0'] })).toThrow(
      /objective\.contrast\.exactFirstSymbol: .*'vq' discretizer's decoder writes vectors.*exactFirstSymbol to false/,
    );
    const c = buildTrainConfig({
      set: [vq, 'objective.regularizer.usageWeight=0', 'objective.contrast.exactFirstSymbol=false'],
    });
    expect(c.student.discretizer.kind).toBe('vq');
    expect(regularizerActive(c.objective.regularizer)).toBe(false);
    expect(regularizerActive({ usageWeight: 0.1 })).toBe(true);
    expect(regularizerActive({ infoMaxWeight: 1e-3 })).toBe(true);
  });

  test("the cpu preset's length weights go with its lengths: lengths from a flag or a config file get equal weights unless weights are given too", () => {
    expect(buildTrainConfig({ preset: 'cpu' }).objective.weights).toEqual([0.4, 0.2, 0.2, 0.2]);
    const short = buildTrainConfig({ set: ['objective.lengths=[1,2]', 'eval.lengths=[1,2]'] });
    expect(short.objective.lengths).toEqual([1, 2]);
    expect(short.objective.weights).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), 'symseq-weights-'));
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ objective: { lengths: [1, 4] } }));
    expect(buildTrainConfig({ config: join(dir, 'c.json') }).objective.weights).toBeUndefined();
    const both = buildTrainConfig({ set: ['objective.lengths=[1,2]', 'objective.weights=[0.7,0.3]'] });
    expect(both.objective.weights).toEqual([0.7, 0.3]);
    expect(() => buildTrainConfig({ set: ['objective.weights=[1,1]'] })).toThrow(
      /objective\.weights: .*one weight per length/,
    );
  });

  test('objective.contrast.exactFirstSymbol: refused with a vector discretizer or without length 1, named by its path', () => {
    const on = 'objective.contrast.exactFirstSymbol=true';
    const vq = 'student.discretizer={"kind":"vq","codeDim":32}';
    expect(() => buildTrainConfig({ set: [on, vq, 'objective.regularizer.usageWeight=0'] })).toThrow(
      /objective\.contrast\.exactFirstSymbol: .*reads its logits, but the 'vq' discretizer's decoder writes vectors/,
    );
    expect(() =>
      buildTrainConfig({ set: [on, 'objective.lengths=[2,4,8]', 'eval.lengths=[2,4,8]'] }),
    ).toThrow(
      /objective\.contrast\.exactFirstSymbol: exactFirstSymbol scores prefix length 1, but objective\.lengths is \[2, 4, 8\]/,
    );
    expect(() => buildTrainConfig({ set: ['objective.contrast.exactFirstSymbl=true'] })).toThrow(
      /objective\.contrast\.exactFirstSymbl: unknown key/,
    );
    expect(buildTrainConfig({ set: [on] }).objective.contrast.exactFirstSymbol).toBe(true);
  });

  test('values that would fail after training are refused up front, with their full key path', () => {
    expect(() => buildTrainConfig({ set: ['eval.lengths=[16]'] })).toThrow(
      'eval.lengths: length 16 exceeds student.maxLength 8',
    );
    expect(() => buildTrainConfig({ set: ['student.heads=3'] })).toThrow(
      'student.heads: dModel 128 is not divisible by 3',
    );
    expect(() =>
      buildTrainConfig({
        set: ['student.discretizer={"kind":"fsq","levels":[4,4]}', 'objective.regularizer={}'],
      }),
    ).toThrow(/student\.vocabSize: is 128, but fsq levels \[4, 4\] give 16 symbols/);
    expect(() => buildTrainConfig({ trainLimit: 100, set: ['optim.batchSize=256'] })).toThrow(
      'optim.batchSize: 256 is larger than data.trainLimit 100',
    );
    expect(() => buildTrainConfig({ trainLimit: 3000, set: ['optim.batchSize=64', 'eval.k=5000'] })).toThrow(
      'eval.k: 5000 exceeds data.trainLimit 3000 (the k-NN bank)',
    );
  });

  test('settings that depend on the dataset size are checked once it is known, before any extraction', () => {
    const c = buildTrainConfig({
      set: ['eval.k=20', 'optim.batchSize=64', 'objective.kind="dino"', 'objective.prototypes=512'],
    });
    expect(() => checkAgainstData(c, { train: 300, test: 50 })).toThrow(
      'invalid config for this dataset:\n  objective.prototypes: 512 exceeds the 300 training images',
    );
    expect(() => checkAgainstData(c, { train: 10, test: 50 })).toThrow(
      /eval\.k: 20 exceeds the 10 training images \(the k-NN bank\)\n {2}optim\.batchSize: 64 is larger than the 10 training images/,
    );
    expect(() => checkAgainstData(c, { train: 600, test: 50 })).not.toThrow();
  });

  test.skipIf(!existsSync('/proc/self'))(
    'unwritable output and cache folders are refused before any work, also where access(W_OK) passes (root, /proc)',
    async () => {
      const d = tmp();
      // For root, access('/proc', W_OK) succeeds, yet no file can be created there.
      const nope = join(d, 'nope');
      const o = await symseq(['train', '--out', '/proc', '--data-dir', nope, '--backend', 'cpu']);
      expect(o.code).toBe(1);
      expect(o.err).toContain('output folder /proc is not writable (');
      const c = await symseq([
        'train',
        ...['--out', join(d, 'run'), '--data-dir', nope, '--backend', 'cpu'],
        ...['--set', 'cache.dir=/proc'],
      ]);
      expect(c.code).toBe(1);
      expect(c.err).toContain('cache.dir folder /proc is not writable (');
    },
  );

  test('encode inputs: folders are searched, non-images are refused', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'a'));
    writeFileSync(join(dir, 'a', 'x.png'), '');
    writeFileSync(join(dir, 'a', 'notes.txt'), '');
    writeFileSync(join(dir, 'y.JPG'), '');
    expect(listImages([dir])).toEqual([join(dir, 'a', 'x.png'), join(dir, 'y.JPG')]);
    expect(() => listImages([join(dir, 'a', 'notes.txt')])).toThrow(/notes.txt is not an image file/);
    expect(() => listImages([join(dir, 'missing')])).toThrow(/missing does not exist/);
  });
});

describe('train --workers', () => {
  test('defaults to every core on wasm/cpu (capped at the batch), one elsewhere; replicas refused on webgpu', () => {
    const cores = availableParallelism();
    expect(trainReplicas(undefined, 'wasm', 256)).toBe(Math.min(cores, 256));
    expect(trainReplicas(undefined, 'cpu', 256)).toBe(Math.min(cores, 256));
    expect(trainReplicas(undefined, 'wasm', 1)).toBe(1);
    expect(trainReplicas(undefined, 'webgpu', 256)).toBe(1);
    expect(trainReplicas(undefined, 'tensorflow', 256)).toBe(1);
    expect(trainReplicas(3, 'wasm', 256)).toBe(3);
    expect(trainReplicas(1, 'webgpu', 256)).toBe(1);
    expect(() => trainReplicas(2, 'webgpu', 256)).toThrow(
      "--workers 2: data-parallel training runs on the wasm or cpu backend; 'webgpu' trains in one process (--workers 1)",
    );
  });
});

describe.skipIf(!existsSync(cli))('CLI errors (built CLI)', () => {
  test('optional native backends stay outside the bundle (they load binaries relative to their own folder)', () => {
    const dist = join(__dirname, '..', 'dist');
    const code = readdirSync(dist)
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(dist, f), 'utf8'))
      .join('\n');
    expect(code).toContain('import("webgpu")');
    expect(code).not.toMatch(/dawn\.node/);
  });

  test('--help lists the commands', async () => {
    const r = await symseq(['--help']);
    for (const c of ['train', 'eval', 'encode', 'attn', 'export']) expect(r.out).toContain(c);
    const t = await symseq(['train', '--help']);
    expect(t.out).toContain('--resume');
  });

  test('missing data folder says how to get CIFAR-10 and which flag to pass', async () => {
    const out = tmp();
    const r = await symseq(['train', '--out', join(out, 'run'), '--backend', 'cpu'], {});
    expect(r.code).toBe(1);
    expect(r.err).toContain('CIFAR-10 not found: pass --data-dir <folder> or set CIFAR10_DIR');
    expect(r.err).toContain('cifar-10-binary.tar.gz');
    const r2 = await symseq([
      'train',
      '--out',
      join(out, 'run'),
      '--data-dir',
      join(out, 'nope'),
      '--backend',
      'cpu',
    ]);
    expect(r2.err).toMatch(/CIFAR-10: .*nope \(from --data-dir\) does not exist/);
  });

  test('missing teacher folder says which flag to pass; unwritable output is refused before any work', async () => {
    const d = tmp();
    const r = await symseq(
      ['train', '--out', join(d, 'run'), '--teacher', join(d, 'nomodel'), '--backend', 'cpu'],
      {
        CIFAR10_DIR: SHARED_CIFAR,
      },
    );
    if (existsSync(SHARED_CIFAR)) {
      expect(r.err).toMatch(/MobileNet teacher: .*nomodel\/model.json does not exist\. Pass --teacher/);
    }
    writeFileSync(join(d, 'file'), 'x');
    const w = await symseq(['train', '--out', join(d, 'file', 'run'), '--backend', 'cpu']);
    expect(w.err).toMatch(/output folder .*file\/run is not writable/);
  });

  test('the paper preset stops at once, offline, saying which weights it needs and how to pass them', async () => {
    const d = tmp();
    // A closed local port stands for "no internet", whatever network this test runs on.
    const t0 = Date.now();
    const url = 'http://127.0.0.1:9/model.safetensors';
    mkdirSync(join(d, 'train'));
    mkdirSync(join(d, 'test'));
    const r = await symseq([
      'train',
      '--preset',
      'paper',
      '--out',
      join(d, 'run'),
      '--backend',
      'cpu',
      '--teacher',
      url,
      '--data-dir',
      d,
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`ViT teacher (vit-b16) needs DINO weights, and ${url} is not reachable`);
    expect(r.err).toContain('facebook/dino-vitb16 model.safetensors');
    expect(r.err).toContain('--teacher /path/to/model.safetensors or set VIT_WEIGHTS');
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  test('a nested-config typo is refused before any dataset is opened or folder written (< 5 s)', async () => {
    const d = tmp();
    const t0 = Date.now();
    const r = await symseq([
      'train',
      '--out',
      join(d, 'run'),
      '--data-dir',
      join(d, 'nope'),
      '--teacher',
      join(d, 'nomodel'),
      '--set',
      'student.decoder.layerz=2',
      '--backend',
      'cpu',
    ]);
    const seconds = (Date.now() - t0) / 1000;
    expect(r.code).toBe(1);
    expect(r.err).toContain("student.decoder.layerz: unknown key (did you mean 'layers'?)");
    // Neither the (missing) data folder nor the teacher was looked at, and no run folder was made.
    expect(r.err).not.toMatch(/CIFAR-10|MobileNet|does not exist/);
    expect(existsSync(join(d, 'run'))).toBe(false);
    expect(seconds).toBeLessThan(5);
  });

  test('an unwritable cache.dir is refused before any image is read', async () => {
    const d = tmp();
    writeFileSync(join(d, 'file'), 'x');
    const r = await symseq([
      'train',
      '--out',
      join(d, 'run'),
      '--backend',
      'cpu',
      '--data-dir',
      join(d, 'nope'),
      '--set',
      `cache.dir=${JSON.stringify(join(d, 'file', 'cache'))}`,
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cache\.dir folder .*file\/cache is not writable/);
    expect(r.err).not.toMatch(/CIFAR-10/);
  });

  test('a failing train leaves a finished run folder as it was; a fresh train there is refused', async () => {
    const d = tmp();
    const run = join(d, 'run');
    mkdirSync(run);
    const config = JSON.stringify(buildTrainConfig({ out: run }));
    writeFileSync(join(run, 'config.json'), config);
    const refused = await symseq(['train', '--out', run, '--backend', 'cpu', '--data-dir', join(d, 'nope')]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/already holds a run .*--resume.*--overwrite/);
    const failed = await symseq([
      'train',
      '--out',
      run,
      '--overwrite',
      '--backend',
      'cpu',
      '--data-dir',
      join(d, 'nope'),
    ]);
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/nope \(from --data-dir\) does not exist/);
    expect(readFileSync(join(run, 'config.json'), 'utf8')).toBe(config);
  });

  test('an unknown option or backend is refused by the parser', async () => {
    const r = await symseq(['train', '--backend', 'gpu']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/Allowed choices are auto, tensorflow-gpu, (webgpu, )?tensorflow, wasm, cpu/);
  });
});

test('a truncated CIFAR batch file is named with its size', async () => {
  const d = tmp();
  const bin = join(d, 'cifar-10-batches-bin');
  mkdirSync(bin);
  const rec = 3073;
  for (const f of [
    'data_batch_1',
    'data_batch_2',
    'data_batch_3',
    'data_batch_4',
    'data_batch_5',
    'test_batch',
  ]) {
    writeFileSync(join(bin, `${f}.bin`), Buffer.alloc(f === 'data_batch_3' ? rec * 2 + 100 : rec * 2));
  }
  writeFileSync(
    join(bin, 'batches.meta.txt'),
    'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n',
  );
  const config = buildTrainConfig({ dataDir: d });
  await expect(openSplit(config, 'train', { quiet: true })).rejects.toThrow(/data_batch_3\.bin.*6246/);
});

test('config reading names the file', () => {
  const d = tmp();
  expect(() => buildTrainConfig({ config: join(d, 'none.json') })).toThrow(
    /none.json: cannot be read \(ENOENT\)/,
  );
});

test('image folders: a corrupt image is counted and skipped, or stops the run with --strict', async () => {
  const root = tmp();
  for (const split of ['train', 'test']) {
    for (const cls of ['cats', 'dogs']) {
      mkdirSync(join(root, split, cls), { recursive: true });
      const png = new PNG({ width: 8, height: 6 });
      png.data.fill(cls === 'cats' ? 40 : 200);
      writeFileSync(join(root, split, cls, 'a.png'), PNG.sync.write(png));
    }
  }
  writeFileSync(join(root, 'train', 'dogs', 'broken.jpg'), Buffer.from('not a jpeg at all'));
  // 22 more in the test split: 20 are named, then a count of the rest.
  for (let i = 0; i < 22; i++) {
    writeFileSync(join(root, 'test', 'cats', `bad-${String(i).padStart(2, '0')}.png`), Buffer.from('no png'));
  }
  const config = buildTrainConfig({
    dataDir: root,
    set: ['data.dataset="imagefolder"', `cache.dir=${JSON.stringify(join(root, '.cache'))}`],
  });
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => warnings.push(m);
  try {
    const train = await openSplit(config, 'train', { quiet: true });
    expect(train.length).toBe(2);
    expect(train.classes).toEqual(['cats', 'dogs']);
    expect(train.height).toBe(config.teacher.inputSize);
    expect(warnings.join('\n')).toMatch(/train: skipped 1 unreadable image\(s\):\n {2}.*broken\.jpg: /);
    warnings.length = 0;
    expect((await openSplit(config, 'test', { quiet: true })).length).toBe(2);
    const lines = warnings.join('\n').split('\n');
    expect(lines[0]).toBe('test: skipped 22 unreadable image(s):');
    expect(lines.slice(1, 21).map((l) => l.match(/bad-\d+\.png/)?.[0])).toEqual(
      Array.from({ length: 20 }, (_, i) => `bad-${String(i).padStart(2, '0')}.png`),
    );
    expect(lines.slice(21)).toEqual(['  … and 2 more', "  (the run's report.json lists them all)"]);
  } finally {
    console.warn = warn;
  }
  const strict = buildTrainConfig({
    dataDir: root,
    strict: true,
    set: ['data.dataset="imagefolder"', `cache.dir=${JSON.stringify(join(root, '.cache2'))}`],
  });
  await expect(openSplit(strict, 'train', { quiet: true })).rejects.toThrow(/broken\.jpg/);
});

test('--train-limit decodes only the chosen images (the others here are corrupt and would be listed as skipped)', async () => {
  const root = tmp();
  // 2 classes × 4 train files; limit 4 takes listing indices 0, 2, 4, 6: cats/0, cats/2, dogs/0, dogs/2.
  for (const split of ['train', 'test']) {
    for (const [c, cls] of ['cats', 'dogs'].entries()) {
      mkdirSync(join(root, split, cls), { recursive: true });
      for (let i = 0; i < 4; i++) {
        const png = new PNG({ width: 8, height: 8 });
        png.data.fill(c === 0 ? 40 : 200);
        const good = split === 'test' || i % 2 === 0;
        writeFileSync(
          join(root, split, cls, `${i}.png`),
          good ? PNG.sync.write(png) : Buffer.from('corrupt'),
        );
      }
    }
  }
  const config = buildTrainConfig({
    dataDir: root,
    trainLimit: 4,
    batchSize: 2,
    set: ['data.dataset="imagefolder"', 'eval.k=2', `cache.dir=${JSON.stringify(join(root, '.cache'))}`],
  });
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => warnings.push(m);
  try {
    const train = await openSplit(config, 'train', { quiet: true });
    expect(train.length).toBe(4);
    expect(Array.from(train.labels)).toEqual([0, 0, 1, 1]);
    expect(warnings).toEqual([]);
  } finally {
    console.warn = warn;
  }
});
