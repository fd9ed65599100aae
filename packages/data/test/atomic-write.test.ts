import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import {
  assertWritableFolder,
  sweepStaleTempFiles,
  writeFileAtomic,
  writeJsonAtomic,
} from '../src/atomic-write';
import { tempDir } from './helpers';

describe('writeFileAtomic', () => {
  it('writes bytes and JSON, replacing an older file and leaving no temporary file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'weights.bin');
    writeFileSync(path, 'old contents that are longer');
    await writeFileAtomic(path, Uint8Array.from([1, 2, 3]));
    expect(Array.from(readFileSync(path))).toEqual([1, 2, 3]);
    await writeJsonAtomic(join(dir, 'config.json'), { a: 1, b: [2, 3] });
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual({ a: 1, b: [2, 3] });
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'weights.bin']);
  });

  it('keeps the old file whole when a write fails midway', async () => {
    const dir = await tempDir();
    const path = join(dir, 'ckpt.json');
    await writeJsonAtomic(path, { step: 1 });
    // A string with a lone surrogate is fine; a value JSON cannot serialise throws before any write.
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(writeJsonAtomic(path, cyclic)).rejects.toThrow(/circular/i);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ step: 1 });
    expect(readdirSync(dir)).toEqual(['ckpt.json']);
  });

  it('names the folder it cannot write to', async () => {
    const dir = await tempDir();
    await expect(writeFileAtomic(join(dir, 'missing', 'x.bin'), 'x')).rejects.toThrow(
      new RegExp(
        `cannot write to folder ${join(dir, 'missing').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(ENOENT\\)`,
      ),
    );
    writeFileSync(join(dir, 'afile'), '');
    await expect(writeFileAtomic(join(dir, 'afile', 'x.bin'), 'x')).rejects.toThrow(
      /cannot write to folder .*afile \(ENOTDIR\)/,
    );
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });
});

/** The pid of a process that has exited (a child that ran and was reaped). */
function deadPid(): number {
  return Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']));
}

describe('stale temporary files', () => {
  it('the first write into a folder removes temp files of dead processes and keeps those of live ones', async () => {
    const dir = await tempDir();
    const dead = deadPid();
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const stale = [`.student.safetensors.tmp-${dead}-0a1b2c3d`, `.latest.json.tmp-${dead}-ffffffff`];
      const kept = [`.shard-00001.bin.tmp-${live.pid}-12345678`, 'notes.tmp-x', 'data.tmp'];
      for (const n of [...stale, ...kept]) writeFileSync(join(dir, n), 'partial');
      mkdirSync(join(dir, `export.tmp-${dead}`));
      writeFileSync(join(dir, `export.tmp-${dead}`, 'teacher.bin'), 'partial');
      await writeFileAtomic(join(dir, 'a.bin'), 'x');
      expect(readdirSync(dir).sort()).toEqual(['a.bin', ...kept].sort());
    } finally {
      live.kill('SIGKILL');
    }
  });

  it('sweepStaleTempFiles lists what it removed and ignores a missing folder', async () => {
    const dir = await tempDir();
    const dead = deadPid();
    writeFileSync(join(dir, `.x.json.tmp-${dead}-00000000`), '');
    writeFileSync(join(dir, `.y.json.tmp-${process.pid}-00000000`), ''); // this process: alive
    expect(sweepStaleTempFiles(dir)).toEqual([`.x.json.tmp-${dead}-00000000`]);
    expect(readdirSync(dir)).toEqual([`.y.json.tmp-${process.pid}-00000000`]);
    expect(sweepStaleTempFiles(join(dir, 'missing'))).toEqual([]);
  });
});

describe('assertWritableFolder', () => {
  it('creates the folder and leaves nothing in it', async () => {
    const dir = join(await tempDir(), 'a', 'b');
    assertWritableFolder(dir, 'cache.dir');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('names the role and the folder when it cannot write (also as root, where access(W_OK) passes)', async () => {
    const dir = await tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    expect(() => assertWritableFolder(join(dir, 'file', 'cache'), 'cache.dir')).toThrow(
      `cache.dir folder ${join(dir, 'file', 'cache')} is not writable (ENOTDIR)`,
    );
    if (process.getuid?.() !== 0) {
      const ro = join(dir, 'ro');
      mkdirSync(ro);
      chmodSync(ro, 0o500);
      expect(() => assertWritableFolder(ro, 'cache.dir')).toThrow(
        /cache.dir folder .*ro is not writable \(EACCES\)/,
      );
    }
  });
});

describe('SYMSEQ_FAULT (the fault-injection hook)', () => {
  it('is off without the variable, ignores other files, and refuses a malformed spec', async () => {
    const dir = await tempDir();
    const saved = process.env.SYMSEQ_FAULT;
    try {
      delete process.env.SYMSEQ_FAULT;
      await writeFileAtomic(join(dir, 'a.bin'), 'x');
      process.env.SYMSEQ_FAULT = 'after-rename:other-*.bin#1';
      await writeFileAtomic(join(dir, 'b.bin'), 'x');
      process.env.SYMSEQ_FAULT = 'during:b.bin';
      await expect(writeFileAtomic(join(dir, 'b.bin'), 'y')).rejects.toThrow(
        /SYMSEQ_FAULT=during:b.bin: expected <before-rename\|after-rename>:<file-name glob>\[#n\]/,
      );
      expect(readFileSync(join(dir, 'b.bin'), 'utf8')).toBe('x');
    } finally {
      if (saved === undefined) delete process.env.SYMSEQ_FAULT;
      else process.env.SYMSEQ_FAULT = saved;
    }
  });

  it('kills the writing process at the n-th matching write, before or after the rename', async () => {
    const dir = await tempDir();
    const saved = process.env.SYMSEQ_FAULT;
    // Stand-in for the kill: record what is on disk at that moment instead of dying.
    const seen: string[][] = [];
    const kill = vi.spyOn(process, 'kill').mockImplementation((pid, signal) => {
      expect([pid, signal]).toEqual([process.pid, 'SIGKILL']);
      seen.push(readdirSync(dir).sort());
      return true;
    });
    try {
      process.env.SYMSEQ_FAULT = 'before-rename:b*.bin#2';
      for (const n of ['a', 'b1', 'b2', 'b3']) await writeFileAtomic(join(dir, `${n}.bin`), n);
      expect(seen.length).toBe(1);
      expect(seen[0].filter((f) => !f.includes('.tmp-'))).toEqual(['a.bin', 'b1.bin']);
      expect(seen[0].filter((f) => f.startsWith('.b2.bin.tmp-')).length).toBe(1);
      process.env.SYMSEQ_FAULT = 'after-rename:b3.bin';
      await writeFileAtomic(join(dir, 'b3.bin'), 'again');
      expect(seen[1]).toEqual(['a.bin', 'b1.bin', 'b2.bin', 'b3.bin']);
    } finally {
      kill.mockRestore();
      if (saved === undefined) delete process.env.SYMSEQ_FAULT;
      else process.env.SYMSEQ_FAULT = saved;
    }
  });
});
