import type { Json } from '@goldstone/plugin-api';
import type { PluginEnvironment } from '@goldstone/runner';

/**
 * One sweep point to run: exactly `goldstone run FILE --set path=value …` into the point's own run
 * directory. Plain data, so that an executor can send it to another process or machine.
 */
export interface PointJob {
  /** The point's id (its run directory's name) and its assignments. */
  id: string;
  assignments: Record<string, Json>;
  /** The run directory (absolute); anything an earlier attempt left there is replaced. */
  dir: string;
  /** The experiment file (absolute) and the options every point shares. */
  file: string;
  quick: boolean;
  set: Record<string, unknown>;
  /** Write the run's report.html. */
  report: boolean;
  /** Where plugins come from (the application's built-in map and package folders). */
  env: PluginEnvironment;
  /**
   * A vectorised group (`sweep.vectorize`): the points, differing only in seed and train.lr, that
   * this job trains together as one batched model, each into its own run directory (`id`,
   * `assignments` and `dir` above are the first's). Executors report `started` and `finished` for
   * each of them.
   */
  group?: PointRef[];
}

/** One point of a job: its id, assignments and run directory. */
export interface PointRef {
  id: string;
  assignments: Record<string, Json>;
  dir: string;
}

/** The points a job runs: its group, or the job itself. */
export function jobPoints(job: PointJob): PointRef[] {
  return job.group ?? [{ id: job.id, assignments: job.assignments, dir: job.dir }];
}

/** The job of `points` (some of `job`'s): a group of two or more, or a lone point's job. */
export function jobOf(job: PointJob, points: readonly PointRef[]): PointJob {
  const { group: _group, ...base } = job;
  const [first] = points;
  return { ...base, id: first.id, assignments: first.assignments, dir: first.dir, ...(points.length > 1 ? { group: [...points] } : {}) };
}

/** How a point ended. `interrupted`: stopped before it finished (it runs again next time). */
export interface PointResult {
  status: 'completed' | 'diverged' | 'failed' | 'interrupted';
  error?: string;
  /** The run's final metrics (its run.json summary). */
  summary?: Record<string, number | null>;
}

/** What an executor tells the sweep while it runs points. The sweep alone writes sweep.json. */
export interface ExecutorEvents {
  /** A point was handed to a worker (`pid`: the process running it, where there is one). */
  started(id: string, info: { pid?: number; worker?: string }): void;
  /** A point ended. An executor reports each point it was given exactly once, unless stopped. */
  finished(id: string, result: PointResult): void;
  /** A point was lost with its worker and is handed out again. */
  retrying(id: string, error: string): void;
  /** A line of log text. */
  log(message: string): void;
}

/**
 * Runs sweep points: the seam between the sweep (expansion, index, summaries, report) and where
 * points actually run. Built in: `local` (a pool of forked processes on this machine) and
 * `in-process` (one after another in this process, for tests and embedding). An executor on a
 * queue (many machines) implements the same interface.
 */
export interface SweepExecutor {
  /** Short name, as `--executor` spells it. */
  readonly name: string;
  /** Run every job, reporting through `events`; resolves when all ended or the executor was stopped. */
  run(jobs: readonly PointJob[], events: ExecutorEvents): Promise<void>;
  /** Stop: hand out nothing more, and interrupt what is running (it is reported `interrupted`). */
  stop(reason: string): void;
}
