import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Json } from '@goldstone/plugin-api';
import { readRun, type AnalysisEntry, type RunData } from '@goldstone/run-store/format';
import { writeFixtureRun } from '@goldstone/run-store/test-support';
import { bestOf, buildCompareReport, compareRuns, compareTables, finalMetricsMap, flattenConfig, formatHeadlineValue, runLabels } from './compare-report';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'goldstone-compare-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const better = (m: string) => (m === 'loss' || m === 'mse' ? ('lower' as const) : m === 'accuracy' ? ('higher' as const) : undefined);

type Entry = Pick<AnalysisEntry, 'name' | 'result' | 'headline'>;

function run(dir: string, fields: { config?: unknown; summary?: Record<string, number | null>; analyses?: Entry[]; packages?: Record<string, string>; status?: string; metrics?: RunData['metrics'] } = {}): RunData {
  return {
    dir,
    run: {
      name: 'r',
      status: fields.status ?? 'completed',
      config: (fields.config ?? { task: { name: 'clt' } }) as Json,
      summary: fields.summary ?? {},
      packages: fields.packages ?? { '@goldstone/core': '0.1.0' },
      createdAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:02.500Z',
    },
    metrics: fields.metrics ?? [],
    analyses: (fields.analyses ?? []).map((a): AnalysisEntry => ({ figures: [], provenance: { analysis: a.name, seed: 0, backend: 'cpu' }, ...a })),
    warnings: [],
  };
}

describe('compareRuns: configs', () => {
  it('lists exactly the resolved config paths whose values differ, one value per run', () => {
    const base = {
      name: 'quickstart',
      seed: 1,
      task: { name: 'clt', options: { sites: 16 } },
      model: { name: 'mlp', options: { hidden: [8], activation: 'tanh' } },
      train: { lr: 0.003, schedule: { kind: 'cosine' } },
      analyses: [
        { name: 'hessian', id: 'hessian', options: { topK: 5 } },
        { name: 'weight-norms', id: 'weight-norms', options: {} },
      ],
    };
    const other: typeof base & { extra?: Json } = structuredClone(base);
    other.seed = 2;
    other.model.options.hidden = [8, 8];
    other.analyses[0].options.topK = 10;
    other.extra = { on: true };
    const cmp = compareRuns([run('/x/a', { config: base, packages: { '@goldstone/core': '0.1.0', vega: '5' } }), run('/x/b', { config: other, packages: { '@goldstone/core': '0.2.0', vega: '5' } })]);
    expect(cmp.configs).toEqual([
      { key: 'seed', values: [1, 2] },
      { key: 'model.options.hidden', values: [[8], [8, 8]] },
      { key: 'analyses[hessian].options.topK', values: [5, 10] },
      { key: 'extra.on', values: [null, true] },
    ]);
    expect(cmp.versions).toEqual([{ key: '@goldstone/core', values: ['0.1.0', '0.2.0'] }]);
    expect(cmp.notes).toEqual([]);
  });

  it('flattens arrays of objects by index when their ids are not distinct, other arrays whole', () => {
    expect([...flattenConfig({ a: [{ name: 'x' }, { name: 'x', k: 1 }], b: [1, 2], c: {} }).entries()]).toEqual([
      ['a[0].name', 'x'],
      ['a[1].name', 'x'],
      ['a[1].k', 1],
      ['b', [1, 2]],
      ['c', {}],
    ]);
  });

  it('names runs by their directory, made unique', () => {
    expect(runLabels([run('/s/p1/seed-1'), run('/s/p2/seed-1'), run('/t/b'), run('/u/b/')])).toEqual(['p1/seed-1', 'p2/seed-1', 't/b', 'u/b']);
    expect(runLabels([run('/s/a'), run('/s/a')])).toEqual(['s/a (1)', 's/a (2)']);
  });

  it('says when the runs are of different tasks, unfinished, or lack an analysis', () => {
    const cmp = compareRuns([
      run('/x/a', { config: { task: { name: 'clt' } }, analyses: [{ name: 'hessian', result: { trace: 1 } }] }),
      run('/x/b', { config: { task: { name: 'jets' } }, status: 'diverged' }),
    ]);
    expect(cmp.tasks).toEqual(['clt', 'jets']);
    expect(cmp.notes).toEqual([
      'These runs are of different tasks (clt, jets): metrics and headline numbers are compared by name only.',
      'b is diverged: its numbers are what it saved.',
      'b has no hessian analysis.',
    ]);
  });
});

describe('compareRuns: metrics', () => {
  it('aligns split × metric rows over runs (null where missing) and marks the best by direction', () => {
    const cmp = compareRuns(
      [
        run('/x/a', { summary: { 'train.loss': 0.1, 'test.loss': 0.3, 'test.accuracy': 0.9, 'test.r2': 0.5 } }),
        run('/x/b', { summary: { 'train.loss': 0.2, 'test.loss': 0.3, 'test.accuracy': 0.95, 'ood-x.accuracy': 0.7 } }),
        run('/x/c', { summary: { 'train.loss': 0.1, 'test.loss': 0.3, 'test.accuracy': null } }),
      ],
      { better, primaryMetric: () => 'accuracy' },
    );
    expect(cmp.metrics.map((m) => [m.key, m.values, m.better, m.best, m.primary])).toEqual([
      ['train.loss', [0.1, 0.2, 0.1], 'lower', [0, 2], true],
      ['test.loss', [0.3, 0.3, 0.3], 'lower', [], true],
      ['test.accuracy', [0.9, 0.95, null], 'higher', [1], true],
      ['test.r2', [0.5, null, null], null, [], false],
      ['ood-x.accuracy', [null, 0.7, null], 'higher', [], true],
    ]);
    expect(cmp.runs.map((r) => [r.label, r.primaryMetric, r.wallTimeSeconds])).toEqual([
      ['a', 'accuracy', 2.5],
      ['b', 'accuracy', 2.5],
      ['c', 'accuracy', 2.5],
    ]);
  });

  it('has a direction only for the loss unless told', () => {
    const cmp = compareRuns([run('/x/a', { summary: { 'test.loss': 1, 'test.mse': 1 } }), run('/x/b', { summary: { 'test.loss': 2, 'test.mse': 2 } })]);
    expect(cmp.metrics.map((m) => [m.key, m.best])).toEqual([
      ['test.loss', [0]],
      ['test.mse', []],
    ]);
  });

  it('reads final metrics from the last epoch row when run.json has no summary', () => {
    const data = run('/x/a', {
      metrics: [
        { kind: 'epoch', epoch: 1, step: 4, 'test.mse': 2, time: 1 },
        { kind: 'step', step: 5, loss: 9 },
        { kind: 'epoch', epoch: 2, step: 8, 'test.mse': 1, 'test.loss': null, time: 2 },
      ],
    });
    expect([...finalMetricsMap(data).entries()]).toEqual([
      ['test.mse', 1],
      ['test.loss', null],
    ]);
  });

  it('picks no best without a direction, with fewer than two values, or when all are equal', () => {
    expect(bestOf([1, 2], undefined)).toEqual([]);
    expect(bestOf([1, null], 'lower')).toEqual([]);
    expect(bestOf([3, 3], 'higher')).toEqual([]);
    expect(bestOf([3, 4, 4, null], 'higher')).toEqual([1, 2]);
    expect(bestOf([3, Number.NaN, 2], 'lower')).toEqual([2]);
  });
});

describe('compareRuns: headlines', () => {
  it('reads each analysis through readHeadline and aligns the numbers by key, — where missing', () => {
    const declared = {
      name: 'hessian',
      result: { trace: 99 },
      headline: [
        { key: 'lambdaMax', label: 'λ_max (train)', value: 4, exact: true as const, better: 'lower' as const },
        { key: 'trace', label: 'trace', value: 15, stderr: 0.5 },
        { key: 'nEff', label: 'effective dimension', value: 3.2, interval: [2.9, 3.6] as [number, number], level: 0.9 },
      ],
    };
    const legacy = { name: 'hessian', result: { headline: { trace: { value: 16, stderr: 0.4 }, lambdaMax: 3 } } };
    const cmp = compareRuns([
      run('/x/a', { analyses: [declared, { name: 'probe', result: { n: 1 } }] }),
      run('/x/b', { analyses: [legacy] }),
      run('/x/c', { analyses: [{ name: 'probe', result: { n: 2, text: 'no' } }] }),
    ]);
    expect(cmp.headlines.map((a) => [a.id, a.present])).toEqual([
      ['hessian', [true, true, false]],
      ['probe', [true, false, true]],
    ]);
    const [hessian, probe] = cmp.headlines;
    expect(hessian.rows.map((r) => [r.key, r.label, r.better, r.best, r.values])).toEqual([
      ['lambdaMax', 'λ_max (train)', 'lower', [1], [{ value: 4, exact: true }, { value: 3 }, null]],
      ['trace', 'trace', null, [], [{ value: 15, stderr: 0.5 }, { value: 16, stderr: 0.4 }, null]],
      ['nEff', 'effective dimension', null, [], [{ value: 3.2, interval: [2.9, 3.6], level: 0.9 }, null, null]],
    ]);
    expect(probe.rows.map((r) => [r.key, r.values])).toEqual([['n', [{ value: 1 }, null, { value: 2 }]]]);

    const table = compareTables(cmp).find((t) => t.id === 'analysis-hessian')!;
    expect(table.head).toEqual(['headline', 'a', 'b', 'c']);
    expect(table.rows.map((r) => [r.key, r.cells, r.best, r.label])).toEqual([
      ['lambdaMax', ['4', '3', '—'], [false, true, false], 'λ_max (train)'],
      ['trace', ['15 ± 0.5', '16 ± 0.4', '—'], [false, false, false], undefined],
      ['nEff', ['3.2 [2.9, 3.6] (90%)', '—', '—'], [false, false, false], 'effective dimension'],
    ]);
    expect(table.note).toMatch(/best value/);
  });

  it('formats a null headline number as — and keeps its unit', () => {
    expect(formatHeadlineValue({ value: null, note: 'no probes' })).toBe('—');
    expect(formatHeadlineValue({ value: 1.5, exact: true }, 's')).toBe('1.5 s');
    expect(formatHeadlineValue(null)).toBe('—');
  });
});

describe('compareTables', () => {
  it('shows only the loss and primary metric rows when asked, and counts the rest', () => {
    const cmp = compareRuns(
      [run('/x/a', { summary: { 'test.loss': 1, 'test.mse': 1, 'test.r2': 0.1 } }), run('/x/b', { summary: { 'test.loss': 2, 'test.mse': 0.5, 'test.r2': 0.2 } })],
      { better, primaryMetric: () => 'mse' },
    );
    const short = compareTables(cmp, { metrics: 'primary' }).find((t) => t.id === 'metrics')!;
    expect(short.rows.map((r) => [r.key, r.cells, r.best])).toEqual([
      ['test.loss', ['1', '2'], [true, false]],
      ['test.mse', ['1', '0.5'], [false, true]],
    ]);
    expect(short.hidden).toBe(1);
    expect(compareTables(cmp).find((t) => t.id === 'metrics')!.rows).toHaveLength(3);
    const configs = compareTables(cmp).find((t) => t.id === 'configs')!;
    expect(configs.rows).toEqual([]);
    expect(configs.empty).toMatch(/the same/);
  });
});

describe('buildCompareReport', () => {
  it('writes a self-contained page with the tables and one figure of the curves overlaid', async () => {
    const a = join(root, 'seed-1');
    const b = join(root, 'seed-2');
    await writeFixtureRun(a);
    await writeFixtureRun(b, { epochs: 6 });
    const runs = [await readRun(a), await readRun(b)];
    const html = await buildCompareReport(runs, { better: (m) => (m === 'loss' ? 'lower' : m === 'acc' ? 'higher' : undefined), primaryMetric: () => 'acc' });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('<h1>Comparing 2 runs</h1>');
    // the differing config path: train.epochs 12 against 6
    expect(html).toMatch(/<code>train\.epochs<\/code><\/th><td><span class="num">12<\/span><\/td><td><span class="num">6<\/span><\/td>/);
    // one overlaid figure with two panels (loss, acc), both runs in its legend
    expect(html.match(/<figure /g)).toHaveLength(1);
    expect(html.match(/<svg/g)).toHaveLength(1);
    expect(html).toContain('loss and acc per epoch on the train (solid) and test (dashed) splits');
    expect(html).toContain('>seed-1</text>');
    expect(html).toContain('>seed-2</text>');
    // equal final metrics: nothing marked best
    expect(html).not.toContain('★');
    expect(html).toContain('id="analysis-hessian"');
  });
});
