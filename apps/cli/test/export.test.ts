/** `goldstone export`: the built binary on a hand-made run directory. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(here, '..', 'dist', 'bin.js');

function goldstone(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function fixtureRun(): string {
  const dir = mkdtempSync(join(tmpdir(), 'goldstone-export-'));
  writeFileSync(join(dir, '.goldstone-run'), JSON.stringify({ format: 'goldstone-run', formatVersion: 1, createdAt: '2026-01-01T00:00:00Z' }));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ name: 'fixture', status: 'completed' }));
  writeFileSync(
    join(dir, 'metrics.jsonl'),
    [
      { kind: 'step', step: 1, epoch: 0.5, loss: 0.25 },
      { kind: 'epoch', epoch: 1, 'test.mse': 1e-7, note: 'a "quoted", comma\nline' },
      { kind: 'step', step: 2, loss: null },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  mkdirSync(join(dir, 'analyses'));
  const result = {
    top: [3, 2, 1],
    density: { grid: [0, 1], values: [0.5, 0.25], sigma: 0.1 },
    lines: [{ index: 0, t: [0, 1], loss: [1, 2], shape: [4] }],
    splits: { train: { mse: 0.1 }, test: { mse: 0.2, r2: 0.9 } },
    empty: [],
  };
  writeFileSync(join(dir, 'analyses', 'probe.json'), JSON.stringify({ result, figures: [], provenance: {} }));
  return dir;
}

describe('goldstone export', () => {
  it('writes metrics.csv and one CSV per analysis table (RFC 4180), listing them with --json on stdout only', () => {
    const run = fixtureRun();
    const out = join(run, '..', `${run.split('/').pop()}-csv`);
    const r = goldstone(['export', run, '--csv', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const listed = JSON.parse(r.stdout);
    const names = listed.files.map((f: { file: string }) => f.file.slice(out.length + 1));
    expect(names).toEqual(['metrics.csv', 'probe.top.csv', 'probe.density.csv', 'probe.lines.csv', 'probe.splits.csv']);
    expect(readdirSync(out).sort()).toEqual([...names].sort());
    expect(readFileSync(join(out, 'metrics.csv'), 'utf8')).toBe(
      'kind,step,epoch,loss,test.mse,note\r\nstep,1,0.5,0.25,,\r\nepoch,,1,,1e-7,"a ""quoted"", comma\nline"\r\nstep,2,,,,\r\n',
    );
    expect(readFileSync(join(out, 'probe.top.csv'), 'utf8')).toBe('top\r\n3\r\n2\r\n1\r\n');
    expect(readFileSync(join(out, 'probe.density.csv'), 'utf8')).toBe('grid,values\r\n0,0.5\r\n1,0.25\r\n');
    expect(readFileSync(join(out, 'probe.lines.csv'), 'utf8')).toBe('index,t,loss,shape\r\n0,0,1,[4]\r\n0,1,2,[4]\r\n');
    expect(readFileSync(join(out, 'probe.splits.csv'), 'utf8')).toBe('key,mse,r2\r\ntrain,0.1,\r\ntest,0.2,0.9\r\n');
  });

  it('writes into <run>/export by default and records it in the marker', () => {
    const run = fixtureRun();
    const r = goldstone(['export', run, '--csv']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toContain(join(run, 'export', 'metrics.csv'));
    expect(JSON.parse(readFileSync(join(run, '.goldstone-run'), 'utf8')).entries).toEqual(['export']);
  });

  it('refuses a missing or foreign directory and a missing --csv with exit 2, writing nothing', () => {
    const foreign = mkdtempSync(join(tmpdir(), 'goldstone-foreign-'));
    const out = join(foreign, 'out');
    const a = goldstone(['export', foreign, '--csv', '--out', out]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain(join(foreign, 'run.json'));
    const b = goldstone(['export', join(foreign, 'nope'), '--csv', '--out', out]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain(join(foreign, 'nope'));
    const run = fixtureRun();
    const c = goldstone(['export', run, '--out', out]);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('--csv');
    expect(existsSync(out)).toBe(false);
    expect(a.stdout + b.stdout + c.stdout).toBe('');
  });
});
