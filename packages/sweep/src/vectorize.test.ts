import '@tensorflow/tfjs-backend-cpu';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { disposeParams, paramsToArray } from '@goldstone/core';
import { UsageError } from '@goldstone/plugin-api';
import { RunStore } from '@goldstone/run-store';
import type { PluginEnvironment } from '@goldstone/runner';
import { jobPoints, type PointJob, type SweepExecutor } from './executor';
import { InProcessExecutor } from './in-process-executor';
import { runSweep } from './run-sweep';
import { vectorGroups, vectorizeSetting } from './index';

const env: PluginEnvironment = {
  builtins: { task: { clt: '@goldstone/task-clt' }, model: { mlp: '@goldstone/models' }, analysis: {} },
  bases: [join(dirname(fileURLToPath(import.meta.url)), '..')],
};

/** The CLT task (16 sites, blocks of 2) and a 16-8-8 tanh MLP; 4 seeds × 2 lrs. */
function experiment(dir: string, sweep: Record<string, unknown>, overrides: Record<string, unknown> = {}): string {
  const file = join(dir, `exp-${Math.random().toString(36).slice(2)}.json`);
  const body = {
    name: 'tiny-vec',
    backend: 'cpu',
    task: { name: 'clt', options: { sites: 16, block: 2, trainSize: 200, testSize: 64, oodSize: 32, ood: ['gaussian'] } },
    model: { name: 'mlp', options: { hidden: [8], activation: 'tanh' } },
    train: { optimizer: 'adam', lr: 0.01, epochs: 2, batchSize: 32, logEvery: 3 },
    sweep: { grid: { 'train.lr': [0.003, 0.01] }, seeds: [1, 2, 3, 4], ...sweep },
    ...overrides,
  };
  writeFileSync(file, JSON.stringify(body));
  return file;
}

/** A spy executor: records the jobs it is given and runs none of them. */
function spy(): SweepExecutor & { jobs: PointJob[] } {
  const jobs: PointJob[] = [];
  return { name: 'spy', jobs, async run(given) { jobs.push(...given); }, stop() {} };
}

/** metrics rows (time aside), the final checkpoint's parameters and the run's summary of a run directory. */
async function runContents(dir: string) {
  const store = await RunStore.create(dir, { resume: true });
  const run = await store.readRun();
  const metrics = (await store.readMetrics()).map(({ time: _t, ...row }) => row);
  const last = await store.loadCheckpoint('last');
  const params = Array.from(paramsToArray(last.params, last.specs));
  disposeParams(last.params);
  return { status: run.status, summary: run.summary, metrics, params, meta: last.meta };
}

function largest(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a === b ? 0 : Math.abs(a - b);
  if (Array.isArray(a) && Array.isArray(b)) {
    expect(a.length).toBe(b.length);
    return a.reduce((m: number, x, i) => Math.max(m, largest(x, b[i])), 0);
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    return Object.keys(a).reduce((m, k) => Math.max(m, largest((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])), 0);
  }
  expect(a).toEqual(b);
  return 0;
}

describe('sweep.vectorize', () => {
  it('trains seeds × lrs as stacked replicas with the same runs as without (metrics, final params)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-vec-'));
    try {
      const plain = await runSweep({ file: experiment(dir, {}), env, executor: new InProcessExecutor(), out: join(dir, 'plain'), report: false });
      const groups: number[] = [];
      const inProcess = new InProcessExecutor();
      const counting: SweepExecutor = { name: 'counting', run: (jobs, events) => (groups.push(...jobs.map((j) => jobPoints(j).length)), inProcess.run(jobs, events)), stop: () => inProcess.stop() };
      const vec = await runSweep({ file: experiment(dir, { vectorize: { maxReplicas: 5 } }), env, executor: counting, out: join(dir, 'vec'), report: false });
      // 8 points with one configuration but for seed and lr: groups of 5 and 3
      expect(groups).toEqual([5, 3]);
      expect(vec.failed).toBe(0);
      expect(vec.index.points.map((p) => p.id)).toEqual(plain.index.points.map((p) => p.id));
      expect(vec.index.counts).toMatchObject({ completed: 8, failed: 0 });
      let diff = 0;
      for (const p of plain.index.points) {
        const a = await runContents(join(dir, 'plain', p.dir));
        const b = await runContents(join(dir, 'vec', p.dir));
        expect(b.status).toBe('completed');
        diff = Math.max(diff, largest(b, a));
      }
      // largest |difference| over every run's metrics rows, final parameters and summary: 0 on cpu
      // when measured (bit-identical); the bound is float32 round-off
      expect(diff).toBeLessThan(1e-5);
      // the summaries are those of the plain sweep
      expect(readFileSync(join(dir, 'vec', 'summaries', 'metrics.json'), 'utf8')).toBe(readFileSync(join(dir, 'plain', 'summaries', 'metrics.json'), 'utf8'));

      // A re-run skips complete groups; a group with points to run again runs just those.
      const sweepFile = experiment(dir, { vectorize: true });
      const none = spy();
      await runSweep({ file: sweepFile, env, executor: none, out: join(dir, 'vec'), report: false });
      expect(none.jobs).toEqual([]);
      const index = JSON.parse(readFileSync(join(dir, 'vec', 'sweep.json'), 'utf8'));
      const redo = [vec.index.points[1].id, vec.index.points[6].id];
      for (const id of redo) rmSync(join(dir, 'vec', id), { recursive: true });
      index.points = index.points.map((p: { id: string }) => (redo.includes(p.id) ? { ...p, status: 'failed' } : p));
      writeFileSync(join(dir, 'vec', 'sweep.json'), JSON.stringify(index));
      const some = spy();
      await runSweep({ file: sweepFile, env, executor: some, out: join(dir, 'vec'), report: false });
      expect(some.jobs.map((j) => jobPoints(j).map((p) => p.id))).toEqual([redo]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('refuses groups that cannot be stacked, naming the file and sweep.vectorize, before writing anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-vec-'));
    try {
      const cases: [string, RegExp][] = [
        [experiment(dir, { vectorize: true }, { model: { name: 'mlp', options: { hidden: [8], block: 2, tied: true } } }), /sweep\.vectorize: points .* differ only in seed and train\.lr.* the model "mlp" \(.*\) has no applyReplicas/],
        [experiment(dir, { vectorize: true }, { train: { optimizer: 'adam', lr: 0.01, epochs: 1, batchSize: 32, symmetryPenalty: { form: 'sampled', lambda: 0.1 } } }), /sweep\.vectorize: .*train\.symmetryPenalty is set/],
        [experiment(dir, { vectorize: 'yes' }), /sweep\.vectorize/],
        [experiment(dir, { vectorize: { maxReplicas: 0 } }), /sweep\.vectorize\.maxReplicas/],
      ];
      for (const [file, message] of cases) {
        const out = join(dir, 'refused');
        const err = await runSweep({ file, env, executor: spy(), out, report: false }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(UsageError);
        expect((err as Error).message).toMatch(message);
        expect((err as Error).message.startsWith(file)).toBe(true);
        expect(existsSync(out)).toBe(false);
      }
      // points that differ in more than seed and lr form groups of one: nothing to refuse
      const ones = spy();
      const block = { name: 'mlp', options: { hidden: [8], block: 2, tied: true } };
      await runSweep({ file: experiment(dir, { vectorize: true, grid: { 'model.options.hidden': [[4], [8]] }, seeds: [1] }, { model: block }), env, executor: ones, out: join(dir, 'ones'), report: false });
      expect(ones.jobs.map((j) => j.group)).toEqual([undefined, undefined]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('reads the setting and groups in order, splitting at maxReplicas', () => {
    expect(vectorizeSetting({ vectorize: true })).toEqual({ maxReplicas: 32 });
    expect(vectorizeSetting({ vectorize: { maxReplicas: 4 } })).toEqual({ maxReplicas: 4 });
    expect(vectorizeSetting({ vectorize: false })).toBeUndefined();
    expect(vectorizeSetting({})).toBeUndefined();
    expect(vectorGroups(['a1', 'b1', 'a2', 'a3', 'b2'], (s) => s[0], 2)).toEqual([['a1', 'a2'], ['a3'], ['b1', 'b2']]);
  });
});
