import '@tensorflow/tfjs-backend-cpu';
import { promises as fsp } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { UsageError } from '@goldstone/plugin-api';
import { RunStore } from '@goldstone/run-store';
import { snapshotDir } from '@goldstone/run-store/test-support';
import { createRunDirectory, openRunToResume, prepareOutDir } from './run-directory';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'goldstone-outdir-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

let dirs = 0;
const newDir = () => join(root, `d-${++dirs}`);

/** The UsageError `fn` throws (failing the test when it throws something else or nothing). */
async function usageError(fn: () => unknown): Promise<string> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(UsageError);
  return (caught as UsageError).message;
}

/** A project folder with files of its own, as a user has it. */
async function project(): Promise<string> {
  const dir = newDir();
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(join(dir, 'exp.yaml'), 'task: {name: clt}\n');
  await writeFile(join(dir, 'notes.txt'), 'mine');
  await writeFile(join(dir, 'src', 'a.ts'), 'export {};');
  return dir;
}

describe('prepareOutDir and createRunDirectory', () => {
  it('refuses an empty or blank --out (it would write into the working directory)', async () => {
    expect(await usageError(() => prepareOutDir('', true))).toBe('--out: expected a directory path, got an empty string');
    expect(await usageError(() => createRunDirectory('  ', false))).toBe('--out: expected a directory path, got "  "');
  });

  it('refuses a file in the way, naming it: the path itself or a parent', async () => {
    const dir = newDir();
    await mkdir(dir);
    const file = join(dir, 'x');
    await writeFile(file, 'data');
    expect(await usageError(() => createRunDirectory(file, true))).toBe(`--out ${file}: a file is in the way: ${file} is a regular file, not a directory`);
    const under = join(file, 'run', 'deeper');
    expect(await usageError(() => createRunDirectory(under, false))).toBe(`--out ${under}: a file is in the way: ${file} is a regular file, not a directory`);
    expect(await snapshotDir(dir)).toEqual({ x: expect.any(String) });
  });

  it('turns a failure to create the directory (read-only disk, no permission) into a UsageError and leaves nothing', async () => {
    const parent = newDir();
    await mkdir(parent);
    const out = join(parent, 'a', 'run');
    vi.spyOn(fsp, 'mkdir').mockRejectedValueOnce(Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS', path: out }));
    expect(await usageError(() => createRunDirectory(out, false))).toBe(`--out ${out}: the file system is read-only: cannot write the run directory (${out}) [EROFS]`);
    vi.spyOn(fsp, 'open').mockRejectedValueOnce(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES', path: join(out, '.goldstone-run.tmp') }));
    expect(await usageError(() => createRunDirectory(out, false))).toMatch(new RegExp(`^--out ${out}: permission denied: cannot write the run directory \\(.*\\.goldstone-run\\.tmp\\) \\[EACCES\\]$`));
    expect(await readdir(parent)).toEqual([]);
  });

  // A read-only directory is checked end to end in apps/cli/test/lifecycle.test.ts (as an unprivileged user when the tests run as root).

  it('the issue\'s repro: a run written into a project folder cannot be replaced with --force, and nothing is lost', async () => {
    const dir = await project();
    const before = await snapshotDir(dir);
    expect(await usageError(() => createRunDirectory(dir, false))).toMatch(/exists and is not a goldstone run directory/);
    // a run.json lying in the project folder (an old run written there, or anyone's file of that name)
    await writeFile(join(dir, 'run.json'), JSON.stringify({ status: 'completed', config: {} }));
    const withRun = await snapshotDir(dir);
    expect(await usageError(() => createRunDirectory(dir, false))).toContain('already holds a run; pass --force');
    const message = await usageError(() => createRunDirectory(dir, true));
    expect(message).toBe(`--out ${dir}: --force replaces only goldstone's own files, and the directory also holds exp.yaml, notes.txt, src; move them away or choose another --out`);
    expect(await snapshotDir(dir)).toEqual(withRun);
    expect(Object.keys(before).every((k) => k in withRun)).toBe(true);
  });

  it('--force replaces a run it created, removing only its own entries, and keeps the directory', async () => {
    const out = newDir();
    const store = await RunStore.create(out);
    await store.updateRun({ status: 'completed', config: { seed: 1 } });
    await store.appendMetrics({ kind: 'epoch', epoch: 1 });
    await store.writeText('report.html', '<p>');
    await store.writeJson('extra/own.json', { x: 1 }); // a file an analysis wrote of its own: recorded in the marker
    await writeFile(join(out, `.run.json.tmp-4194305-x-1`), '{'); // a temporary a kill left
    const inode = (await stat(out)).ino;
    const fresh = await createRunDirectory(out, true);
    expect((await stat(out)).ino).toBe(inode);
    expect((await readdir(out)).sort()).toEqual(['.goldstone-run', 'analyses', 'checkpoints', 'run.json']);
    expect((await fresh.readRun()).status).toBe('created');
    // a file of the user's beside it: refused, nothing removed
    await writeFile(join(out, 'mine.txt'), 'keep');
    const before = await snapshotDir(out);
    expect(await usageError(() => createRunDirectory(out, true))).toContain('also holds mine.txt; move it away');
    expect(await snapshotDir(out)).toEqual(before);
  });

  it('--force replaces a run made before run directories carried a marker only if its run.json describes a run', async () => {
    const legacy = newDir();
    await mkdir(join(legacy, 'checkpoints', 'last'), { recursive: true });
    await writeFile(join(legacy, 'checkpoints', 'last', 'model.json'), '{}');
    await writeFile(join(legacy, 'metrics.jsonl'), '{"kind":"epoch","epoch":1}\n');
    await writeFile(join(legacy, 'run.json'), JSON.stringify({ status: 'completed', config: { seed: 1 } }));
    await createRunDirectory(legacy, true);
    expect((await readdir(legacy)).sort()).toEqual(['.goldstone-run', 'analyses', 'checkpoints', 'run.json']);

    const odd = newDir();
    await mkdir(odd);
    await writeFile(join(odd, 'run.json'), '{"what": "a file of the same name"}');
    const before = await snapshotDir(odd);
    expect(await usageError(() => createRunDirectory(odd, true))).toContain('has no .goldstone-run marker and its run.json does not describe a run');
    expect(await snapshotDir(odd)).toEqual(before);
  });

  it('--resume needs a run: a missing directory or one without run.json is refused', async () => {
    const missing = newDir();
    expect(await usageError(() => openRunToResume(missing))).toBe(`--resume: nothing to resume in ${missing}: the directory does not exist`);
    const empty = newDir();
    await mkdir(empty);
    expect(await usageError(() => openRunToResume(empty))).toBe(`--resume: nothing to resume in ${empty}: it holds no run.json`);
    await expect(stat(missing)).rejects.toThrow(/ENOENT/);
  });
});
