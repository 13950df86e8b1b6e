import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { messageOf, UsageError } from '@goldstone/plugin-api';
import type { PluginEnvironment } from '@goldstone/runner';
import { jobOf, jobPoints, PointRunner, type PointJob, type PointResult } from '@goldstone/sweep';
import { connectionOptions, connectOnce } from './connection';
import { finishedRunResult, type JobReturn, type WorkerProgress } from './point-job-data';
import { QUEUES_KEY } from './queue-name';
import type { RedisTarget } from './redis-url';
import { pointDirRun } from './point-dir-run';

export interface RedisWorkerOptions {
  target: RedisTarget;
  /** The queue (default: the one sweep registered on this Redis; waits for one). */
  queue?: string;
  /** Where plugins come from on this machine (the job's own `env` is the enqueuer's). */
  env: PluginEnvironment;
  /**
   * How long a point's lock lasts without renewal (ms, default 30 000): a worker killed with -9
   * has its point handed out again after at most about this long (stalled-job detection).
   */
  lockDuration?: number;
  /** This worker's name in progress lines (default `host:pid`). */
  name?: string;
  log?: (message: string) => void;
}

/** How a worker stopped: nothing was running, or the running point was handed back to the queue. */
export type WorkerStop = 'idle' | 'handed-back';

/**
 * A worker on one machine: takes sweep points from the queue one at a time and runs each in this
 * process with `PointRunner`, exactly as `goldstone run FILE --set …` would, into the point's run
 * directory (which must be on a filesystem shared with the sweep). A point whose run fails is
 * thrown back to BullMQ, which retries it up to the job's attempts; the worker carries on.
 */
export class RedisWorker {
  readonly name: string;
  private worker: Worker | undefined;
  private readonly runner = new PointRunner();
  private current: { job: Job; token: string | undefined } | undefined;
  private queueName: string | undefined;

  constructor(private readonly options: RedisWorkerOptions) {
    this.name = options.name ?? `${hostname()}:${process.pid}`;
  }

  /** Connect (a bad URL or an unreachable server is a UsageError, within a bounded time), find the queue, start taking points. */
  async start(signal?: AbortSignal): Promise<string> {
    const probe = await connectOnce(this.options.target);
    try {
      this.queueName = this.options.queue ?? (await discoverQueue(probe, this.options.log, signal));
    } finally {
      probe.disconnect();
    }
    if (signal?.aborted) return this.queueName;
    const lockDuration = this.options.lockDuration ?? 30_000;
    this.worker = new Worker(this.queueName, (job, token) => this.process(job, token), {
      connection: connectionOptions(this.options.target),
      concurrency: 1,
      lockDuration,
      stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)),
      maxStalledCount: 2,
      name: this.name,
    });
    this.worker.on('error', (err) => this.options.log?.(`worker ${this.name}: ${messageOf(err)}`));
    await this.worker.waitUntilReady();
    return this.queueName;
  }

  /**
   * Stop taking points. With a point running: its run directories are marked interrupted and the
   * job goes back to the queue (another worker runs it again from scratch); the caller exits.
   */
  async stop(reason: string): Promise<WorkerStop> {
    const worker = this.worker;
    if (!worker) return 'idle';
    const current = this.current;
    if (!current) {
      await worker.close();
      return 'idle';
    }
    void worker.pause(true).catch(() => undefined);
    const finishedAt = new Date().toISOString();
    await Promise.all([...this.runner.running].map((store) => store.updateRun({ status: 'interrupted', error: reason, finishedAt }).catch(() => undefined)));
    // back to waiting at once (no attempt counted), before the connection closes
    await current.job.moveToWait(current.token).catch((err: unknown) => this.options.log?.(`worker ${this.name}: could not hand back ${current.job.id}: ${messageOf(err)}`));
    void worker.close(true).catch(() => undefined);
    return 'handed-back';
  }

  private async process(job: Job, token: string | undefined): Promise<JobReturn> {
    this.current = { job, token };
    try {
      const data = { ...(job.data as PointJob), env: this.options.env };
      if (!existsSync(data.file)) {
        throw new UnrecoverableError(`${data.file}: the experiment file is not there on ${hostname()}; the experiment and the sweep directory must be on a filesystem every worker shares`);
      }
      const results: Record<string, PointResult> = {};
      // points that an earlier attempt of this job finished (the worker was lost afterwards) stay
      const todo = jobPoints(data).filter((p) => {
        const done = finishedRunResult(pointDirRun(p.dir), job.timestamp);
        if (done) results[p.id] = done;
        return !done;
      });
      const progress = (p: WorkerProgress) => job.updateProgress(p).catch(() => undefined);
      await progress({ event: 'started', worker: this.name, pid: process.pid, points: todo.map((p) => p.id) });
      if (todo.length > 0) {
        await this.runner.runJob(jobOf(data, todo), async (id, result) => {
          results[id] = result;
          await progress({ event: 'finished', id, result });
        });
      }
      const failed = Object.entries(results).filter(([, r]) => r.status === 'failed' || r.status === 'interrupted');
      if (failed.length > 0) throw new Error(failed.map(([id, r]) => (failed.length > 1 ? `${id}: ${r.error ?? r.status}` : (r.error ?? r.status))).join('; '));
      return { worker: this.name, results };
    } finally {
      this.current = undefined;
    }
  }
}

/** The queue of the one sweep registered on this Redis; waits until there is one; several: a UsageError. */
async function discoverQueue(client: import('ioredis').Redis, log: ((m: string) => void) | undefined, signal?: AbortSignal): Promise<string> {
  let said = false;
  for (;;) {
    const names = (await client.smembers(QUEUES_KEY)).sort();
    if (names.length === 1) return names[0];
    if (names.length > 1) throw new UsageError(`--queue: several sweeps are queued on this Redis (${names.join(', ')}); choose one with --queue NAME`, { field: 'queue' });
    if (!said) log?.('no sweep is queued on this Redis yet; waiting for one (or pass --queue NAME)');
    said = true;
    if (signal?.aborted) return '';
    await new Promise((r) => setTimeout(r, 1000));
  }
}
