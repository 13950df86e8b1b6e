import cliProgress from 'cli-progress';
import type { Progress } from '@goldstone/plugin-api';

export interface StderrProgressOptions {
  /** Nothing at all: no bar, no progress lines, no log lines (errors are printed by the caller). */
  quiet?: boolean;
  /** Where to write (default process.stderr). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Draw a bar (default: whether the stream is a terminal). */
  tty?: boolean;
  /** Milliseconds, for ETA and the pacing of plain lines (default performance.now). */
  now?: () => number;
  /** Plain mode: a progress line at least this often, in ms (default 30 s), besides every tenth of the work. */
  lineEveryMs?: number;
  /** Plain mode: no two lines closer than this, in ms (default 2 s), so that quick work prints only its start. */
  minGapMs?: number;
}

/** With `--quiet`: the lines that still reach stderr (warnings and errors, never progress or status). */
export const isProblemLine = (message: string): boolean => /^(warning|error)\b/.test(message);

/** A value beside the progress: numbers to 4 significant digits (exponent outside [1e-3, 1e4)), text as is. */
export function formatInfoValue(v: number | string): string {
  if (typeof v !== 'number') return v;
  if (!Number.isFinite(v) || v === 0) return String(v);
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? String(Number(v.toPrecision(4))) : v.toExponential(2);
}

/** `key=value` pairs of the info a tick carries. */
export function formatInfo(info: Record<string, number | string> | undefined): string {
  return info ? Object.entries(info).map(([k, v]) => `${k}=${formatInfoValue(v)}`).join(' ') : '';
}

/** A duration for people: `42s`, `3m07s`, `1h02m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** One plain progress line: `train 1024/5120 (20%) epoch=4/20 loss=0.1234 test.mse=0.13 · 3s, eta 12s`. */
export function progressLine(label: string, value: number, total: number, elapsedMs: number, info?: Record<string, number | string>): string {
  const pct = total > 0 ? Math.floor((100 * value) / total) : 100;
  const eta = value > 0 && total > value ? `, eta ${formatDuration((elapsedMs / value) * (total - value))}` : '';
  const text = formatInfo(info);
  return `${label} ${value}/${total} (${pct}%)${text ? ` ${text}` : ''} · ${formatDuration(elapsedMs)}${eta}`;
}

/**
 * Progress on stderr: a bar with percentage, ETA and the tick's values (epoch, loss, held-out
 * metric) when stderr is a terminal; otherwise plain lines, one at every tenth of the work (no two
 * within `minGapMs`) and at least every `lineEveryMs`, so that a log (CI, `tee`) shows the run
 * moving without flooding it with quick work. Nothing ever goes to
 * stdout, which belongs to `--json` output.
 */
export function stderrProgress(opts: StderrProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const quiet = Boolean(opts.quiet);
  const tty = (opts.tty ?? Boolean(stream.isTTY)) && !quiet;
  const now = opts.now ?? (() => performance.now());
  const lineEvery = opts.lineEveryMs ?? 30_000;
  const minGap = opts.minGapMs ?? 2_000;
  let bar: cliProgress.SingleBar | null = null;
  /** The unit of work in progress (plain mode). */
  let work: { label: string; total: number; value: number; t0: number; lastLine: number; nextTenth: number; lines: number; info?: Record<string, number | string> } | null = null;
  const write = (line: string) => {
    if (quiet) return;
    if (bar) {
      bar.stop();
      bar = null;
    }
    stream.write(`${line}\n`);
  };
  return {
    start(label, total) {
      if (quiet) return;
      bar?.stop();
      bar = null;
      const t0 = now();
      work = { label, total, value: 0, t0, lastLine: t0, nextTenth: 1, lines: 0 };
      if (!tty) {
        write(`${label}: ${total} step${total === 1 ? '' : 's'}…`);
        return;
      }
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${label.padEnd(10)} [{bar}] {percentage}% {value}/{total} eta {eta_formatted} {info}`,
          hideCursor: true,
          clearOnComplete: false,
          barsize: 24,
          etaBuffer: 50,
        },
        cliProgress.Presets.legacy,
      );
      bar.start(total, 0, { info: '' });
    },
    tick(n = 1, info) {
      if (quiet || !work) return;
      work.value += n;
      if (info) work.info = info;
      if (tty) {
        bar?.increment(n, { info: formatInfo(info) });
        return;
      }
      const t = now();
      const tenths = work.total > 0 ? Math.floor((10 * work.value) / work.total) : 10;
      if (work.value >= work.total) return; // the closing line says it
      const since = t - work.lastLine;
      if ((tenths >= work.nextTenth && since >= minGap) || since >= lineEvery) {
        work.nextTenth = tenths + 1;
        work.lastLine = t;
        work.lines++;
        write(progressLine(work.label, work.value, work.total, t - work.t0, work.info));
      }
    },
    stop() {
      if (quiet) return;
      bar?.stop();
      bar = null;
      // the closing line, unless the work was quick and printed nothing but its start
      const t = now();
      if (work && !tty && (work.lines > 0 || t - work.t0 >= minGap)) write(progressLine(work.label, work.value, work.total, t - work.t0, work.info));
      work = null;
    },
    log(message) {
      write(message);
    },
  };
}
