import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { messageOf } from '@goldstone/plugin-api';
import { jobOf, jobPoints, type ExecutorEvents, type PointJob, type SweepExecutor } from './executor';
import type { FromWorker, RunPointMessage } from './protocol';

export interface LocalExecutorOptions {
  /** Worker processes (default: the number of cores). */
  workers?: number;
  /** Times a point is handed to a worker before a lost worker counts as a failure (default 2). */
  maxAttempts?: number;
  /** The worker entry (default: `worker.js` beside this module, as built). */
  workerScript?: string;
}

function defaultWorkerScript(): string {
  return fileURLToPath(new URL('./worker.js', import.meta.url));
}

/**
 * The local executor: a pool of forked worker processes on this machine, one job (a point, or a
 * vectorised group of points) at a time per worker. A worker that dies mid-point (killed, out of memory) is replaced and its point handed out
 * again, up to `maxAttempts` times; then the point fails with the worker's last words.
 */
export class LocalExecutor implements SweepExecutor {
  readonly name = 'local';
  readonly workers: number;
  private readonly maxAttempts: number;
  private readonly script: string;
  private readonly children = new Set<ChildProcess>();
  private queue: string[] = [];
  private stopped = false;

  constructor(options: LocalExecutorOptions = {}) {
    this.workers = Math.max(1, Math.floor(options.workers ?? availableParallelism()));
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 2);
    this.script = options.workerScript ?? defaultWorkerScript();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.queue.length = 0;
    for (const c of this.children) c.kill('SIGTERM');
  }

  async run(jobs: readonly PointJob[], events: ExecutorEvents): Promise<void> {
    if (jobs.length === 0) return;
    if (!existsSync(this.script)) throw new Error(`sweep worker not found at ${this.script} (build @goldstone/sweep)`);
    const byId = new Map(jobs.map((j) => [j.id, j]));
    this.queue = jobs.map((j) => j.id);
    const attempts = new Map<string, number>();
    const poolSize = Math.min(this.workers, jobs.length);
    await new Promise<void>((resolveAll) => {
      const spawn = () => {
        const child = fork(this.script, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env } });
        this.children.add(child);
        /** The job running in this worker and its points that have not ended yet. */
        let inFlight: { job: PointJob; open: Set<string> } | undefined;
        let tail = '';
        const keep = (chunk: Buffer) => {
          tail = (tail + chunk.toString('utf8')).slice(-2000);
        };
        child.stdout?.on('data', keep);
        child.stderr?.on('data', keep);
        const dispatch = () => {
          const id = this.queue.shift();
          if (id === undefined) {
            if (child.connected) child.send({ type: 'stop' });
            return;
          }
          const job = byId.get(id)!;
          const points = jobPoints(job);
          inFlight = { job, open: new Set(points.map((p) => p.id)) };
          attempts.set(id, (attempts.get(id) ?? 0) + 1);
          for (const p of points) events.started(p.id, { pid: child.pid });
          const msg: RunPointMessage = { type: 'run', job };
          child.send(msg);
        };
        child.on('message', (msg: FromWorker) => {
          if (msg.type === 'ready') return dispatch();
          if (msg.type === 'done' && inFlight?.open.has(msg.id)) {
            inFlight.open.delete(msg.id);
            const { type: _type, id, ...result } = msg;
            events.finished(id, result);
            if (inFlight.open.size > 0) return;
            inFlight = undefined;
            if (this.stopped) return;
            dispatch();
          }
        });
        child.on('error', (err) => keep(Buffer.from(`\n${messageOf(err)}`)));
        child.on('exit', (code, signal) => {
          this.children.delete(child);
          if (inFlight !== undefined) {
            const { job, open } = inFlight;
            inFlight = undefined;
            const how = signal ? `signal ${signal}` : `exit code ${code}`;
            const last = tail.trim().split('\n').slice(-3).join(' | ');
            const error = `worker ${child.pid} died (${how}) while running this point${last ? `: ${last}` : ''}`;
            const tried = attempts.get(job.id) ?? 0;
            if (!this.stopped && tried < this.maxAttempts) {
              // the points of the job that had not ended run again, as one job (a smaller group)
              const again = jobOf(job, jobPoints(job).filter((p) => open.has(p.id)));
              for (const id of open) events.retrying(id, error);
              byId.set(again.id, again);
              attempts.set(again.id, tried);
              this.queue.push(again.id);
            } else for (const id of open) events.finished(id, { status: this.stopped ? 'interrupted' : 'failed', error });
          }
          if (!this.stopped && this.queue.length > 0 && this.children.size < poolSize) spawn();
          if (this.children.size === 0) resolveAll();
        });
      };
      for (let i = 0; i < poolSize; i++) spawn();
    });
  }
}
