import type { ExecutorEvents, PointJob, SweepExecutor } from './executor';
import { PointRunner } from './run-point';

/**
 * Runs points one after another in this process: no child processes, so unit tests and programs
 * that embed a sweep can run one cheaply. `stop()` lets the running point finish and hands out no
 * more (what is left is not reported, and runs next time).
 */
export class InProcessExecutor implements SweepExecutor {
  readonly name = 'in-process';
  private stopped = false;
  private readonly runner = new PointRunner();

  stop(): void {
    this.stopped = true;
  }

  async run(jobs: readonly PointJob[], events: ExecutorEvents): Promise<void> {
    for (const job of jobs) {
      if (this.stopped) return;
      events.started(job.id, { pid: process.pid, worker: 'in-process' });
      events.finished(job.id, await this.runner.run(job));
    }
  }
}
