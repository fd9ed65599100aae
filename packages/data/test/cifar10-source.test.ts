import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIFAR10_CLASSES, CIFAR10_RECORD_BYTES, cifar10BatchFiles } from '../src/datasets/cifar10-binary';
import { downloadCifar10 } from '../src/datasets/download-cifar10';
import { CIFAR10_MD5, CIFAR10_URL, openCifar10, resolveCifar10 } from '../src/datasets/resolve-cifar10';
import { CIFAR_JPEG, hasCifarJpeg, tempDir } from './helpers';

/** A miniature `cifar-10-batches-bin` (2 records per batch) under `parent`. */
function writeMiniBatches(parent: string): string {
  const dir = join(parent, 'cifar-10-batches-bin');
  mkdirSync(dir, { recursive: true });
  let n = 0;
  for (const f of [...cifar10BatchFiles('train'), ...cifar10BatchFiles('test')]) {
    const buf = Buffer.alloc(2 * CIFAR10_RECORD_BYTES);
    for (let r = 0; r < 2; r++, n++) {
      buf[r * CIFAR10_RECORD_BYTES] = n % 10;
      buf.fill(n * 9, r * CIFAR10_RECORD_BYTES + 1, (r + 1) * CIFAR10_RECORD_BYTES);
    }
    writeFileSync(join(dir, f), buf);
  }
  writeFileSync(
    join(dir, 'batches.meta.txt'),
    'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n',
  );
  return dir;
}

describe('resolveCifar10', () => {
  it('says how to get CIFAR-10 and what to pass when nothing is given', () => {
    let message = '';
    try {
      resolveCifar10({ env: {}, flag: '--data' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('pass --data <folder> or set CIFAR10_DIR');
    expect(message).toContain(CIFAR10_URL);
    expect(message).toContain(CIFAR10_MD5);
    expect(message).toContain('downloadCifar10');
  });

  it('finds the binary layout in the folder or its parent, flag before environment', async () => {
    const root = await tempDir();
    const bin = writeMiniBatches(root);
    expect(resolveCifar10({ dir: bin, env: { CIFAR10_DIR: '/elsewhere' } })).toEqual({
      layout: 'binary',
      dir: bin,
    });
    expect(resolveCifar10({ env: { CIFAR10_DIR: root } })).toEqual({ layout: 'binary', dir: bin });
    const test = await openCifar10(resolveCifar10({ dir: root }), 'test');
    expect(test.length).toBe(2);
    expect(Array.from(test.labels)).toEqual([0, 1]);
  });

  it('names the folder and its origin when it is missing or holds neither layout', async () => {
    const root = await tempDir();
    expect(() => resolveCifar10({ env: { CIFAR10_DIR: join(root, 'nope') } })).toThrow(
      /CIFAR-10: .*nope \(from CIFAR10_DIR\) does not exist/,
    );
    expect(() => resolveCifar10({ dir: root, flag: '--data' })).toThrow(
      /\(from --data\) holds neither the binary layout/,
    );
  });

  it.skipIf(!hasCifarJpeg)('finds the ImageFolder layout and opens it as 32x32 CIFAR-10', async () => {
    expect(resolveCifar10({ env: { CIFAR10_DIR: CIFAR_JPEG } })).toEqual({
      layout: 'imagefolder',
      dir: CIFAR_JPEG,
    });
    // A copy with one real image per class and split keeps the test fast.
    const root = await tempDir();
    for (const split of ['train', 'test']) {
      for (const cls of CIFAR10_CLASSES) {
        mkdirSync(join(root, split, cls), { recursive: true });
        copyFileSync(join(CIFAR_JPEG, split, cls, '0001.jpg'), join(root, split, cls, '0001.jpg'));
      }
    }
    const source = resolveCifar10({ env: { CIFAR10_DIR: root } });
    expect(source).toEqual({ layout: 'imagefolder', dir: root });
    const ds = await openCifar10(source, 'test', { cacheDir: join(root, '.cache'), quiet: true });
    expect([ds.length, ds.height, ds.width]).toEqual([10, 32, 32]);
    expect(Array.from(ds.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    rmSync(join(root, 'train', 'frog'), { recursive: true });
    await expect(openCifar10(source, 'train', { quiet: true })).rejects.toThrow(
      /train has classes \[airplane, .*, dog, horse, ship, truck\], expected \[airplane, .*dog, frog, horse/,
    );
  });
});

describe('downloadCifar10', () => {
  let server: Server;
  let base = '';
  let archive: Buffer;
  let requests = 0;

  beforeAll(async () => {
    const src = await tempDir();
    writeMiniBatches(src);
    const file = join(src, 'cifar-10-binary.tar.gz');
    await tar.c({ gzip: true, file, cwd: src }, ['cifar-10-batches-bin']);
    archive = readFileSync(file);
    server = createServer((req, res) => {
      requests++;
      if (req.url === '/cifar-10-binary.tar.gz') {
        res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': archive.length });
        res.end(archive);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

  it('downloads, checks the md5, extracts into place, and skips when already there', async () => {
    const dest = join(await tempDir(), 'data');
    const md5 = createHash('md5').update(archive).digest('hex');
    const url = `${base}/cifar-10-binary.tar.gz`;
    const dir = await downloadCifar10(dest, { url, md5, quiet: true });
    expect(dir).toBe(join(dest, 'cifar-10-batches-bin'));
    expect(readdirSync(dest)).toEqual(['cifar-10-batches-bin']); // no archive or staging folder left
    const ds = await openCifar10(resolveCifar10({ dir: dest }), 'train');
    expect(ds.length).toBe(10);
    expect(ds.image(3).data[0]).toBe(27);
    const before = requests;
    expect(await downloadCifar10(dest, { url, md5, quiet: true })).toBe(dir);
    expect(requests).toBe(before);
  });

  it('rejects a wrong checksum and leaves nothing behind', async () => {
    const dest = join(await tempDir(), 'data');
    await expect(
      downloadCifar10(dest, { url: `${base}/cifar-10-binary.tar.gz`, md5: CIFAR10_MD5, quiet: true }),
    ).rejects.toThrow(new RegExp(`has md5 [0-9a-f]{32}, expected ${CIFAR10_MD5}: the download is corrupt`));
    expect(readdirSync(dest)).toEqual([]);
  });

  it('reports HTTP errors and unreachable hosts with what to do', async () => {
    const dest = join(await tempDir(), 'data');
    await expect(downloadCifar10(dest, { url: `${base}/missing.tar.gz`, quiet: true })).rejects.toThrow(
      /answered HTTP 404/,
    );
    // Port 9 on loopback (discard) is closed here: a refused connection, no traffic leaves the machine.
    await expect(downloadCifar10(dest, { url: 'http://127.0.0.1:9/x.tar.gz', quiet: true })).rejects.toThrow(
      /cannot reach http:\/\/127\.0\.0\.1:9\/x\.tar\.gz .*pass its folder with --data-dir or CIFAR10_DIR/,
    );
    expect(existsSync(join(dest, 'cifar-10-batches-bin'))).toBe(false);
  });
});
