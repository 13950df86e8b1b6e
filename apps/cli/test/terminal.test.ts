/**
 * What a researcher sees in a terminal or a log: progress lines when stderr is not a terminal, the
 * end-of-run summary, `--quiet`, and stdout holding nothing but JSON with `--json` (also through
 * the repository's `pnpm -s goldstone` script).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(here, '..', 'dist', 'bin.js');
const repo = resolve(here, '..', '..', '..');
const quickstart = join(repo, 'experiments', 'quickstart.yaml');

function goldstone(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'goldstone-terminal-'));

describe('terminal output', () => {
  it('logs progress and ends a run with held-out metrics, the worst OOD split and analysis headlines', () => {
    const out = join(tmp(), 'run');
    const r = goldstone(['run', quickstart, '--quick', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines.some((l) => /^train: \d+ steps…$/.test(l))).toBe(true);
    const done = lines.findIndex((l) => l.startsWith('done: '));
    expect(done).toBeGreaterThan(0);
    const summary = lines.slice(done + 1);
    expect(summary[0]).toMatch(/^ {2}held out {3}test\.mse=[\d.e+-]+ {2}test\.loss=/);
    expect(summary[1]).toMatch(/^ {2}worst OOD {2}ood-[a-z-]+: mse=[\d.e+-]+ \(of 6 out-of-distribution splits\)$/);
    expect(summary.some((l) => /^ {2}hessian +lambdaMax=/.test(l))).toBe(true);
  }, 400_000);

  it('prints nothing on stderr with --quiet, and only JSON on stdout with --json', () => {
    const out = join(tmp(), 'run');
    const r = goldstone(['run', quickstart, '--quick', '--out', out, '--quiet', '--json', '--no-report', '--set', 'analyses=[]']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).status).toBe('completed');
  }, 400_000);

  it('keeps pnpm\'s own lines off stdout through the documented `pnpm -s goldstone … --json`', () => {
    const r = spawnSync('pnpm', ['-s', 'goldstone', 'list', '--json'], { cwd: repo, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const listed = JSON.parse(r.stdout) as { kind: string; name: string }[];
    expect(listed.some((p) => p.kind === 'task' && p.name === 'clt')).toBe(true);
  }, 200_000);
});
