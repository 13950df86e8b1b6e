import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isObject, type Json } from '@goldstone/plugin-api';
import { MARKER_FILE, otherProcessAlive, RUN_FILE, temporaryOf } from '@goldstone/run-store/format';

/**
 * What a point's run directory holds, read without running or importing anything (a run.json
 * names plugin modules; they are never loaded from here).
 * - `none`: no directory, an empty one, or only goldstone's marker and the temporary files of an
 *   atomic write cut off by a kill (a point killed before its run.json was written);
 * - `run`: a run directory (`run` is its run.json, undefined if it cannot be read);
 * - `foreign`: something that is not goldstone's (the sweep leaves it alone and refuses to run there).
 */
export type PointDirState = { kind: 'none' } | { kind: 'run'; run: Record<string, Json> | undefined } | { kind: 'foreign'; reason: string };

export function pointDirState(dir: string): PointDirState {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) return { kind: 'foreign', reason: 'is a file, not a run directory' };
    entries = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    return { kind: 'foreign', reason: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  if (entries.includes(RUN_FILE)) {
    try {
      const run: unknown = JSON.parse(readFileSync(join(dir, RUN_FILE), 'utf8'));
      return { kind: 'run', run: isObject(run) ? (run as Record<string, Json>) : undefined };
    } catch {
      return { kind: 'run', run: undefined };
    }
  }
  if (entries.every((e) => e === MARKER_FILE || temporaryOf(e) !== undefined)) return { kind: 'none' };
  return { kind: 'foreign', reason: `holds files but no ${RUN_FILE}, so it is not a goldstone run directory` };
}

/**
 * Remove from a point's directory that holds no run (`pointDirState` is `none`) the temporaries of
 * atomic writes whose process has died: a worker stopped while it created the run directory (the
 * sweep killed, the worker leaving on the lost channel) can leave only the marker's temporary, and
 * a directory holding nothing but that is not yet a run directory, so the next attempt could not
 * replace it. Returns the entries removed.
 */
export function clearCutOffWrites(dir: string): string[] {
  if (pointDirState(dir).kind !== 'none') return [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const e of entries) {
    const t = temporaryOf(e);
    if (!t || otherProcessAlive(t.pid)) continue;
    rmSync(join(dir, e), { recursive: true, force: true });
    removed.push(e);
  }
  return removed;
}
