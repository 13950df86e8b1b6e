import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';

/** The Redis set where each running sweep registers its queue, for workers started without `--queue`. */
export const QUEUES_KEY = 'goldstone:sweep-queues';

/**
 * The queue of a sweep directory: its name and 8 hex digits of the SHA-256 of its absolute path,
 * so that two sweeps on one Redis never mix (`goldstone-phase-diagram-1a2b3c4d`).
 */
export function queueNameFor(sweepDir: string): string {
  const dir = resolve(sweepDir);
  const name = basename(dir).replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 40) || 'sweep';
  return `goldstone-${name}-${createHash('sha256').update(dir).digest('hex').slice(0, 8)}`;
}

/** A queue name given with `--queue`: letters, digits, `.`, `_` and `-` (BullMQ forbids `:`). */
export function queueNameIssue(name: string): string | undefined {
  return /^[A-Za-z0-9._-]{1,100}$/.test(name) ? undefined : 'letters, digits, ".", "_" and "-" (at most 100)';
}
