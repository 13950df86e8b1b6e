import { dirname } from 'node:path';
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { messageOf } from '@goldstone/plugin-api';
import { jobOf, jobPoints, type ExecutorEvents, type PointJob, type PointResult, type SweepExecutor } from '@goldstone/sweep';
import { connectionOptions, connectOnce } from './connection';
import { finishedRunResult, POINT_JOB, type JobReturn, type WorkerProgress } from './point-job-data';
import { pointDirRun } from './point-dir-run';
import { QUEUES_KEY, queueNameFor } from './queue-name';
import type { RedisTarget } from './redis-url';

export interface RedisExecutorOptions {
  target: RedisTarget;
  /** The queue (default: derived from the sweep directory, `queueNameFor`). */
  queue?: string;
  /** Times a point runs before its failure is final (BullMQ attempts, default 2). */
  attempts?: number;
  /** How often the queue is read besides its events, to catch what an event did not say (ms, default 2000). */
  pollInterval?: number;
}

/** A point job's record in the executor: its points that have not ended yet. */
interface Outstanding {
  job: PointJob;
  open: Set<string>;
  started: boolean;
}

/**
 * A SweepExecutor on BullMQ: every job goes into a Redis queue (job id = point id, so a second
 * enqueue never duplicates), `goldstone worker` processes on any machine take them, and the sweep
 * follows them through QueueEvents (and a slow poll of job states, so that nothing an event missed
 * is lost). Resolves when every job ended. Workers write the run directories, so the sweep
 * directory must be on a filesystem they all share.
 */
export class RedisExecutor implements SweepExecutor {
  readonly name = 'redis';
  private readonly attempts: number;
  private readonly pollInterval: number;
  private stopped = false;
  private wake: (() => void) | undefined;
  private queue: Queue | undefined;
  private probe: Redis | undefined;

  constructor(private readonly options: RedisExecutorOptions) {
    this.attempts = Math.max(1, Math.floor(options.attempts ?? 2));
    this.pollInterval = options.pollInterval ?? 2000;
  }

  /** Connect once now (a UsageError within a bounded time when Redis cannot be reached), before anything is written. */
  async open(): Promise<void> {
    this.probe ??= await connectOnce(this.options.target);
  }

  /** The queue of a sweep directory (`--queue`, else derived from the directory). */
  queueFor(sweepDir: string): string {
    return this.options.queue ?? queueNameFor(sweepDir);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    // hand out nothing more: waiting points leave the queue; running ones finish on their workers
    void this.queue?.drain().catch(() => undefined);
    this.wake?.();
  }

  async run(jobs: readonly PointJob[], events: ExecutorEvents): Promise<void> {
    if (jobs.length === 0) return;
    await this.open();
    const name = this.queueFor(dirname(jobs[0].dir));
    const connection = connectionOptions(this.options.target);
    const queue = (this.queue = new Queue(name, { connection }));
    const queueEvents = new QueueEvents(name, { connection });
    queue.on('error', () => undefined);
    queueEvents.on('error', () => undefined);
    const outstanding = new Map<string, Outstanding>();
    const jobOfPoint = new Map<string, string>();
    const enqueuedAt = Date.now();
    const finish = (id: string, result: PointResult) => {
      const jobId = jobOfPoint.get(id);
      const o = jobId === undefined ? undefined : outstanding.get(jobId);
      if (!o?.open.delete(id)) return;
      events.finished(id, result);
      if (o.open.size === 0) outstanding.delete(jobId!);
      if (outstanding.size === 0) this.wake?.();
    };
    const track = (job: PointJob) => {
      const open = new Set(jobPoints(job).map((p) => p.id));
      outstanding.set(job.id, { job, open, started: false });
      for (const id of open) jobOfPoint.set(id, job.id);
    };
    const completed = (jobId: string, value: JobReturn | undefined) => {
      const o = outstanding.get(jobId);
      if (!o) return;
      for (const id of [...o.open]) finish(id, value?.results?.[id] ?? fromDisk(o.job, id, enqueuedAt) ?? { status: 'failed', error: 'the worker returned no result for this point' });
    };
    const failedFinally = (jobId: string, reason: string) => {
      const o = outstanding.get(jobId);
      if (o) for (const id of [...o.open]) finish(id, { status: 'failed', error: reason });
    };
    const retrying = (jobId: string, reason: string) => {
      const o = outstanding.get(jobId);
      if (!o) return;
      o.started = false;
      for (const id of o.open) events.retrying(id, reason);
    };
    const started = (jobId: string, info: { pid?: number; worker?: string }, points?: string[]) => {
      const o = outstanding.get(jobId);
      if (!o) return;
      o.started = true;
      for (const id of points ?? o.open) if (o.open.has(id)) events.started(id, info);
      events.log(`${jobId}${o.open.size > 1 ? ` (${o.open.size} points)` : ''}: running on ${info.worker ?? 'a worker'}`);
    };

    try {
      queueEvents.on('progress', ({ jobId, data }) => {
        const p = data as WorkerProgress;
        if (p && typeof p === 'object' && p.event === 'started') started(jobId, { pid: p.pid, worker: p.worker }, p.points);
        else if (p && typeof p === 'object' && p.event === 'finished') finish(p.id, p.result);
      });
      queueEvents.on('completed', ({ jobId, returnvalue }) => completed(jobId, parseReturn(returnvalue)));
      queueEvents.on('failed', ({ jobId, failedReason }) => {
        void queue.getJob(jobId).then(async (job) => {
          const state = job ? await job.getState() : 'unknown';
          if (state === 'failed') failedFinally(jobId, failedReason);
          else if (state !== 'completed') retrying(jobId, `${failedReason}; trying again (attempt ${(job?.attemptsMade ?? 0) + 1} of ${this.attempts})`);
        }, () => undefined);
      });
      queueEvents.on('stalled', ({ jobId }) => retrying(jobId, 'its worker stopped answering (killed or cut off); the point is handed out again'));
      await queueEvents.waitUntilReady();
      await this.probe!.sadd(QUEUES_KEY, name);
      events.log(`queue ${name} on ${this.options.target.display}: start workers on any machine that shares ${dirname(jobs[0].dir)} with: goldstone worker --redis URL --queue ${name}`);

      // Enqueue: a job already waiting or running (an earlier sweep process was killed) is kept; one
      // that ended in an earlier sweep and must run again is removed and added anew.
      const toAdd: PointJob[] = [];
      let kept = 0;
      for (const job of jobs) {
        track(job);
        const existing = await queue.getJob(job.id);
        if (existing) {
          const state = await existing.getState();
          if (state !== 'completed' && state !== 'failed' && state !== 'unknown') {
            kept++;
            if (state === 'active') started(job.id, { worker: existing.processedBy });
            continue;
          }
          await existing.remove();
        }
        toAdd.push(job);
      }
      if (kept > 0) events.log(`${kept} point job${kept === 1 ? ' was' : 's were'} already in the queue (an earlier sweep process); kept, not added again`);
      await this.add(queue, toAdd);
      events.log(`${toAdd.length} point job${toAdd.length === 1 ? '' : 's'} queued; ${(await queue.getWorkers().catch(() => [])).length} worker connection(s) on the queue now`);

      // Wait until every point ended; read job states now and then (events can be missed across a Redis restart).
      while (outstanding.size > 0 && !this.stopped) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, this.pollInterval);
        });
        this.wake = undefined;
        if (this.stopped) break;
        await this.poll(queue, outstanding, { completed, failedFinally, started, finish, enqueuedAt }).catch((err: unknown) => events.log(`reading the queue failed (${messageOf(err)}); trying again`));
      }
      if (!this.stopped) await this.probe!.srem(QUEUES_KEY, name).catch(() => undefined);
    } finally {
      this.wake = undefined;
      await queueEvents.close().catch(() => undefined);
      await queue.close().catch(() => undefined);
      this.probe?.disconnect();
      this.probe = undefined;
      this.queue = undefined;
    }
  }

  private async add(queue: Queue, jobs: readonly PointJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await queue.addBulk(jobs.map((job) => ({ name: POINT_JOB, data: job, opts: { jobId: job.id, attempts: this.attempts, removeOnComplete: false, removeOnFail: false } })));
  }

  private async poll(
    queue: Queue,
    outstanding: Map<string, Outstanding>,
    on: {
      completed: (jobId: string, value: JobReturn | undefined) => void;
      failedFinally: (jobId: string, reason: string) => void;
      started: (jobId: string, info: { worker?: string }) => void;
      finish: (id: string, result: PointResult) => void;
      enqueuedAt: number;
    },
  ): Promise<void> {
    for (const [jobId, o] of [...outstanding]) {
      const job: Job | undefined = await queue.getJob(jobId);
      if (!job) {
        // lost (Redis came back without it): points finished on disk count; the others are queued again
        for (const id of [...o.open]) {
          const done = fromDisk(o.job, id, on.enqueuedAt);
          if (done) on.finish(id, done);
        }
        const rest = outstanding.get(jobId);
        if (rest) await this.add(queue, [jobOf(rest.job, jobPoints(rest.job).filter((p) => rest.open.has(p.id)))]);
        continue;
      }
      const state = await job.getState();
      if (state === 'completed') on.completed(jobId, job.returnvalue as JobReturn | undefined);
      else if (state === 'failed') on.failedFinally(jobId, job.failedReason ?? 'failed');
      else if (state === 'active' && !o.started) on.started(jobId, { worker: job.processedBy });
    }
  }
}

function parseReturn(value: unknown): JobReturn | undefined {
  if (typeof value !== 'string') return value as JobReturn | undefined;
  try {
    return JSON.parse(value) as JobReturn;
  } catch {
    return undefined;
  }
}

/** A point's result from its run directory, if it finished since the sweep enqueued it. */
function fromDisk(job: PointJob, id: string, since: number): PointResult | undefined {
  const point = jobPoints(job).find((p) => p.id === id);
  return point ? finishedRunResult(pointDirRun(point.dir), since) : undefined;
}
