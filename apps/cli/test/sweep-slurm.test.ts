/**
 * End-to-end tests of `goldstone sweep --emit slurm`, `--array-task` and `--reconcile` on the built
 * binary: the emitted sbatch script is run with bash once per array index (SLURM_ARRAY_TASK_ID
 * set, as Slurm would; #SBATCH lines are comments to bash), then the sweep is reconciled.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(here, '..', 'dist', 'bin.js');
const probe = join(here, 'fixtures', 'sweep-probe.mjs');

function goldstone(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Run the emitted script as Slurm would run array task `i` (bash; #SBATCH lines are comments). */
function arrayTask(script: string, i: number) {
  const r = spawnSync('bash', [script], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', SLURM_ARRAY_TASK_ID: String(i) }, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'goldstone-slurm-'));
const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));

/** `dir/exp.json`: the tiny experiment of fixtures/slurm-tiny.json with `overrides` on top. */
function experiment(dir: string, overrides: Record<string, unknown> = {}): string {
  const file = join(dir, 'exp.json');
  writeFileSync(file, JSON.stringify({ ...readJson(join(here, 'fixtures', 'slurm-tiny.json')), ...overrides }, null, 2));
  return file;
}

/** The #SBATCH directives of a script, as `--key=value` (or `--key`). */
function directives(script: string): Map<string, string> {
  const lines = readFileSync(script, 'utf8').split('\n').filter((l) => l.startsWith('#SBATCH '));
  return new Map(lines.map((l) => l.slice('#SBATCH '.length).split(/=(.*)/s).slice(0, 2) as [string, string]));
}

describe('goldstone sweep --emit slurm', () => {
  it('emits a job array; running each task with bash and reconciling gives the summaries of a local sweep', () => {
    const dir = tmp();
    const file = experiment(dir);
    const out = join(dir, 'slurm-sweep');
    const emit = goldstone(['sweep', file, '--quick', '--set', 'model.options.hidden=[6]', '--out', out, '--emit', 'slurm', '--partition', 'short', '--time', '0-00:10', '--cpus', '1', '--mem', '2G', '--max-running', '2']);
    expect(emit.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(emit.code).toBe(0);
    const script = join(out, 'slurm', 'sweep.sbatch');
    expect(emit.stderr).toContain(`submit:     sbatch ${script}`);
    const reconcile = /afterwards: (.*)/.exec(emit.stderr)![1];
    expect(reconcile).toBe(`${process.execPath} ${bin} sweep ${file} --out ${out} --reconcile --quick --set 'model.options.hidden=[6]'`);
    expect(readFileSync(join(out, 'slurm', 'README'), 'utf8')).toContain(reconcile);

    const text = readFileSync(script, 'utf8');
    expect(text.startsWith('#!/bin/bash\n')).toBe(true);
    expect(text).toContain(`#   afterwards: ${reconcile}`);
    const d = directives(script);
    expect(d.get('--job-name')).toBe('tiny');
    expect(d.get('--array')).toBe('0-3%2');
    expect(d.get('--output')).toBe(join(out, 'slurm', 'logs', '%x-%A_%a.out'));
    expect(d.get('--partition')).toBe('short');
    expect(d.get('--time')).toBe('0-00:10');
    expect(d.get('--cpus-per-task')).toBe('1');
    expect(d.get('--mem')).toBe('2G');
    expect(existsSync(join(out, 'slurm', 'logs'))).toBe(true);
    // the same node and goldstone binary that emitted it, with the same --quick and --set
    expect(text).toContain(`exec ${process.execPath} ${bin} sweep ${file} --out ${out} --array-task "$SLURM_ARRAY_TASK_ID" --quick --set 'model.options.hidden=[6]'\n`);

    const index = readJson(join(out, 'sweep.json'));
    expect(index.counts).toMatchObject({ pending: 4, completed: 0 });
    const tasks = readJson(join(out, 'slurm', 'points.json')).tasks;
    expect(tasks).toEqual(index.points.map((p: any) => [p.id]));
    const indexText = readFileSync(join(out, 'sweep.json'), 'utf8');
    for (let i = 0; i < 4; i++) {
      const r = arrayTask(script, i);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`array task ${i}: completed ${join(out, tasks[i][0])}`);
      const run = readJson(join(out, tasks[i][0], 'run.json'));
      expect(run.status).toBe('completed');
      expect(run.config.model.options.hidden).toEqual([6]);
      expect(run.config.train.epochs).toBe(1);
      expect(run.seed).toBe(index.points[i].assignments.seed);
    }
    // array tasks never write the index
    expect(readFileSync(join(out, 'sweep.json'), 'utf8')).toBe(indexText);
    // an index past the array is a usage error naming it
    const past = arrayTask(script, 4);
    expect(past.code).toBe(2);
    expect(past.stderr).toMatch(/--array-task 4: out of range: .*points\.json has 4 tasks \(0-3\)/);

    const rec = spawnSync('bash', ['-c', reconcile], { encoding: 'utf8', timeout: 300_000 });
    expect(rec.status, rec.stderr).toBe(0);
    expect(rec.stderr).toContain(`reconciled ${out}: 4 completed, 0 diverged, 0 failed, 0 did not run or finish`);
    const after = readJson(join(out, 'sweep.json'));
    expect(after.counts).toMatchObject({ completed: 4, pending: 0, failed: 0 });
    expect(existsSync(join(out, 'sweep-report.html'))).toBe(true);

    // the same sweep on the local executor: the same summaries and results
    const local = join(dir, 'local');
    const l = goldstone(['sweep', file, '--quick', '--set', 'model.options.hidden=[6]', '--out', local, '--workers', '2']);
    expect(l.code, l.stderr).toBe(0);
    expect(readJson(join(out, 'summaries', 'metrics.json'))).toEqual(readJson(join(local, 'summaries', 'metrics.json')));
    expect(after.points.map((p: any) => [p.id, p.summary])).toEqual(readJson(join(local, 'sweep.json')).points.map((p: any) => [p.id, p.summary]));

    // everything finished: emitting again writes no array
    const none = goldstone(['sweep', file, '--quick', '--set', 'model.options.hidden=[6]', '--out', out, '--emit', 'slurm']);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain('all 4 points have finished; no job array written');
    expect(existsSync(script)).toBe(false);
  });

  it('a failing point: its task exits 1, reconcile exits 1 naming it and the point that did not run; re-emitting lists only those', () => {
    const dir = tmp();
    const file = experiment(dir, { plugins: [probe], analyses: [{ name: 'sweep-probe', options: { failOnSeed: 2 } }], sweep: { seeds: [1, 2, 3] } });
    const out = join(dir, 'out');
    const emit = goldstone(['sweep', file, '--out', out, '--emit', 'slurm', '--json']);
    expect(emit.code, emit.stderr).toBe(0);
    const e = JSON.parse(emit.stdout);
    expect(e).toMatchObject({ tasks: 3, points: 3, script: join(out, 'slurm', 'sweep.sbatch') });
    const tasks: string[][] = readJson(e.pointsFile).tasks;
    expect(arrayTask(e.script, 0).code).toBe(0);
    const failing = arrayTask(e.script, 1);
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/array task 1: failed .*seed=2-[0-9a-f]{8}: .*probe failure for seed 2/);
    // task 2 never ran (say, it was cancelled)

    const rec = goldstone(['sweep', file, '--out', out, '--reconcile']);
    expect(rec.code).toBe(1);
    expect(rec.stderr).toContain('1 completed, 0 diverged, 1 failed, 1 did not run or finish');
    expect(rec.stderr).toMatch(new RegExp(`error: ${tasks[1][0]} failed: .*probe failure for seed 2`));
    expect(rec.stderr).toContain(`error: ${tasks[2][0]} did not run (pending)`);
    const index = readJson(join(out, 'sweep.json'));
    expect(index.points.map((p: any) => p.status)).toEqual(['completed', 'failed', 'pending']);
    expect(readJson(join(out, 'summaries', 'sweep-probe.json')).result).toEqual({ n: 1, seeds: [1], meanValue: 2 });

    const again = goldstone(['sweep', file, '--out', out, '--emit', 'slurm', '--time', '30']);
    expect(again.code, again.stderr).toBe(0);
    expect(readJson(join(out, 'slurm', 'points.json')).tasks).toEqual([tasks[1], tasks[2]]);
    expect(directives(e.script).get('--array')).toBe('0-1');
    expect(directives(e.script).get('--time')).toBe('30');
  });

  it('bad flags are usage errors naming the flag (exit 2), and nothing is written', () => {
    const dir = tmp();
    const file = experiment(dir);
    const out = join(dir, 'out');
    const cases: [string[], RegExp][] = [
      [['--emit', 'pbs'], /--emit: expected slurm, found "pbs"/],
      [['--emit', 'slurm', '--time', '1h'], /--time: expected a Slurm time limit .*found "1h"/],
      [['--emit', 'slurm', '--time', '10:75'], /--time: expected .*below 60/],
      [['--emit', 'slurm', '--cpus', '0'], /--cpus: expected a whole number ≥ 1/],
      [['--emit', 'slurm', '--mem', '4GB'], /--mem: expected a memory size/],
      [['--emit', 'slurm', '--partition', 'a b'], /--partition: expected a partition name/],
      [['--time', '10'], /--time: only with --emit slurm/],
      [['--emit', 'slurm', '--max-running', '0'], /--max-running: expected a whole number ≥ 1/],
      [['--max-running', '2'], /--max-running: only with --emit slurm/],
      [['--emit', 'slurm', '--reconcile'], /--emit and --reconcile exclude each other/],
      [['--emit', 'slurm', '--workers', '2'], /--workers: not with --emit/],
      [['--emit', 'slurm', '--set', 'train.lr=-1'], /train\.lr/],
      [['--array-task', '0'], /points\.json: not found: emit the array first/],
      [['--array-task', '-1'], /--array-task: expected a whole number ≥ 0/],
      [['--reconcile'], /--reconcile: .* holds no sweep index/],
    ];
    for (const [args, message] of cases) {
      const r = goldstone(['sweep', file, '--out', out, ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
      expect(existsSync(out), args.join(' ')).toBe(false);
    }
  });
});
