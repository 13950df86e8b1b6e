import cliProgress from 'cli-progress';
import { UsageError } from '@goldstone/plugin-api';
import type { BackendChoice } from '@goldstone/core';
import { parseAssignments } from '@goldstone/runner';
import { needsRun, runSweep, type SweepReporter } from '@goldstone/sweep';
import { createExecutor } from '../builtins';
import { cliEnvironment } from '../environment';
import { isProblemLine } from '../progress';
import { slurmSweepCommand, usesScheduler, type SlurmSweepFlags } from './sweep-slurm';

export interface SweepFlags extends SlurmSweepFlags {
  out?: string;
  workers?: string;
  executor?: string;
  quick?: boolean;
  set?: string[];
  report?: boolean;
  json?: boolean;
  dryRun?: boolean;
  maxPoints?: string;
  force?: boolean;
  redis?: string;
  queue?: string;
  backend?: BackendChoice;
  quiet?: boolean;
}

/** With `--quiet`, a reporter that prints only the warnings and errors it is given (no bar, no status lines). */
function quietReporter(): SweepReporter {
  return {
    start() {},
    point() {},
    log(message) {
      if (isProblemLine(message)) process.stderr.write(`${message}\n`);
    },
    stop() {},
  };
}

/**
 * One progress bar for the whole sweep on a terminal (points done / total, with counts by status),
 * plain lines otherwise. Everything goes to stderr.
 */
function stderrReporter(): SweepReporter {
  const tty = Boolean(process.stderr.isTTY);
  let bar: cliProgress.SingleBar | null = null;
  const line = (text: string) => {
    if (bar) bar.stop();
    process.stderr.write(`${text}\n`);
  };
  return {
    start({ total, done, toRun, workers, dir, executor }) {
      const where = executor === 'redis' ? 'the workers of a Redis queue' : `${workers} ${executor} worker${workers === 1 ? '' : 's'}`;
      process.stderr.write(`sweep ${dir}: ${total} points, ${done} already finished, ${toRun} to run on ${where}\n`);
      if (!tty || toRun === 0) return;
      bar = new cliProgress.SingleBar(
        { stream: process.stderr, format: 'sweep      [{bar}] {value}/{total} {info}', hideCursor: true, clearOnComplete: false, barsize: 30 },
        cliProgress.Presets.legacy,
      );
      bar.start(total, done, { info: '' });
    },
    point(rec, counts) {
      const info = `completed ${counts.completed}, diverged ${counts.diverged}, failed ${counts.failed}, running ${counts.running}`;
      if (bar) {
        bar.increment(1, { info });
        return;
      }
      line(`${rec.status.padEnd(11)} ${rec.id}${rec.error && rec.status !== 'completed' ? `: ${rec.error}` : ''}`);
    },
    log(message) {
      if (bar) {
        // keep the bar: print the line above it
        bar.stop();
        process.stderr.write(`${message}\n`);
        const value = (bar as unknown as { value: number }).value;
        const total = bar.getTotal();
        bar.start(total, value, { info: '' });
        return;
      }
      line(message);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}

/** A whole number ≥ 1 from a flag, or a usage error naming it. */
export function wholeNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 1) throw new UsageError(`${flag} ${text}: expected a whole number ≥ 1`, { field: flag.replace(/^--/, '') });
  return n;
}

export async function sweepCommand(file: string, flags: SweepFlags): Promise<number> {
  if (flags.out !== undefined && flags.out.trim() === '') throw new UsageError('--out: expected a sweep directory, found an empty path', { field: 'out' });
  const set = parseAssignments(flags.set);
  if (flags.backend) set.backend = flags.backend;
  const workers = wholeNumber('--workers', flags.workers);
  const maxPoints = wholeNumber('--max-points', flags.maxPoints);
  if (usesScheduler(flags)) return slurmSweepCommand(file, flags, set, maxPoints);
  const reporter = flags.quiet ? quietReporter() : stderrReporter();
  const executor = await createExecutor(flags.executor ?? 'local', { workers, redis: flags.redis, queue: flags.queue });
  // Redis unreachable: exit 2 before anything is written
  const opens = executor as { open?: () => Promise<unknown> };
  if (!flags.dryRun && typeof opens.open === 'function') await opens.open();
  const outcome = await runSweep({
    file,
    env: cliEnvironment(),
    executor,
    out: flags.out,
    quick: flags.quick,
    set,
    report: flags.report,
    dryRun: flags.dryRun,
    maxPoints,
    force: flags.force,
    reporter,
  });
  const c = outcome.index.counts;
  if (flags.dryRun) {
    // The points, one a line: what each would do, its id, its assignments.
    if (flags.json) process.stdout.write(`${JSON.stringify(outcome.index, null, 2)}\n`);
    else {
      const lines = outcome.index.points.map((p) => `${needsRun(p.status) ? 'run ' : 'skip'} ${p.id}${p.part !== undefined ? ` [${p.part}]` : ''} ${Object.entries(p.assignments).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}${needsRun(p.status) ? '' : ` (${p.status})`}`);
      process.stdout.write(lines.length ? `${lines.join('\n')}\n` : '');
    }
    const finished = c.completed + c.diverged;
    if (!flags.quiet) process.stderr.write(`dry run: ${outcome.index.points.length} points in ${outcome.dir}, ${finished} finished, ${outcome.index.points.length - finished} would run; nothing was written\n`);
    return 0;
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(outcome.index, null, 2)}\n`);
  if (!flags.quiet) {
    process.stderr.write(
      `sweep ${outcome.dir}: ${c.completed} completed, ${c.diverged} diverged, ${c.failed} failed, ${c.interrupted + c.running + c.pending} not finished` +
        `${outcome.report ? ` (report: ${outcome.report})` : ''}\n`,
    );
  }
  if (outcome.interrupted) return 130;
  if (outcome.failed > 0 || c.interrupted + c.running + c.pending > 0) {
    for (const p of outcome.index.points) if (p.status === 'failed') process.stderr.write(`error: ${p.id} failed: ${p.error ?? 'no message'}\n`);
    const open = c.interrupted + c.running + c.pending;
    if (flags.quiet && outcome.failed === 0 && open > 0) process.stderr.write(`error: ${open} point${open === 1 ? '' : 's'} did not finish\n`);
    return 1;
  }
  return 0;
}
