import cliProgress from 'cli-progress';
import type { Progress } from '@goldstone/plugin-api';

/**
 * Progress on stderr: a bar when stderr is a terminal, plain log lines otherwise. Nothing ever goes
 * to stdout, which belongs to `--json` output.
 */
export function stderrProgress(opts: { quiet?: boolean } = {}): Progress {
  const tty = Boolean(process.stderr.isTTY) && !opts.quiet;
  let bar: cliProgress.SingleBar | null = null;
  let label = '';
  const write = (line: string) => {
    if (opts.quiet) return;
    if (bar) bar.stop();
    process.stderr.write(`${line}\n`);
    if (bar) bar = null;
  };
  return {
    start(l, total) {
      label = l;
      if (!tty) {
        write(`${l}…`);
        return;
      }
      bar?.stop();
      bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: `${l.padEnd(10)} [{bar}] {value}/{total} {info}`,
          hideCursor: true,
          clearOnComplete: false,
          barsize: 30,
        },
        cliProgress.Presets.legacy,
      );
      bar.start(total, 0, { info: '' });
    },
    tick(n = 1, info) {
      if (!bar) return;
      const text = info
        ? Object.entries(info)
            .map(([k, v]) => `${k}=${typeof v === 'number' ? (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toFixed(4) : v.toExponential(2)) : v}`)
            .join(' ')
        : '';
      bar.increment(n, { info: text });
    },
    stop() {
      bar?.stop();
      bar = null;
      void label;
    },
    log(message) {
      write(message);
    },
  };
}
