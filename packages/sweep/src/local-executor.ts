import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { messageOf } from '@goldstone/plugin-api';
import type { ExecutorEvents, PointJob, SweepExecutor } from './executor';
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
 * The local executor: a pool of forked worker processes on this machine, one point at a time per
 * worker. A worker that dies mid-point (killed, out of memory) is replaced and its point handed out
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
        let inFlight: string | undefined;
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
          inFlight = id;
          attempts.set(id, (attempts.get(id) ?? 0) + 1);
          events.started(id, { pid: child.pid });
          const msg: RunPointMessage = { type: 'run', job: byId.get(id)! };
          child.send(msg);
        };
        child.on('message', (msg: FromWorker) => {
          if (msg.type === 'ready') return dispatch();
          if (msg.type === 'done' && msg.id === inFlight) {
            inFlight = undefined;
            const { type: _type, id, ...result } = msg;
            events.finished(id, result);
            if (this.stopped) return;
            dispatch();
          }
        });
        child.on('error', (err) => keep(Buffer.from(`\n${messageOf(err)}`)));
        child.on('exit', (code, signal) => {
          this.children.delete(child);
          if (inFlight !== undefined) {
            const id = inFlight;
            inFlight = undefined;
            const how = signal ? `signal ${signal}` : `exit code ${code}`;
            const last = tail.trim().split('\n').slice(-3).join(' | ');
            const error = `worker ${child.pid} died (${how}) while running this point${last ? `: ${last}` : ''}`;
            if (!this.stopped && (attempts.get(id) ?? 0) < this.maxAttempts) {
              events.retrying(id, error);
              this.queue.push(id);
            } else events.finished(id, { status: this.stopped ? 'interrupted' : 'failed', error });
          }
          if (!this.stopped && this.queue.length > 0 && this.children.size < poolSize) spawn();
          if (this.children.size === 0) resolveAll();
        });
      };
      for (let i = 0; i < poolSize; i++) spawn();
    });
  }
}
