import { spawn } from 'node:child_process';
import { UsageError } from '@goldstone/plugin-api';
import type { RedisTarget } from '@goldstone/sweep-redis';
import { loadSweepRedis } from '../sweep-redis';
import { cliEnvironment } from '../environment';
import { wholeNumber } from './sweep';

export interface WorkerFlags {
  redis?: string;
  concurrency?: string;
  queue?: string;
  lockDuration?: string;
  /** Errors only on stderr: no start, waiting or stop lines. */
  quiet?: boolean;
}

/** RedisWorker's one status line (no sweep queued yet), left out with --quiet. */
const WAITING = /^no sweep is queued on this Redis yet/;

/** The flags every worker process of a pool is started with (one slot each). */
function slotArgs(flags: WorkerFlags): string[] {
  return ['worker', '--redis', flags.redis!, '--concurrency', '1', ...(flags.queue ? ['--queue', flags.queue] : []), ...(flags.lockDuration ? ['--lock-duration', flags.lockDuration] : []), ...(flags.quiet ? ['--quiet'] : [])];
}

/**
 * `goldstone worker --redis URL`: take sweep points from a Redis queue until stopped. One point at
 * a time per process (training holds the JavaScript thread), so `--concurrency N` starts N worker
 * processes. SIGTERM or Ctrl-C: a running point is handed back to the queue (its run directory
 * marked interrupted) and the worker exits 130; an idle one exits 0.
 */
export async function workerCommand(flags: WorkerFlags): Promise<number> {
  if (flags.redis === undefined || flags.redis.trim() === '') throw new UsageError('--redis: expected a redis://[user:password@]host[:port][/db] or rediss:// URL, found nothing', { field: 'redis' });
  const { parseRedisUrl, queueNameIssue, RedisWorker } = await loadSweepRedis('--redis');
  const target = parseRedisUrl(flags.redis);
  const concurrency = wholeNumber('--concurrency', flags.concurrency) ?? 1;
  const lockDuration = wholeNumber('--lock-duration', flags.lockDuration);
  if (lockDuration !== undefined && lockDuration < 1000) throw new UsageError(`--lock-duration ${lockDuration}: expected milliseconds ≥ 1000`, { field: 'lock-duration' });
  const issue = flags.queue === undefined ? undefined : queueNameIssue(flags.queue);
  if (issue) throw new UsageError(`--queue ${flags.queue}: expected ${issue}`, { field: 'queue' });
  return concurrency > 1 ? pool(flags, concurrency) : slot(flags, target, lockDuration, RedisWorker);
}

async function slot(flags: WorkerFlags, target: RedisTarget, lockDuration: number | undefined, RedisWorker: typeof import('@goldstone/sweep-redis').RedisWorker): Promise<number> {
  const log = (message: string) => process.stderr.write(`${message}\n`);
  /** Status lines of this worker (start, stop); errors go through `log` even with --quiet. */
  const say = flags.quiet ? () => undefined : log;
  // the worker's own lines: a failure (a lost connection, a point not handed back) or, once, that it waits for a sweep
  const workerLog = flags.quiet ? (message: string) => (WAITING.test(message) ? undefined : log(message)) : log;
  const worker = new RedisWorker({ target, queue: flags.queue, env: cliEnvironment(), lockDuration, log: workerLog });
  const abort = new AbortController();
  let resolveStop: (code: number) => void = () => undefined;
  const stopped = new Promise<number>((resolve) => (resolveStop = resolve));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    abort.abort();
    void worker.stop(`interrupted by ${signal}`).then(
      (how) => {
        say(`worker ${worker.name}: ${signal}: ${how === 'handed-back' ? 'the running point was handed back to the queue' : 'stopped'}`);
        resolveStop(how === 'handed-back' ? 130 : 0);
      },
      () => resolveStop(130),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const queue = await worker.start(abort.signal);
  if (!abort.signal.aborted) say(`worker ${worker.name}: taking points from queue ${queue} on ${target.display}; stop with SIGTERM or Ctrl-C`);
  const code = await stopped;
  // BullMQ's sockets may linger after a hand-back: leave once the exit code is set
  setTimeout(() => process.exit(code), 100).unref();
  return code;
}

/** N worker processes, one slot each; signals are passed on; the exit code is the worst of theirs. */
async function pool(flags: WorkerFlags, n: number): Promise<number> {
  const children = Array.from({ length: n }, () => spawn(process.execPath, [process.argv[1], ...slotArgs(flags)], { stdio: ['ignore', 'inherit', 'inherit'] }));
  const forward = (signal: NodeJS.Signals) => {
    for (const c of children) if (c.exitCode === null) c.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const codes = await Promise.all(children.map((c) => new Promise<number>((resolve) => c.on('exit', (code, signal) => resolve(code ?? (signal ? 130 : 1))))));
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  return codes.includes(2) ? 2 : codes.includes(1) ? 1 : codes.includes(130) ? 130 : 0;
}
