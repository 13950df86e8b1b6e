import type { Progress } from './plugin';

/** A Progress that reports nothing (tests, library use). */
export const silentProgress: Progress = {
  start() {},
  tick() {},
  stop() {},
  log() {},
};
