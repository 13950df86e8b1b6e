import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic, readRun } from '@goldstone/run-store/format';
import { writeFixtureRun } from '@goldstone/run-store/test-support';
import { buildRunReport } from './run-report';
import { writeRunReport } from './write-report';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'goldstone-write-report-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('writeRunReport', () => {
  it('writes report.html into the run directory and leaves no temporary file', async () => {
    const dir = join(root, 'run');
    await writeFixtureRun(dir, { steps: 100, epochs: 4 });
    const before = (await readdir(dir)).sort();
    const path = await writeRunReport(dir);
    expect(path).toBe(join(dir, 'report.html'));
    expect((await readdir(dir)).sort()).toEqual([...before, 'report.html'].sort());
    const html = await readFile(path, 'utf8');
    expect(html).toBe(await buildRunReport(await readRun(dir)));
    // writing again replaces the file, still without leftovers
    await writeRunReport(dir);
    expect((await readdir(dir)).sort()).toEqual([...before, 'report.html'].sort());
  });

  it('fails on a directory that is not a run, writing nothing', async () => {
    const dir = join(root, 'empty');
    await mkdir(dir);
    await expect(writeRunReport(dir)).rejects.toThrow(/run\.json not found/);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the content whole', async () => {
    const path = join(root, 'a.txt');
    await writeFile(path, 'old');
    await writeFileAtomic(path, 'new content');
    expect(await readFile(path, 'utf8')).toBe('new content');
    expect((await readdir(root)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('removes its temporary file and keeps the old file when the rename fails', async () => {
    const dir = join(root, 'fail');
    await mkdir(join(dir, 'target'), { recursive: true });
    await writeFile(join(dir, 'target', 'inside'), 'x');
    // renaming a file over a non-empty directory fails
    await expect(writeFileAtomic(join(dir, 'target'), 'content')).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['target']);
    expect(await readdir(join(dir, 'target'))).toEqual(['inside']);
  });
});
