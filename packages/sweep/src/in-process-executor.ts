import { jobPoints, type ExecutorEvents, type PointJob, type SweepExecutor } from './executor';
import { PointRunner } from './run-point';

/**
 * Runs points (and vectorised groups) one after another in this process: no child processes, so unit tests and programs
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
      for (const p of jobPoints(job)) events.started(p.id, { pid: process.pid, worker: 'in-process' });
      await this.runner.runJob(job, (id, result) => events.finished(id, result));
    }
  }
}
