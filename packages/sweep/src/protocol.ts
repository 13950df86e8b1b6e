import type { PointJob, PointResult } from './executor';

/**
 * Messages between the local executor and its worker processes (Node IPC, `child_process.fork`).
 * A worker runs one job at a time (a point, or a vectorised group: then one `done` per point).
 */
export interface RunPointMessage {
  type: 'run';
  job: PointJob;
}

export interface StopMessage {
  type: 'stop';
}

export type ToWorker = RunPointMessage | StopMessage;

export interface ReadyMessage {
  type: 'ready';
}

export interface PointDoneMessage extends PointResult {
  type: 'done';
  id: string;
}

export type FromWorker = ReadyMessage | PointDoneMessage;
