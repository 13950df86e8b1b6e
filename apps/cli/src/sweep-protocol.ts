import type { Json } from '@goldstone/core';

/**
 * Messages between `goldstone sweep` and its worker processes (Node IPC, `child_process.fork`).
 * A worker runs one point at a time, exactly as `goldstone run FILE --set path=value …` would.
 */
export interface RunPointMessage {
  type: 'run';
  /** The point's id (its run directory's name) and assignments. */
  id: string;
  assignments: Record<string, Json>;
  /** The run directory (absolute); anything already there is replaced. */
  dir: string;
  /** The experiment file and the options every point shares. */
  file: string;
  quick: boolean;
  set: Record<string, unknown>;
  /** Write the run's report.html. */
  report: boolean;
}

export interface StopMessage {
  type: 'stop';
}

export type ToWorker = RunPointMessage | StopMessage;

export interface ReadyMessage {
  type: 'ready';
}

export interface PointDoneMessage {
  type: 'done';
  id: string;
  status: 'completed' | 'diverged' | 'failed' | 'interrupted';
  error?: string;
  summary?: Record<string, number | null>;
}

export type FromWorker = ReadyMessage | PointDoneMessage;
