import '@tensorflow/tfjs-backend-cpu';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { PluginEnvironment } from '@goldstone/runner';
import type { ExecutorEvents, PointJob, SweepExecutor } from './executor';
import { InProcessExecutor } from './in-process-executor';
import { runSweep } from './run-sweep';

// Built-in plugins resolve from this package's folder (its dev dependencies), as the CLI's do from its own.
const env: PluginEnvironment = {
  builtins: { task: { clt: '@goldstone/task-clt' }, model: { mlp: '@goldstone/models' }, analysis: {} },
  bases: [join(dirname(fileURLToPath(import.meta.url)), '..')],
};

function experiment(dir: string): string {
  const file = join(dir, 'exp.json');
  const body = {
    name: 'tiny',
    backend: 'cpu',
    task: { name: 'clt', options: { sites: 4, block: 2, trainSize: 32, testSize: 16 } },
    model: { name: 'mlp', options: { hidden: [4], activation: 'relu' } },
    train: { optimizer: 'adam', lr: 0.01, epochs: 1, batchSize: 16 },
    sweep: { grid: { 'train.lr': [0.01, 0.03] }, seeds: [1, 2] },
  };
  writeFileSync(file, JSON.stringify(body));
  return file;
}

const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));

describe('runSweep on the in-process executor', () => {
  it('runs every point once into its own run directory, writes the index and summaries, and resumes with nothing to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-sweep-unit-'));
    const file = experiment(dir);
    const out = join(dir, 'out');
    const first = await runSweep({ file, env, executor: new InProcessExecutor(), out, report: false });
    expect(first.failed).toBe(0);
    expect(first.index.counts).toMatchObject({ completed: 4, failed: 0, pending: 0, running: 0 });
    for (const p of first.index.points) {
      const run = readJson(join(out, p.dir, 'run.json'));
      expect(run.status).toBe('completed');
      expect(run.seed).toBe(p.assignments.seed);
      expect(run.config.train.lr).toBe(p.assignments['train.lr']);
    }
    expect(readJson(join(out, 'sweep.json'))).toEqual(first.index);
    expect(existsSync(join(out, 'summaries', 'metrics.json'))).toBe(true);

    // Everything finished: a second invocation hands the executor nothing.
    const seen: string[] = [];
    const spy: SweepExecutor = {
      name: 'spy',
      async run(jobs: readonly PointJob[]) {
        seen.push(...jobs.map((j) => j.id));
      },
      stop() {},
    };
    const second = await runSweep({ file, env, executor: spy, out, report: false });
    expect(seen).toEqual([]);
    expect(second.index.counts.completed).toBe(4);
  });

  it('records what an executor reports: a failed point keeps its message and counts as failed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-sweep-unit-'));
    const file = experiment(dir);
    const out = join(dir, 'out');
    const failing: SweepExecutor = {
      name: 'failing',
      async run(jobs: readonly PointJob[], events: ExecutorEvents) {
        for (const job of jobs) {
          events.started(job.id, {});
          events.finished(job.id, { status: 'failed', error: `no machine for ${job.id}` });
        }
      },
      stop() {},
    };
    const outcome = await runSweep({ file, env, executor: failing, out, report: false });
    expect(outcome.failed).toBe(4);
    for (const p of outcome.index.points) expect(p).toMatchObject({ status: 'failed', error: `no machine for ${p.id}` });
    // failed points are handed out again next time
    const again = await runSweep({ file, env, executor: new InProcessExecutor(), out, report: false });
    expect(again.index.counts).toMatchObject({ completed: 4, failed: 0 });
  });
});
