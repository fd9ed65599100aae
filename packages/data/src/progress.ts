import cliProgress from 'cli-progress';

export interface ProgressOptions {
  /** Text before the bar. */
  label: string;
  total: number;
  /** What is counted, e.g. `img`; shown in the rate. */
  unit?: string;
  /** No bar at all. */
  quiet?: boolean;
  /** Decimals shown for the count (e.g. 1 for megabytes); whole numbers by default. */
  decimals?: number;
  /** Where the bar is drawn; stderr by default so stdout stays clean for results. */
  stream?: NodeJS.WriteStream;
}

export interface Progress {
  /** Adds `n` done items; `note` (e.g. `loss 0.4123`) is shown after the ETA until the next one. */
  increment(n?: number, note?: string): void;
  /** Finishes the bar (leaves the final line on screen). */
  stop(): void;
  /** Whether a bar is drawn (false when quiet or not a terminal). */
  readonly visible: boolean;
}

/**
 * A progress bar with count, rate and ETA on stderr. On a terminal it redraws in place; elsewhere (logs,
 * CI) it prints a plain line at most every 10% or 30 s, so logs never fill with redraws. `quiet`: nothing.
 */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const unit = options.unit ?? 'it';
  if (options.quiet || options.total <= 0) {
    return { increment: () => {}, stop: () => {}, visible: false };
  }
  if (!stream.isTTY) return lineProgress(options, stream, unit);
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${options.label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}{note}`,
      hideCursor: true,
      etaBuffer: 64,
      fps: 5,
      formatValue: (v: number, _o: unknown, type: string) =>
        type === 'value' || type === 'total' ? v.toFixed(options.decimals ?? 0) : String(v),
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let done = 0;
  bar.start(options.total, 0, { rate: '-', note: '' });
  return {
    visible: true,
    increment(n = 1, note?: string) {
      done += n;
      const seconds = (Date.now() - started) / 1000;
      const rate = seconds > 0 ? (done / seconds).toFixed(1) : '-';
      bar.update(done, note === undefined ? { rate } : { rate, note: ` | ${note}` });
    },
    stop() {
      bar.stop();
    },
  };
}

/** Progress for logs: one line per 10% (or 30 s), with rate and ETA. */
function lineProgress(options: ProgressOptions, stream: NodeJS.WriteStream, unit: string): Progress {
  const started = Date.now();
  let done = 0;
  let lastLine = started;
  let lastDone = 0;
  let lastNote = '';
  const line = () => {
    const s = (Date.now() - started) / 1000;
    const rate = s > 0 ? done / s : 0;
    const eta = rate > 0 ? Math.round((options.total - done) / rate) : 0;
    const pct = ((100 * done) / options.total).toFixed(0);
    stream.write(
      `${options.label}: ${done.toFixed(options.decimals ?? 0)}/${options.total} ${unit} (${pct}%) ${rate.toFixed(1)} ${unit}/s, ETA ${eta} s${lastNote}\n`,
    );
    lastLine = Date.now();
    lastDone = done;
  };
  return {
    visible: false,
    increment(n = 1, note?: string) {
      done += n;
      if (note !== undefined) lastNote = `, ${note}`;
      if (done - lastDone >= options.total / 10 || Date.now() - lastLine > 30_000) line();
    },
    stop() {
      if (done !== lastDone) line();
    },
  };
}
