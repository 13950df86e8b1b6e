import '@tensorflow/tfjs-backend-cpu';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { MARKER_FILE } from '@goldstone/run-store/format';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '@goldstone/plugin-api';
import type { ExecutorEvents, PointJob, SweepExecutor } from './executor';
import { InProcessExecutor } from './in-process-executor';
import { runSweep } from './run-sweep';
import { testEnv, TINY_TRAIN, writeExperiment } from './test-support';

const env = testEnv;
const experiment = writeExperiment;

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

  it('a sweep with parts runs the union of its parts, each point with its part\'s settings only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-sweep-unit-'));
    const parts = [
      { name: 'lr-scan', grid: { 'train.lr': [0.01, 0.03] } },
      { name: 'width', grid: { 'model.options.hidden': [[2], [4]] }, seeds: [2] },
    ];
    const file = experiment(dir, { sweep: { parts, seeds: [1] } });
    const out = join(dir, 'out');
    const { index, failed } = await runSweep({ file, env, executor: new InProcessExecutor(), out, report: false });
    expect(failed).toBe(0);
    expect(index.points.map((p) => [p.part, p.assignments])).toEqual([
      ['lr-scan', { 'train.lr': 0.01, seed: 1 }],
      ['lr-scan', { 'train.lr': 0.03, seed: 1 }],
      ['width', { 'model.options.hidden': [2], seed: 2 }],
      ['width', { 'model.options.hidden': [4], seed: 2 }],
    ]);
    for (const p of index.points) {
      const run = readJson(join(out, p.dir, 'run.json'));
      expect(run.status).toBe('completed');
      expect(run.config.train.lr).toBe(p.part === 'lr-scan' ? p.assignments['train.lr'] : 0.01);
      expect(run.config.model.options.hidden).toEqual(p.part === 'width' ? p.assignments['model.options.hidden'] : [4]);
    }
    expect(readJson(join(out, 'sweep.json')).sweep.parts.map((p: { name: string }) => p.name)).toEqual(['lr-scan', 'width']);
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

const tmp = () => mkdtempSync(join(tmpdir(), 'goldstone-sweep-unit-'));
const TRAIN = TINY_TRAIN;

async function usageError(promise: Promise<unknown>): Promise<UsageError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

/** Every file under `dir` with its contents, to prove that nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[p] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

/** A sweep of two seeds, run to the end into `out`. */
async function finishedSweep() {
  const dir = tmp();
  const out = join(dir, 'out');
  const file = experiment(dir, { sweep: { seeds: [1, 2] } });
  const first = await runSweep({ file, env, executor: new InProcessExecutor(), out, report: false });
  return { dir, out, file, first };
}

describe('an existing sweep directory', () => {
  it('a point whose worker was killed while creating its run directory (only a temporary of the marker left) runs again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-sweep-unit-'));
    const file = experiment(dir);
    const out = join(dir, 'out');
    const first = await runSweep({ file, env, executor: new InProcessExecutor(), out, report: false });
    expect(first.failed).toBe(0);
    const victim = first.index.points[1];
    const pointDir = join(out, victim.dir);
    rmSync(pointDir, { recursive: true, force: true });
    mkdirSync(pointDir);
    // what writeFileAtomic leaves when its process dies between writing the marker's temporary and
    // renaming it (pid 2^22 + 1 is above Linux's pid_max, so no process has it)
    writeFileSync(join(pointDir, `.${MARKER_FILE}.tmp-${2 ** 22 + 1}-abc-1`), '{"format":');
    const again = await runSweep({ file, env, executor: new InProcessExecutor(), out, report: false });
    const rec = again.index.points.find((p) => p.id === victim.id)!;
    expect(rec.error).toBeUndefined();
    expect(again.failed).toBe(0);
    expect(rec.status).toBe('completed');
    expect(readJson(join(pointDir, 'run.json')).status).toBe('completed');
    expect(readdirSync(pointDir).filter((e) => e.includes('.tmp-'))).toEqual([]);
  });

  it('a re-run with more points keeps every finished run; a changed experiment or dropped points are refused, naming what differs and --force', async () => {
    const { dir, out, file, first } = await finishedSweep();
    expect(first.index.counts.completed).toBe(2);
    const created = Object.fromEntries(first.index.points.map((p) => [p.id, readJson(join(out, p.id, 'run.json')).createdAt]));

    // more seeds: only the new point runs
    experiment(dir, { sweep: { seeds: [1, 2, 3] } });
    const more = await runSweep({ file, env, executor: new InProcessExecutor(), out, report: false });
    expect(more.index.counts).toMatchObject({ completed: 3, pending: 0 });
    for (const [id, at] of Object.entries(created)) {
      expect(readJson(join(out, id, 'run.json')).createdAt).toBe(at);
      expect(more.index.points.find((p) => p.id === id)!.attempts).toBe(1);
    }
    const before = snapshot(out);

    // a different base experiment: refused, nothing touched
    experiment(dir, { sweep: { seeds: [1, 2, 3] }, train: { ...TRAIN, epochs: 2 } });
    const changed = await usageError(runSweep({ file, env, executor: new InProcessExecutor(), out, report: false }));
    expect(changed.message).toContain(`${join(out, 'sweep.json')}: expected the sweep of ${file}`);
    expect(changed.message).toContain('train.epochs is 1 there, 2 here');
    expect(changed.message).toContain('--force');
    expect(changed.field).toBe('out');
    await usageError(runSweep({ file, env, executor: new InProcessExecutor(), out, report: false, dryRun: true }));

    // a sweep that drops points that ran: refused
    experiment(dir, { sweep: { seeds: [1] } });
    const dropped = await usageError(runSweep({ file, env, executor: new InProcessExecutor(), out, report: false }));
    expect(dropped.message).toMatch(/2 points of the index with a run directory \(2 finished\) are not in this sweep/);
    expect(snapshot(out)).toEqual(before);

    // --force: the index is replaced, the runs of dropped points are kept on disk
    const forced = await runSweep({ file, env, executor: new InProcessExecutor(), out, report: false, force: true });
    expect(forced.index.points).toHaveLength(1);
    expect(forced.index.counts.completed).toBe(1);
    expect(forced.kept).toHaveLength(2);
    for (const id of forced.kept) expect(readJson(join(out, id, 'run.json')).status).toBe('completed');
    expect(readJson(join(out, 'sweep.json')).points).toHaveLength(1);
  }, 240_000);

  it('with --force a changed experiment replaces only the runs that differ; files that are not goldstone\'s are never touched', async () => {
    const { dir, out, file, first } = await finishedSweep();
    writeFileSync(join(out, 'notes.txt'), 'mine');
    experiment(dir, { sweep: { seeds: [1, 2] }, train: { ...TRAIN, epochs: 2 } });
    const forced = await runSweep({ file, env, executor: new InProcessExecutor(), out, report: false, force: true });
    expect(forced.replaced.sort()).toEqual(first.index.points.map((p) => p.id).sort());
    expect(forced.index.counts.completed).toBe(2);
    for (const p of forced.index.points) expect(readJson(join(out, p.id, 'run.json')).config.train.epochs).toBe(2);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');

    // a directory under a point's id that is not a run directory: exit 2 before anything, even with --force
    experiment(dir, { sweep: { seeds: [1, 2, 3] }, train: { ...TRAIN, epochs: 2 } });
    const third = (await runSweep({ file, env, out, dryRun: true })).index.points.find((p) => p.assignments.seed === 3)!;
    mkdirSync(join(out, third.id));
    writeFileSync(join(out, third.id, 'data.csv'), '1,2');
    const foreign = await usageError(runSweep({ file, env, executor: new InProcessExecutor(), out, report: false, force: true }));
    expect(foreign.message).toContain(`${join(out, third.id)}: holds files but no run.json`);
    expect(readFileSync(join(out, third.id, 'data.csv'), 'utf8')).toBe('1,2');
  }, 240_000);

  it('a damaged index is refused naming the record; --force rebuilds it from the run directories, keeping their results', async () => {
    const { out, file, first } = await finishedSweep();
    const ix = readJson(join(out, 'sweep.json'));
    writeFileSync(join(out, 'sweep.json'), JSON.stringify({ ...ix, points: [{ ...ix.points[0], id: '../../elsewhere' }, { ...ix.points[1], status: 'done' }] }));
    const damaged = await usageError(runSweep({ file, env, out, dryRun: true }));
    expect(damaged.field).toBe('points[0].id');
    const spy: SweepExecutor = {
      name: 'spy',
      async run(jobs: readonly PointJob[]) {
        if (jobs.length) throw new Error(`nothing should run, got ${jobs.map((j) => j.id).join(', ')}`);
      },
      stop() {},
    };
    const forced = await runSweep({ file, env, executor: spy, out, report: false, force: true });
    expect(forced.index.counts.completed).toBe(2);
    expect(forced.replaced).toEqual([]);
    expect(forced.index.points.map((p) => p.summary)).toEqual(first.index.points.map((p) => p.summary));
  }, 240_000);

  it('never imports a module named by a run.json or the index in the directory (a sweep loads only the plugins its experiment file lists)', async () => {
    const { dir, out, file, first } = await finishedSweep();
    const marker = join(dir, 'imported');
    const evil = join(dir, 'evil.mjs');
    writeFileSync(evil, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'yes');\nexport default {};\n`);
    const victim = join(out, first.index.points[0].id, 'run.json');
    const run = readJson(victim);
    writeFileSync(victim, JSON.stringify({ ...run, plugins: [evil], config: { ...run.config, plugins: [evil] } }));
    const ix = readJson(join(out, 'sweep.json'));
    writeFileSync(join(out, 'sweep.json'), JSON.stringify({ ...ix, set: { plugins: [evil] }, base: { ...ix.base, plugins: [evil] } }));

    const refused = await usageError(runSweep({ file, env, out, dryRun: true }));
    expect(refused.message).toContain('plugins');
    const forced = await runSweep({ file, env, out, dryRun: true, force: true });
    expect(forced.replaced).toEqual([first.index.points[0].id]);
    expect(existsSync(marker)).toBe(false);
  }, 240_000);
});

describe('bad sweeps change nothing', () => {
  it('a sweep path through __proto__ or constructor is a usage error and writes nothing into Object.prototype', async () => {
    const dir = tmp();
    const keys = Object.getOwnPropertyNames(Object.prototype).sort();
    for (const path of ['__proto__.polluted', 'constructor.prototype.polluted', 'train.__proto__.polluted']) {
      const file = join(dir, 'exp.json');
      writeFileSync(
        file,
        `{"name": "p", "backend": "cpu", "task": {"name": "clt", "options": {"sites": 4, "block": 2}}, "model": {"name": "mlp"}, "sweep": {"grid": {${JSON.stringify(path)}: [1, 2]}}}`,
      );
      const err = await usageError(runSweep({ file, env, out: join(dir, 'out'), dryRun: true }));
      expect(err.field).toBe(`sweep.grid.${path}`);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(keys);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('a config error that needs the built model (an unknown train.groups name) stops the sweep before anything is written', async () => {
    const dir = tmp();
    const file = experiment(dir, { train: { ...TRAIN, groups: { nope: { lr: 0.1 } } } });
    const err = await usageError(runSweep({ file, env, executor: new InProcessExecutor(), out: join(dir, 'out'), report: false }));
    expect(err.field).toBe('train.groups.nope');
    expect(err.message).toContain('has no parameter group "nope"');
    expect(err.message).toContain('(in sweep point lr=0.01_seed=1-');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('a swept value that only the built checks catch (a model too big, a bad group in one point) stops the sweep before anything is written', async () => {
    const dir = tmp();
    const big = experiment(dir, { sweep: { grid: { 'model.options.hidden': [[4], [100000, 100000]] }, seeds: [1, 2] } });
    const err = await usageError(runSweep({ file: big, env, executor: new InProcessExecutor(), out: join(dir, 'out'), report: false }));
    expect(err.field).toBe('model.options.hidden');
    expect(err.message).toMatch(/model\.options\.hidden: the model would have 1\.0e10 parameters/);
    const groups = experiment(dir, { sweep: { grid: { 'train.groups': [{}, { nope: { lr: 0.1 } }] } } });
    const err2 = await usageError(runSweep({ file: groups, env, executor: new InProcessExecutor(), out: join(dir, 'out'), report: false }));
    expect(err2.field).toBe('train.groups.nope');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('an index whose points never got a run directory is rewritten for a corrected experiment (nothing to lose)', async () => {
    const dir = tmp();
    const out = join(dir, 'out');
    const file = experiment(dir);
    const noDirs: SweepExecutor = {
      name: 'no-dirs',
      async run(jobs: readonly PointJob[], events: ExecutorEvents) {
        for (const job of jobs) events.finished(job.id, { status: 'failed', error: 'cannot start' });
      },
      stop() {},
    };
    expect((await runSweep({ file, env, executor: noDirs, out, report: false })).failed).toBe(4);
    experiment(dir, { train: { ...TRAIN, epochs: 2 } });
    const fixed = await runSweep({ file, env, executor: new InProcessExecutor(), out, report: false });
    expect(fixed.index.counts.completed).toBe(4);
    expect(fixed.differences).toEqual([]);
  });

  it('--out onto a file or under one is a usage error naming the path; nothing is written', async () => {
    const dir = tmp();
    const file = experiment(dir);
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'mine');
    const onto = await usageError(runSweep({ file, env, executor: new InProcessExecutor(), out: notes, report: false }));
    expect(onto.message).toBe(`--out ${notes}: a file is in the way: ${notes} is a regular file, not a directory`);
    const under = await usageError(runSweep({ file, env, executor: new InProcessExecutor(), out: join(notes, 'sweep'), report: false }));
    expect(under.message).toBe(`--out ${join(notes, 'sweep')}: a file is in the way: ${notes} is a regular file, not a directory`);
    expect(readdirSync(dir).sort()).toEqual(['exp.json', 'notes.txt']);
    expect(readFileSync(notes, 'utf8')).toBe('mine');
  });

  it('an empty --out is a usage error', async () => {
    const file = experiment(tmp());
    expect((await usageError(runSweep({ file, env, out: '', dryRun: true }))).field).toBe('out');
  });

  it('a dry run of 10^4 points validates and lists every point and writes nothing', async () => {
    const dir = tmp();
    const file = experiment(dir, { sweep: { grid: { 'train.lr': { linspace: { from: 0.001, to: 0.1, num: 100 } } }, seeds: Array.from({ length: 100 }, (_, i) => i) } });
    const outcome = await runSweep({ file, env, out: join(dir, 'out'), dryRun: true });
    expect(outcome.index.points).toHaveLength(10_000);
    expect(outcome.index.counts.pending).toBe(10_000);
    expect(existsSync(join(dir, 'out'))).toBe(false);
    const over = await usageError(runSweep({ file, env, out: join(dir, 'out'), dryRun: true, maxPoints: 9_999 }));
    expect(over.message).toMatch(/expected at most 9999 points, found 10000 points .*--max-points 10000/);
  }, 120_000);
});
