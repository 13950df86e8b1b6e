import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '@goldstone/plugin-api';
import { parseExperiment } from '@goldstone/runner';
import { canonicalJson, comparableConfig, countPoints, countStatuses, createSweepIndex, DEFAULT_MAX_POINTS, expandRange, expandSweep, finishPoint, groupSettings, indexDifferences, jsonDifferences, metricStats, needsRun, pointId, readSweepIndex, reconcilePoint, resolveSweep, shortName, shortNames, startPoint, summarizeFinalMetrics, updatePoint, updatePoints, writeSweepIndex, type SweepPointRecord } from './sweep-spec';

/** The UsageError `fn` throws (the test fails if it throws nothing or something else). */
function usageError(fn: () => unknown): UsageError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(UsageError);
  return thrown as UsageError;
}

const usageMessage = (fn: () => unknown): string => usageError(fn).message;

describe('ranges', () => {
  it('logspace hits the endpoints and is geometric', () => {
    expect(expandRange({ logspace: { from: 16, to: 256, num: 5 }, round: true })).toEqual([16, 32, 64, 128, 256]);
    const xs = expandRange({ logspace: { from: 1e-4, to: 1e-1, num: 4 } });
    expect(xs[0]).toBe(1e-4);
    expect(xs[3]).toBe(1e-1);
    for (let i = 1; i < xs.length; i++) expect(xs[i] / xs[i - 1]).toBeCloseTo(10, 10);
    // printed without float noise, so ids stay readable
    expect(xs.map(String)).toEqual(['0.0001', '0.001', '0.01', '0.1']);
  });

  it('linspace is arithmetic; num 1 gives from; round drops repeats', () => {
    expect(expandRange({ linspace: { from: 0, to: 1, num: 5 } })).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(expandRange({ linspace: { from: 0.1, to: 0.3, num: 3 } })).toEqual([0.1, 0.2, 0.3]);
    expect(expandRange({ linspace: { from: 3, to: 9, num: 1 } })).toEqual([3]);
    expect(expandRange({ linspace: { from: 1, to: 2, num: 5 }, round: true })).toEqual([1, 2]);
  });
});

describe('resolveSweep and expandSweep', () => {
  const spec = {
    grid: { 'train.lr': [0.05, 0.1], 'train.batchSize': { logspace: { from: 16, to: 64, num: 3 }, round: true } },
    zip: { 'model.options.hidden': [[32], [64, 64]], 'model.options.activation': ['relu', 'tanh'] },
    seeds: [1, 2],
  };

  it('is the product grid × zip rows × seeds, first grid path outermost, seed innermost', () => {
    const sweep = resolveSweep(spec);
    expect(sweep.paths).toEqual(['train.lr', 'train.batchSize', 'model.options.hidden', 'model.options.activation', 'seed']);
    expect(sweep.summaryBy).toEqual(['train.lr', 'train.batchSize', 'model.options.hidden', 'model.options.activation']);
    const points = expandSweep(sweep);
    expect(points).toHaveLength(2 * 3 * 2 * 2);
    expect(points[0].assignments).toEqual({ 'train.lr': 0.05, 'train.batchSize': 16, 'model.options.hidden': [32], 'model.options.activation': 'relu', seed: 1 });
    expect(points[1].assignments.seed).toBe(2);
    expect(points[2].assignments['model.options.activation']).toBe('tanh');
    expect(points[2].assignments['model.options.hidden']).toEqual([64, 64]);
    expect(points.at(-1)!.assignments).toEqual({ 'train.lr': 0.1, 'train.batchSize': 64, 'model.options.hidden': [64, 64], 'model.options.activation': 'tanh', seed: 2 });
    // zip rows never mix
    for (const p of points) expect([canonicalJson([[32], 'relu']), canonicalJson([[64, 64], 'tanh'])]).toContain(canonicalJson([p.assignments['model.options.hidden'], p.assignments['model.options.activation']]));
    // every combination exactly once, indices in order
    expect(new Set(points.map((p) => canonicalJson(p.assignments))).size).toBe(points.length);
    expect(points.map((p) => p.index)).toEqual(points.map((_, i) => i));
    expect(new Set(points.map((p) => p.id)).size).toBe(points.length);
  });

  it('a sweep of seeds alone, or of one list', () => {
    expect(expandSweep(resolveSweep({ seeds: [4, 5, 6] })).map((p) => p.assignments)).toEqual([{ seed: 4 }, { seed: 5 }, { seed: 6 }]);
    expect(expandSweep(resolveSweep({ grid: { 'train.optimizer': ['sgd', 'adam'] } })).map((p) => p.id.split('-')[0])).toEqual(['optimizer=sgd', 'optimizer=adam']);
  });

  it('names the field in errors', () => {
    expect(usageMessage(() => resolveSweep({ grid: { 'train.lr': 0.1 } }, { file: 'x.yaml' }))).toMatch(/^x\.yaml: sweep\.grid\.train\.lr: /);
    expect(usageMessage(() => resolveSweep({ grid: { 'train.lr': [] } }))).toContain('sweep.grid.train.lr: expected at least one value');
    expect(usageMessage(() => resolveSweep({ grid: { 'train.lr': { logspace: { from: 1, to: 2 } } } }))).toContain('sweep.grid.train.lr');
    expect(usageMessage(() => resolveSweep({ grid: { 'train.lr': { logspace: { from: 0, to: 2, num: 3 } } } }))).toContain('sweep.grid.train.lr: logspace needs from > 0');
    expect(usageMessage(() => resolveSweep({ grdi: {} }))).toContain('sweep.grdi: unknown field "grdi"; did you mean "grid"?');
    expect(usageMessage(() => resolveSweep({ zip: { 'a.b': [1, 2], 'a.c': [1, 2, 3] } }))).toContain('sweep.zip.a.c: zipped lists must have equal lengths (a.b has 2, a.c has 3)');
    expect(usageMessage(() => resolveSweep({ grid: { 'a.b': [1] }, zip: { 'a.b': [1] } }))).toContain('sweep.zip.a.b: also swept in sweep.grid');
    expect(usageMessage(() => resolveSweep({ grid: { seed: [1] }, seeds: [1] }))).toContain('sweep.seeds: seed is also swept');
    expect(usageMessage(() => resolveSweep({ seeds: [1], summaryBy: ['train.lr'] }))).toContain('sweep.summaryBy[0]: "train.lr" is not swept');
    expect(usageMessage(() => resolveSweep({}))).toContain('sweep: declare at least one of grid, zip or seeds');
    expect(usageMessage(() => resolveSweep(undefined, { file: 'e.yaml' }))).toContain('e.yaml: sweep: the experiment has no sweep: block');
    expect(usageMessage(() => resolveSweep({ grid: { 'train lr': [1] } }))).toContain('expected a dotted path');
    expect(usageMessage(() => expandSweep(resolveSweep({ grid: { 'train.lr': [0.1, 0.1] } })))).toContain('are the same');
  });

  it('each point is a valid --set for the experiment', () => {
    const raw = { task: { name: 'clt' }, model: { name: 'mlp', options: { hidden: [8] } }, sweep: spec };
    for (const p of expandSweep(resolveSweep(raw.sweep))) {
      const exp = parseExperiment(raw, { set: p.assignments });
      expect(exp.train.lr).toBe(p.assignments['train.lr']);
      expect(exp.train.batchSize).toBe(p.assignments['train.batchSize']);
      expect(exp.model.options.hidden).toEqual(p.assignments['model.options.hidden']);
      expect(exp.seed).toBe(p.assignments.seed);
    }
  });
});

describe('point ids', () => {
  it('are readable, stable, independent of key order, and filesystem-safe', () => {
    const id = pointId({ 'train.lr': 0.1, 'train.batchSize': 64, seed: 1 });
    expect(id).toMatch(/^bs=64_lr=0\.1_seed=1-[0-9a-f]{8}$/);
    expect(pointId({ seed: 1, 'train.batchSize': 64, 'train.lr': 0.1 })).toBe(id);
    expect(pointId({ 'train.lr': 0.1, 'train.batchSize': 64, seed: 2 })).not.toBe(id);
    expect(pointId({ 'model.options.hidden': [64, 64], 'model.options.activation': 'tanh' })).toMatch(/^activation=tanh_hidden=64x64-[0-9a-f]{8}$/);
    // same readable text, different values: the hash tells them apart
    expect(pointId({ 'a.x': 'p q' })).not.toBe(pointId({ 'a.x': 'p/q' }));
    const long = pointId({ 'task.options.description': 'x'.repeat(500) });
    expect(long.length).toBeLessThanOrEqual(96 + 9);
    for (const v of ['../../etc', 'a b', '\u00e9t\u00e9', { k: [1, { z: 2 }] }, null, true]) expect(pointId({ 'x.y': v as never })).toMatch(/^[A-Za-z0-9][A-Za-z0-9.=+_-]*$/);
  });

  it('short names abbreviate camelCase', () => {
    expect(shortName('train.batchSize')).toBe('bs');
    expect(shortName('train.weightDecay')).toBe('wd');
    expect(shortName('train.lr')).toBe('lr');
    expect(shortName('analyses[0].options.k')).toBe('k');
    expect(shortName('seed')).toBe('seed');
  });

  it('tell apart paths that share a short name by their last segments', () => {
    const names = shortNames(['train.groups.encoder.lr', 'train.groups.decoder.lr', 'train.batchSize', 'seed']);
    expect([...names.values()]).toEqual(['encoder.lr', 'decoder.lr', 'bs', 'seed']);
    expect([...shortNames(['a.x.lr', 'b.x.lr']).values()]).toEqual(['a.x.lr', 'b.x.lr']);
    const id = pointId({ 'train.groups.encoder.lr': 0.001, 'train.groups.decoder.lr': 0.0001, seed: 1 });
    expect(id).toMatch(/^decoder\.lr=0\.0001_encoder\.lr=0\.001_seed=1-[0-9a-f]{8}$/);
    // ids of sweeps without clashes are what they were
    expect(pointId({ 'train.lr': 0.1, seed: 1 })).toMatch(/^lr=0\.1_seed=1-/);
  });
});

describe('parts: a union of sub-sweeps', () => {
  const spec = {
    parts: [
      { name: 'scan', grid: { 'task.options.trainNum': [5, 10, 45] }, seeds: [1, 2] },
      { name: 'phase-map', grid: { 'train.groups.encoder.lr': { logspace: { from: 1e-4, to: 1e-2, num: 3 } }, 'train.groups.decoder.lr': [1e-4, 1e-3] } },
      { name: 'again', zip: { 'task.options.trainNum': [45, 50] }, seeds: [1] },
    ],
    seeds: [7],
  };

  it('expands each part with its own axes, default seeds from the top level, and runs a shared point once', () => {
    const resolved = resolveSweep(spec);
    expect(resolved.parts?.map((p) => p.name)).toEqual(['scan', 'phase-map', 'again']);
    expect(resolved.paths).toEqual(['task.options.trainNum', 'train.groups.encoder.lr', 'train.groups.decoder.lr', 'seed']);
    expect(resolved.summaryBy).toEqual(['task.options.trainNum', 'train.groups.encoder.lr', 'train.groups.decoder.lr']);
    expect(countPoints(resolved)).toBe(6 + 6 + 2);
    const points = expandSweep(resolved);
    // trainNum 45 with seed 1 is in scan and again: it runs once, as scan's
    expect(points).toHaveLength(13);
    expect(points.map((p) => p.index)).toEqual([...points.keys()]);
    expect(new Set(points.map((p) => p.id)).size).toBe(13);
    expect(points.filter((p) => p.part === 'scan')).toHaveLength(6);
    expect(points.filter((p) => p.part === 'phase-map').map((p) => p.assignments)).toContainEqual({ 'train.groups.encoder.lr': 0.001, 'train.groups.decoder.lr': 0.001, seed: 7 });
    expect(points.filter((p) => p.part === 'again').map((p) => p.assignments)).toEqual([{ 'task.options.trainNum': 50, seed: 1 }]);
    // the index keeps the part of each point
    const index = createSweepIndex({ name: 'x', experiment: '/x.yaml', sweep: resolved, points });
    expect(index.points[7].part).toBe('phase-map');
  });

  it('names the part and field in errors', () => {
    expect(usageMessage(() => resolveSweep({ ...spec, grid: { 'train.lr': [1] } }, { file: 'e.yaml' }))).toBe(
      'e.yaml: sweep.grid: a sweep with parts declares its grid inside each part (sweep.parts[i].grid), not beside them',
    );
    expect(usageMessage(() => resolveSweep({ parts: [{ name: 'a', seeds: [1] }, { name: 'a', seeds: [2] }] }, { file: 'e.yaml' }))).toBe(
      'e.yaml: sweep.parts[1].name: "a" is also the name of sweep.parts[0]; give each part its own name',
    );
    expect(usageMessage(() => resolveSweep({ parts: [{ name: 'a', zip: { 'x.a': [1, 2], 'x.b': [1] } }] }, { file: 'e.yaml' }))).toBe(
      'e.yaml: sweep.parts[0].zip.x.b: zipped lists must have equal lengths (x.a has 2, x.b has 1)',
    );
    expect(usageMessage(() => resolveSweep({ parts: [{ name: 'a', grid: { 'x.__proto__': [1] } }] }, { file: 'e.yaml' }))).toMatch(/^e\.yaml: sweep\.parts\[0\]\.grid\.x\.__proto__: "__proto__" may not be a path segment/);
    expect(usageMessage(() => resolveSweep({ parts: [{ name: 'Bad Name', seeds: [1] }] }, { file: 'e.yaml' }))).toMatch(/sweep\.parts\[0\]\.name.*kebab-case/);
    expect(usageMessage(() => resolveSweep({ parts: [{ name: 'a' }] }, { file: 'e.yaml' }))).toBe('e.yaml: sweep.parts[0]: declare at least one of grid, zip or seeds');
    expect(usageMessage(() => resolveSweep({ ...spec, summaryBy: ['train.lr'] }, { file: 'e.yaml' }))).toMatch(/^e\.yaml: sweep\.summaryBy\[0\]: "train\.lr" is not swept/);
    expect(usageMessage(() => resolveSweep(spec, { file: 'e.yaml', maxPoints: 10 }))).toMatch(/expected at most 10 points, found 14 points \(scan: task\.options\.trainNum 3 × seeds 2; phase-map: /);
  });
});

describe('the index and status transitions', () => {
  const sweep = resolveSweep({ grid: { 'train.lr': [0.1, 0.2] }, seeds: [1, 2] });
  const points = expandSweep(sweep);
  const fresh = () => createSweepIndex({ name: 'x', experiment: '/e.yaml', sweep, points, now: 't0' });

  it('starts pending, counts statuses, and runs a point through its life', () => {
    let index = fresh();
    expect(index.counts).toEqual({ pending: 4, running: 0, completed: 0, diverged: 0, failed: 0, interrupted: 0 });
    const id = points[0].id;
    index = updatePoint(index, id, (p) => startPoint(p, { pid: 42, now: 't1' }), 't1');
    expect(index.points[0]).toMatchObject({ status: 'running', attempts: 1, pid: 42, startedAt: 't1' });
    expect(index.counts.running).toBe(1);
    index = updatePoint(index, id, (p) => finishPoint(p, { status: 'failed', error: 'boom', now: 't2' }));
    expect(index.points[0]).toMatchObject({ status: 'failed', error: 'boom', attempts: 1, finishedAt: 't2' });
    expect(index.points[0].pid).toBeUndefined();
    index = updatePoint(index, id, (p) => startPoint(p));
    expect(index.points[0].error).toBeUndefined();
    index = updatePoint(index, id, (p) => finishPoint(p, { status: 'completed', summary: { 'test.loss': 0.5 } }));
    expect(index.points[0]).toMatchObject({ status: 'completed', attempts: 2, summary: { 'test.loss': 0.5 } });
    expect(() => updatePoint(index, 'nope', (p) => p)).toThrow(/no point/);
  });

  it('re-runs everything but completed and diverged', () => {
    expect(['pending', 'running', 'failed', 'interrupted'].every(needsRun)).toBe(true);
    expect(needsRun('completed') || needsRun('diverged')).toBe(false);
  });

  it('reconciles with run.json: the run directory is the truth', () => {
    const rec = fresh().points[0];
    expect(reconcilePoint(rec, undefined).status).toBe('pending');
    expect(reconcilePoint({ ...rec, status: 'completed' }, undefined).status).toBe('pending');
    expect(reconcilePoint({ ...rec, status: 'running', pid: 3 }, undefined)).toMatchObject({ status: 'interrupted' });
    const done = reconcilePoint({ ...rec, status: 'running', pid: 3 }, { status: 'completed', summary: { 'train.loss': 1 }, finishedAt: 'tf' });
    expect(done).toMatchObject({ status: 'completed', summary: { 'train.loss': 1 }, finishedAt: 'tf' });
    expect(done.pid).toBeUndefined();
    expect(reconcilePoint(rec, { status: 'diverged', error: 'non-finite loss' })).toMatchObject({ status: 'diverged', error: 'non-finite loss' });
    expect(reconcilePoint(rec, { status: 'running' })).toMatchObject({ status: 'interrupted', error: expect.stringMatching(/cut off/) });
    expect(reconcilePoint(rec, { status: 'failed', error: 'x' })).toMatchObject({ status: 'failed', error: 'x' });
    expect(reconcilePoint(rec, { status: 'interrupted', error: 'SIGINT' })).toMatchObject({ status: 'interrupted', error: 'SIGINT' });
  });

  it('a new index keeps the records of points still in the sweep', () => {
    let old = fresh();
    old = updatePoint(old, points[1].id, (p) => finishPoint(startPoint(p), { status: 'completed', summary: { m: 1 } }));
    const bigger = resolveSweep({ grid: { 'train.lr': [0.1, 0.2, 0.4] }, seeds: [1, 2] });
    const next = createSweepIndex({ name: 'x', experiment: '/e.yaml', sweep: bigger, points: expandSweep(bigger), previous: old, now: 't9' });
    expect(next.points).toHaveLength(6);
    expect(next.createdAt).toBe('t0');
    expect(next.points.find((p) => p.id === points[1].id)).toMatchObject({ status: 'completed', attempts: 1, summary: { m: 1 } });
    expect(next.counts).toMatchObject({ completed: 1, pending: 5 });
  });

  it('is written atomically and read back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-sweep-'));
    expect(await readSweepIndex(dir)).toBeUndefined();
    const index = fresh();
    await writeSweepIndex(dir, index);
    expect(readdirSync(dir)).toEqual(['sweep.json']);
    expect(JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'))).toEqual(index);
    expect(await readSweepIndex(dir)).toEqual(index);
    expect(countStatuses(index.points).pending).toBe(4);
  });
});

describe('final-metric summaries', () => {
  it('groups by summaryBy and gives mean, sample std and range over seeds', () => {
    const sweep = resolveSweep({ grid: { 'train.lr': [0.1, 0.2] }, seeds: [1, 2, 3] });
    let index = createSweepIndex({ name: 'x', experiment: '/e', sweep, points: expandSweep(sweep) });
    const loss = (lr: number, seed: number) => lr * 10 + seed;
    for (const p of index.points) {
      const lr = p.assignments['train.lr'] as number;
      const seed = p.assignments.seed as number;
      if (lr === 0.2 && seed === 3) index = updatePoint(index, p.id, (r) => finishPoint(r, { status: 'failed', error: 'x' }));
      else index = updatePoint(index, p.id, (r) => finishPoint(r, { status: 'completed', summary: { loss: loss(lr, seed), nan: null } }));
    }
    const s = summarizeFinalMetrics(index);
    expect(s.by).toEqual(['train.lr']);
    expect(s.groups).toHaveLength(2);
    const g1 = s.groups.find((g) => g.settings['train.lr'] === 0.1)!;
    expect(g1.runs).toHaveLength(3);
    expect(g1.metrics.loss.mean).toBeCloseTo(3, 12); // 2, 3, 4
    expect(g1.metrics.loss.std).toBeCloseTo(1, 12);
    expect(g1.metrics.loss.sem).toBeCloseTo(1 / Math.sqrt(3), 12);
    expect(g1.metrics.nan).toBeUndefined();
    const g2 = s.groups.find((g) => g.settings['train.lr'] === 0.2)!;
    expect(g2.runs).toHaveLength(2); // the failed point is left out
    expect(g2.metrics.loss).toMatchObject({ n: 2, mean: 3.5, min: 3, max: 4 }); // 3, 4
    expect(metricStats([NaN, Infinity])).toBeUndefined();
    expect(metricStats([7])).toMatchObject({ n: 1, mean: 7, std: 0 });
  });
});

describe('prototype keys', () => {
  it('a grid or zip path with a __proto__, constructor or prototype segment is a usage error naming the field', () => {
    const protoKeysBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    const cases: [string, string][] = [
      ['{"grid": {"__proto__.polluted": [1, 2]}}', 'sweep.grid.__proto__.polluted'],
      ['{"grid": {"__proto__": [1, 2]}}', 'sweep.grid.__proto__'],
      ['{"grid": {"constructor.prototype.polluted": [1]}}', 'sweep.grid.constructor.prototype.polluted'],
      ['{"zip": {"task.options.__proto__": [1], "train.lr": [0.1]}}', 'sweep.zip.task.options.__proto__'],
      ['{"grid": {"analyses[0].prototype": [1]}}', 'sweep.grid.analyses[0].prototype'],
    ];
    for (const [json, field] of cases) {
      const err = usageError(() => resolveSweep(JSON.parse(json), { file: 'exp.json' }));
      expect(err.field).toBe(field);
      expect(err.message).toContain(`exp.json: ${field}: `);
      expect(err.message).toMatch(/may not be a path segment/);
    }
    // and a resolved sweep built by hand with such a path is refused by expandSweep too
    expect(() => expandSweep({ grid: { '__proto__.x': [1] }, zip: {}, seeds: [], paths: ['__proto__.x'], summaryBy: [] })).toThrow(UsageError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoKeysBefore);
  });

  it('groupSettings reads own assignments only', () => {
    expect(groupSettings({ 'train.lr': 1 }, ['train.lr', 'toString', '__proto__'])).toEqual({ 'train.lr': 1 });
    expect(Object.getPrototypeOf(groupSettings(JSON.parse('{"__proto__": {"x": 1}}'), ['__proto__']))).toBe(Object.prototype);
  });
});

describe('the point limit', () => {
  const grid = (n: number) => Array.from({ length: n }, (_, i) => i);

  it('counts the product of the axis lengths without expanding, and refuses more than the limit naming count, limit and flag', () => {
    const sweep = resolveSweep({ grid: { 'train.lr': grid(100), 'train.batchSize': grid(10) }, seeds: grid(10) });
    expect(countPoints(sweep)).toBe(10_000);
    expect(DEFAULT_MAX_POINTS).toBe(10_000);
    const err = usageError(() => resolveSweep({ grid: { 'train.lr': grid(100), 'train.batchSize': grid(10) }, seeds: grid(11) }, { file: 'exp.yaml' }));
    expect(err.field).toBe('sweep');
    expect(err.message).toContain('exp.yaml: sweep: expected at most 10000 points, found 11000 points (train.lr 100 × train.batchSize 10 × seeds 11)');
    expect(err.message).toContain('--max-points 11000');
    expect(countPoints(resolveSweep({ grid: { 'train.lr': grid(100) }, seeds: grid(110) }, { maxPoints: 11_000 }))).toBe(11_000);
    expect(() => expandSweep(sweep, { maxPoints: 9_999 })).toThrow(/at most 9999 points, found 10000/);
  });

  it('a range of a billion values, or a product of a billion points, is refused at once (never expanded)', () => {
    const huge = usageError(() => resolveSweep({ grid: { 'train.lr': { linspace: { from: 0, to: 1, num: 1e9 } } } }));
    expect(huge.message).toContain('found at least 1000000000 points (sweep.grid.train.lr has num 1000000000)');
    expect(huge.message).toContain('--max-points');
    const product = usageError(() =>
      resolveSweep({ grid: { 'train.lr': { logspace: { from: 1e-4, to: 1, num: 1000 } }, 'train.batchSize': { linspace: { from: 1, to: 1000, num: 1000 } } }, seeds: grid(1000) }),
    );
    expect(product.message).toContain('found 1000000000 points');
  });

  it('expands 10^4 points with ids in one linear pass', () => {
    const points = expandSweep(resolveSweep({ grid: { 'train.lr': { linspace: { from: 0.001, to: 0.1, num: 100 } } }, seeds: grid(100) }));
    expect(points).toHaveLength(10_000);
    expect(new Set(points.map((p) => p.id)).size).toBe(10_000);
    expect(points[101].assignments).toEqual({ 'train.lr': points[101].assignments['train.lr'], seed: 1 });
  });
});

describe('index updates', () => {
  it('updatePoint adjusts the counts without reading every status again (a sweep of n points costs n, not n²)', () => {
    const n = 2000;
    const sweep = resolveSweep({ seeds: Array.from({ length: n }, (_, i) => i) });
    const points = expandSweep(sweep);
    let index = createSweepIndex({ name: 'x', experiment: 'x.yaml', sweep, points, now: 't0' });
    // count every read of a record's status
    let reads = 0;
    const counted = (rec: SweepPointRecord): SweepPointRecord => {
      let status = rec.status;
      const out = { ...rec };
      Object.defineProperty(out, 'status', {
        enumerable: true,
        get: () => (reads++, status),
        set: (v) => (status = v),
      });
      return out;
    };
    index = { ...index, points: index.points.map(counted) };
    for (const p of points) index = updatePoint(index, p.id, (r) => counted(startPoint({ ...r }, { now: 't1' })), 't1');
    expect(index.counts).toMatchObject({ running: n, pending: 0 });
    expect(reads).toBeLessThan(10 * n);
    index = updatePoints(index, (r) => finishPoint({ ...r }, { status: 'completed', now: 't2' }), 't2');
    expect(index.counts).toEqual(countStatuses(index.points));
    expect(index.counts.completed).toBe(n);
  });

  it('readSweepIndex refuses a damaged record with its field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-sweep-index-'));
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify({ format: 'goldstone-sweep', version: 1, points: [{ id: 'a', status: 'completed', assignments: {} }, { id: 'b', status: 'done', assignments: {} }] }));
    await expect(readSweepIndex(dir)).rejects.toThrow(/sweep\.json: points\[1\]\.status: expected one of pending, running/);
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify({ format: 'other', points: [] }));
    await expect(readSweepIndex(dir)).rejects.toThrow(/not a goldstone sweep index/);
  });
});

describe('does an index hold this sweep?', () => {
  const exp = (over: Record<string, unknown> = {}) =>
    comparableConfig({ name: 'e', task: { name: 'clt', options: {} }, model: { name: 'mlp', options: {} }, train: { lr: 0.01, epochs: 2 }, ...over });
  const index = (sweepRaw: unknown, base = exp()) => {
    const sweep = resolveSweep(sweepRaw);
    const points = expandSweep(sweep);
    const ix = createSweepIndex({ name: 'e', experiment: 'e.yaml', sweep, points, base });
    return updatePoints(ix, (r) => finishPoint(r, { status: 'completed' }));
  };
  const current = (sweepRaw: unknown, base = exp(), opts: { quick?: boolean } = {}) => {
    const sweep = resolveSweep(sweepRaw);
    return { base, quick: Boolean(opts.quick), set: {}, sweep, points: expandSweep(sweep) };
  };

  it('the same experiment, or one with more points, matches; names, descriptions and the base value of a swept path do not count', () => {
    const prev = index({ grid: { 'train.lr': [0.1, 0.2] }, seeds: [1, 2] });
    expect(indexDifferences(prev, current({ grid: { 'train.lr': [0.1, 0.2] }, seeds: [1, 2] }))).toEqual([]);
    expect(indexDifferences(prev, current({ grid: { 'train.lr': [0.1, 0.2, 0.3] }, seeds: [1, 2, 3] }))).toEqual([]);
    expect(indexDifferences(prev, current({ grid: { 'train.lr': [0.1, 0.2] }, seeds: [1, 2] }, exp({ name: 'other', description: 'd', train: { lr: 0.5, epochs: 2 } })))).toEqual([]);
  });

  it('a changed base experiment, or a sweep that drops points that ran, differs (naming the field or the points)', () => {
    const prev = index({ grid: { 'train.lr': [0.1, 0.2] }, seeds: [1, 2] });
    const changed = indexDifferences(prev, current({ grid: { 'train.lr': [0.1, 0.2] }, seeds: [1, 2] }, exp({ train: { lr: 0.01, epochs: 4 } }), { quick: true }));
    expect(changed).toHaveLength(1);
    expect(changed[0]).toContain('train.epochs is 2 there, 4 here');
    expect(changed[0]).toContain('--quick');
    const dropped = indexDifferences(prev, current({ grid: { 'train.lr': [0.1] }, seeds: [1, 2] }));
    expect(indexDifferences(prev, current({ grid: { 'train.lr': [0.1] }, seeds: [1, 2] }, exp({ train: { lr: 0.01, epochs: 4 } })), () => false)).toEqual([]); // no run directory: nothing to lose
    expect(dropped).toEqual([expect.stringMatching(/^2 points of the index with a run directory \(2 finished\) are not in this sweep \(lr=0\.2_seed=1-/)]);
  });

  it('jsonDifferences names paths as --set spells them', () => {
    expect(jsonDifferences({ a: { b: [1, 2] }, c: 1 }, { a: { b: [1, 3] }, d: 2 }).map((d) => d.path)).toEqual(['a.b[1]', 'c', 'd']);
    expect(jsonDifferences({ a: [1] }, { a: [1, 2] })).toEqual([{ path: 'a', was: [1], now: [1, 2] }]);
    expect(jsonDifferences({ a: 1 }, { a: 1 })).toEqual([]);
  });
});
