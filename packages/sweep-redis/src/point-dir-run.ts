import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isObject, type Json } from '@goldstone/plugin-api';
import { RUN_FILE } from '@goldstone/run-store/format';

/** The run.json of a point's run directory, if it holds one that can be read (nothing is imported or run). */
export function pointDirRun(dir: string): Record<string, Json> | undefined {
  try {
    const run: unknown = JSON.parse(readFileSync(join(dir, RUN_FILE), 'utf8'));
    return isObject(run) ? (run as Record<string, Json>) : undefined;
  } catch {
    return undefined;
  }
}
