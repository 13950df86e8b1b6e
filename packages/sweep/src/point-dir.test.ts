import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MARKER_FILE, RUN_FILE } from '@goldstone/run-store/format';
import { pointDirState } from './point-dir';

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'goldstone-point-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('pointDirState', () => {
  it('a missing or empty directory, or one a kill left with only the marker and temporaries, has no run', () => {
    const root = fresh();
    expect(pointDirState(join(root, 'absent'))).toEqual({ kind: 'none' });
    const killed = join(root, 'killed');
    mkdirSync(killed);
    expect(pointDirState(killed)).toEqual({ kind: 'none' });
    writeFileSync(join(killed, MARKER_FILE), '{"format":"goldstone-run","formatVersion":1,"createdAt":"x"}');
    writeFileSync(join(killed, `.${RUN_FILE}.tmp-123-abc-1`), '{');
    expect(pointDirState(killed)).toEqual({ kind: 'none' });
  });

  it('reads a run.json without loading anything, and calls anything else foreign', () => {
    const root = fresh();
    const run = join(root, 'run');
    mkdirSync(run);
    writeFileSync(join(run, RUN_FILE), JSON.stringify({ status: 'completed', plugins: ['./evil.mjs'] }));
    expect(pointDirState(run)).toEqual({ kind: 'run', run: { status: 'completed', plugins: ['./evil.mjs'] } });
    const mine = join(root, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, MARKER_FILE), '{}');
    writeFileSync(join(mine, 'notes.txt'), 'keep me');
    expect(pointDirState(mine).kind).toBe('foreign');
    const file = join(root, 'file');
    writeFileSync(file, 'x');
    expect(pointDirState(file).kind).toBe('foreign');
  });
});
