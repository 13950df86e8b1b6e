/** Helpers for the tests that run a shipped experiment's `--quick` sweep through the built CLI. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const bin = resolve(here, '..', 'dist', 'bin.js');
export const experimentFile = (name: string) => resolve(here, '..', '..', '..', 'experiments', name);
export const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));

/** `goldstone sweep experiments/<name> --quick --workers N` into a fresh directory (long time-out: the suite must pass on a busy machine). */
export function quickSweep(name: string, workers: number): { out: string; code: number | null; stdout: string; stderr: string } {
  const out = join(mkdtempSync(join(tmpdir(), 'goldstone-quick-sweep-')), 'sweep');
  const r = spawnSync(process.execPath, [bin, 'sweep', experimentFile(name), '--quick', '--workers', String(workers), '--out', out], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 1_200_000,
  });
  return { out, code: r.status, stdout: r.stdout, stderr: r.stderr };
}
