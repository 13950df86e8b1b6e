import type { Json } from '@goldstone/plugin-api';
import type { PointResult } from '@goldstone/sweep';

/** What a worker reports with `job.updateProgress` (seen by the sweep through QueueEvents). */
export type WorkerProgress =
  | { event: 'started'; worker: string; pid: number; points: string[] }
  | { event: 'finished'; id: string; result: PointResult };

/** A job's return value: every point's result. */
export interface JobReturn {
  worker: string;
  results: Record<string, PointResult>;
}

/** The job name every point job carries. */
export const POINT_JOB = 'point';

/** A run.json's finished result, if it holds one that finished at or after `since` (ms since the epoch). */
export function finishedRunResult(run: Record<string, Json> | undefined, since: number): PointResult | undefined {
  if (!run || (run.status !== 'completed' && run.status !== 'diverged')) return undefined;
  const finished = typeof run.finishedAt === 'string' ? Date.parse(run.finishedAt) : NaN;
  if (!(finished >= since)) return undefined;
  const summary = run.summary && typeof run.summary === 'object' && !Array.isArray(run.summary) ? (run.summary as Record<string, number | null>) : undefined;
  return { status: run.status, ...(typeof run.error === 'string' ? { error: run.error } : {}), ...(summary ? { summary } : {}) };
}
