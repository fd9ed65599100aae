import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../src/progress';

function fakeTerminal(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & { isTTY: boolean; columns: number };
  stream.isTTY = isTTY;
  stream.columns = 160;
  let text = '';
  (stream as unknown as PassThrough).on('data', (d: Buffer) => {
    text += d.toString();
  });
  return { stream, text: () => text };
}

describe('createProgress', () => {
  it('draws count, rate and ETA on a terminal', async () => {
    const term = fakeTerminal(true);
    const p = createProgress({ label: 'decoding images', total: 10, unit: 'img', stream: term.stream });
    expect(p.visible).toBe(true);
    p.increment(4);
    p.increment(6);
    p.stop();
    await new Promise((r) => setImmediate(r));
    const out = term.text();
    expect(out).toContain('decoding images');
    expect(out).toContain('10/10 img');
    expect(out).toMatch(/\| [\d.]+ img\/s \| ETA /);
  });

  it('draws nothing when quiet', async () => {
    for (const isTTY of [false, true]) {
      const term = fakeTerminal(isTTY);
      const p = createProgress({ label: 'x', total: 10, quiet: true, stream: term.stream });
      expect(p.visible).toBe(false);
      p.increment(3);
      p.stop();
      await new Promise((r) => setImmediate(r));
      expect(term.text()).toBe('');
    }
  });

  it('prints a plain line per 10% (with rate and ETA) when not on a terminal', async () => {
    const term = fakeTerminal(false);
    const p = createProgress({ label: 'features', total: 100, unit: 'img', stream: term.stream });
    expect(p.visible).toBe(false);
    for (let i = 0; i < 100; i++) p.increment();
    p.stop();
    await new Promise((r) => setImmediate(r));
    const lines = term.text().trim().split('\n');
    expect(lines.length).toBe(10);
    expect(lines[0]).toMatch(/^features: 10\/100 img \(10%\) [\d.]+ img\/s, ETA \d+ s$/);
    expect(lines[9]).toMatch(/^features: 100\/100 img \(100%\)/);
    expect(term.text()).not.toContain('\r');
  });

  it('shows the latest note (e.g. the loss) after the ETA, on a terminal and in log lines', async () => {
    const term = fakeTerminal(true);
    const p = createProgress({ label: 'train', total: 3, unit: 'step', stream: term.stream });
    p.increment(1, 'loss 0.5000');
    p.increment(1, 'loss 0.2500');
    p.increment(1);
    p.stop();
    const log = fakeTerminal(false);
    const q = createProgress({ label: 'train', total: 2, unit: 'step', stream: log.stream });
    q.increment(1, 'loss 0.7500');
    q.increment(1, 'loss 0.1250');
    q.stop();
    await new Promise((r) => setImmediate(r));
    // The last drawn frame: 3/3 with the note of step 2 (step 3 gave none).
    const frames = term.text().split('\r');
    expect(frames[frames.length - 1]).toMatch(/3\/3 step \| \S+ step\/s \| ETA \S+ \| loss 0\.2500/);
    expect(log.text().trim().split('\n')).toEqual([
      expect.stringMatching(/^train: 1\/2 step \(50%\) .*, ETA \d+ s, loss 0\.7500$/),
      expect.stringMatching(/^train: 2\/2 step \(100%\) .*, ETA \d+ s, loss 0\.1250$/),
    ]);
  });

  it('shows fractional counts with the requested decimals', async () => {
    const term = fakeTerminal(true);
    const p = createProgress({
      label: 'downloading',
      total: 2.5,
      unit: 'MB',
      decimals: 1,
      stream: term.stream,
    });
    p.increment(1.25);
    p.stop();
    await new Promise((r) => setImmediate(r));
    expect(term.text()).toContain('1.3/2.5 MB');
  });
});
