import '@tensorflow/tfjs-backend-cpu';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '@goldstone/plugin-api';
import { InProcessExecutor } from './in-process-executor';
import { runSweep } from './run-sweep';
import { checkSlurmFlags, checkSlurmTime, emitSlurm, runArrayTask, shellQuote } from './slurm';
import { testEnv, writeExperiment } from './test-support';

const env = testEnv;
const command = ['/opt/node/bin/node', '/opt/goldstone/dist/bin.js'];
const experiment = (dir: string, overrides: Record<string, unknown> = {}) => writeExperiment(dir, { name: 'tiny-slurm', quick: { train: { epochs: 1 } }, ...overrides });

const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));
const tmp = () => mkdtempSync(join(tmpdir(), 'goldstone-slurm-unit-'));

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error('expected a UsageError');
}

describe('Slurm flags', () => {
  it('accepts every time format sbatch takes and refuses others, naming --time', () => {
    for (const t of ['30', '90', '30:00', '02:00:00', '1-0', '1-12', '2-03:30', '1-00:00:30', 'UNLIMITED', 'infinite']) expect(() => checkSlurmTime(t)).not.toThrow();
    for (const t of ['', '0', '00:00:00', '1h', '-1', '1:60', '1:00:60', '1-24', '1-2:60', '2-', ':30', '1:2:3:4', '1.5']) {
      const err = usageError(() => checkSlurmTime(t));
      expect(err.message).toMatch(/^--time: expected a Slurm time limit/);
      expect(err.field).toBe('time');
    }
  });

  it('checks partition, cpus and mem, each error naming its flag and what was found', () => {
    expect(checkSlurmFlags({ partition: 'gpu,cpu', time: '1:00:00', cpus: '4', mem: '4g' })).toEqual({ partition: 'gpu,cpu', time: '1:00:00', cpus: 4, mem: '4G' });
    expect(checkSlurmFlags({})).toEqual({});
    expect(checkSlurmFlags({ maxRunning: '8' })).toEqual({ maxRunning: 8 });
    for (const k of ['0', '2.5', 'all']) {
      const err = usageError(() => checkSlurmFlags({ maxRunning: k }));
      expect(err.message).toBe(`--max-running: expected a whole number ≥ 1 (array tasks running at once: --array=0-N%K), found "${k}"`);
      expect(err.field).toBe('max-running');
    }
    const cases: [Record<string, string>, string][] = [
      [{ partition: 'a b' }, 'partition'],
      [{ partition: '' }, 'partition'],
      [{ cpus: '0' }, 'cpus'],
      [{ cpus: '1.5' }, 'cpus'],
      [{ cpus: 'two' }, 'cpus'],
      [{ mem: '4GB' }, 'mem'],
      [{ mem: '-1G' }, 'mem'],
    ];
    for (const [flags, flag] of cases) {
      const err = usageError(() => checkSlurmFlags(flags));
      expect(err.message).toMatch(new RegExp(`^--${flag}: expected .*, found "${Object.values(flags)[0]}"`));
      expect(err.field).toBe(flag);
    }
  });

  it('quotes shell words only where needed', () => {
    expect(shellQuote('/a/b.js')).toBe('/a/b.js');
    expect(shellQuote('train.lr=0.01')).toBe('train.lr=0.01');
    expect(shellQuote("it's a dir")).toBe(`'it'\\''s a dir'`);
    expect(shellQuote('[4,4]')).toBe(`'[4,4]'`);
  });
});

describe('emitSlurm and runArrayTask', () => {
  it('emits a job array, each task runs its point, the reconcile matches a sweep run in one go; re-emitting lists what is left', async () => {
    const dir = tmp();
    const file = experiment(dir);
    const out = join(dir, 'with space');
    const emitted = await emitSlurm({ file, env, out, quick: true, set: { 'train.batchSize': 8 }, report: false, command, slurm: { partition: 'short', time: '10:00', cpus: '2', mem: '1G', maxRunning: 2 } });
    expect(emitted.tasks).toBe(4);
    expect(emitted.index.counts).toMatchObject({ pending: 4, completed: 0 });
    expect(readJson(join(out, 'sweep.json')).counts.pending).toBe(4);
    const script = readFileSync(emitted.script!, 'utf8');
    const directives = script.split('\n').filter((l) => l.startsWith('#SBATCH'));
    expect(directives).toEqual([
      '#SBATCH --job-name=tiny-slurm',
      '#SBATCH --array=0-3%2',
      `#SBATCH --output="${join(out, 'slurm', 'logs', '%x-%A_%a.out')}"`,
      '#SBATCH --partition=short',
      '#SBATCH --time=10:00',
      '#SBATCH --cpus-per-task=2',
      '#SBATCH --mem=1G',
    ]);
    expect(script.startsWith('#!/bin/bash\n')).toBe(true);
    // every #SBATCH line comes before the first command (sbatch reads no directive after it)
    const lines = script.split('\n');
    const firstCommand = lines.findIndex((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(lines.findLastIndex((l) => l.startsWith('#SBATCH'))).toBeLessThan(firstCommand);
    expect(script).toContain(`exec /opt/node/bin/node /opt/goldstone/dist/bin.js sweep ${file} --out '${out}' --array-task "$SLURM_ARRAY_TASK_ID" --quick --set train.batchSize=8 --no-report`);
    expect(script).toContain(`#   afterwards: ${emitted.reconcile}`);
    expect(emitted.reconcile).toBe(`/opt/node/bin/node /opt/goldstone/dist/bin.js sweep ${file} --out '${out}' --reconcile --quick --set train.batchSize=8 --no-report`);
    expect(emitted.submit).toBe(`sbatch '${join(out, 'slurm', 'sweep.sbatch')}'`);
    expect(existsSync(join(out, 'slurm', 'logs'))).toBe(true);
    const readme = readFileSync(emitted.readme!, 'utf8');
    expect(readme).toContain(emitted.submit);
    expect(readme).toContain(emitted.reconcile);
    expect(readme).toContain('--emit slurm --partition short --time 10:00 --cpus 2 --mem 1G');
    const list = readJson(emitted.pointsFile!);
    expect(list.tasks).toEqual(emitted.index.points.map((p) => [p.id]));

    // Tasks 0 and 1 run; the index is not touched by them.
    const indexBefore = readFileSync(join(out, 'sweep.json'), 'utf8');
    for (const task of [0, '1']) {
      const r = await runArrayTask({ file, env, out, quick: true, set: { 'train.batchSize': 8 }, report: false, task });
      expect(r.results.map((x) => [x.id, x.result.status])).toEqual([[list.tasks[Number(task)][0], 'completed']]);
      const run = readJson(join(out, list.tasks[Number(task)][0], 'run.json'));
      expect(run.config.train.batchSize).toBe(8);
      expect(run.config.train.lr).toBe(emitted.index.points[Number(task)].assignments['train.lr']);
    }
    expect(readFileSync(join(out, 'sweep.json'), 'utf8')).toBe(indexBefore);

    // Reconciling now: two points completed, two did not run.
    const half = await runSweep({ file, env, out, quick: true, set: { 'train.batchSize': 8 }, report: false, mode: 'reconcile' });
    expect(half.index.counts).toMatchObject({ completed: 2, pending: 2 });

    // Re-emitting lists only the two points left.
    const again = await emitSlurm({ file, env, out, quick: true, set: { 'train.batchSize': 8 }, report: false, command });
    expect(again.tasks).toBe(2);
    expect(readJson(again.pointsFile!).tasks).toEqual(list.tasks.slice(2));
    expect(readFileSync(again.script!, 'utf8')).toContain('#SBATCH --array=0-1\n');
    expect(readFileSync(again.script!, 'utf8')).not.toContain('--partition');
    await expect(runArrayTask({ file, env, out, quick: true, set: { 'train.batchSize': 8 }, report: false, task: 2 })).rejects.toThrow(/^--array-task 2: out of range: .*points\.json has 2 tasks \(0-1\)/);
    await expect(runArrayTask({ file, env, out, quick: true, set: { 'train.batchSize': 8 }, report: false, task: 'x' })).rejects.toThrow(/^--array-task: expected a whole number/);
    // a task run with other settings than the emission is refused before it runs anything
    await expect(runArrayTask({ file, env, out, quick: true, set: { 'train.batchSize': 4 }, report: false, task: 0 })).rejects.toThrow(/expected the sweep of .* as emitted, found a different one/);
    for (const task of [0, 1]) await runArrayTask({ file, env, out, quick: true, set: { 'train.batchSize': 8 }, report: false, task });

    const done = await runSweep({ file, env, out, quick: true, set: { 'train.batchSize': 8 }, report: false, mode: 'reconcile' });
    expect(done.index.counts).toMatchObject({ completed: 4, pending: 0, failed: 0, running: 0, interrupted: 0 });
    expect(done.summaries.length).toBeGreaterThan(0);

    // The same sweep in one go: the same summaries.
    const local = join(dir, 'local');
    const direct = await runSweep({ file, env, executor: new InProcessExecutor(), out: local, quick: true, set: { 'train.batchSize': 8 }, report: false });
    expect(direct.failed).toBe(0);
    expect(readJson(join(out, 'summaries', 'metrics.json'))).toEqual(readJson(join(local, 'summaries', 'metrics.json')));
    for (const p of direct.index.points) expect(readJson(join(out, p.dir, 'run.json')).summary).toEqual(readJson(join(local, p.dir, 'run.json')).summary);

    // Nothing left: no script is written, and the stale one goes.
    const none = await emitSlurm({ file, env, out, quick: true, set: { 'train.batchSize': 8 }, report: false, command });
    expect(none.tasks).toBe(0);
    expect(existsSync(join(out, 'slurm', 'sweep.sbatch'))).toBe(false);
    expect(existsSync(join(out, 'slurm', 'points.json'))).toBe(false);
  });

  it('writes nothing when a flag or the experiment is wrong; reconcile needs an index', async () => {
    const dir = tmp();
    const file = experiment(dir);
    const out = join(dir, 'out');
    await expect(emitSlurm({ file, env, out, command, slurm: { time: '25:61' } })).rejects.toThrow(/^--time: /);
    await expect(emitSlurm({ file, env, out, command, set: { 'train.lr': -1 } })).rejects.toThrow(UsageError);
    expect(existsSync(out)).toBe(false);
    await expect(runSweep({ file, env, out, mode: 'reconcile' })).rejects.toThrow(/^--reconcile: .* holds no sweep index/);
    await expect(runArrayTask({ file, env, out, task: 0 })).rejects.toThrow(/points\.json: not found: emit the array first/);
    expect(existsSync(out)).toBe(false);

    // a file where slurm/ goes is refused before the index is touched
    await emitSlurm({ file, env, out, command, report: false });
    const index = readFileSync(join(out, 'sweep.json'), 'utf8');
    rmSync(join(out, 'slurm'), { recursive: true });
    writeFileSync(join(out, 'slurm'), 'mine');
    await expect(emitSlurm({ file, env, out, command, report: false, slurm: { partition: 'other' } })).rejects.toThrow(`${join(out, 'slurm')}: a file is in the way of the Slurm folder`);
    expect(readFileSync(join(out, 'sweep.json'), 'utf8')).toBe(index);
    expect(readFileSync(join(out, 'slurm'), 'utf8')).toBe('mine');
  });

  it('with sweep.vectorize, a task runs a vectorised group of points', async () => {
    const dir = tmp();
    const file = experiment(dir, { sweep: { grid: { 'train.lr': [0.01, 0.03] }, seeds: [1, 2], vectorize: true } });
    const out = join(dir, 'out');
    const emitted = await emitSlurm({ file, env, out, report: false, command });
    expect(emitted.tasks).toBe(1);
    expect(emitted.points).toBe(4);
    const r = await runArrayTask({ file, env, out, report: false, task: 0 });
    expect(r.results.map((x) => x.result.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    const done = await runSweep({ file, env, out, report: false, mode: 'reconcile' });
    expect(done.index.counts.completed).toBe(4);
  });
});
