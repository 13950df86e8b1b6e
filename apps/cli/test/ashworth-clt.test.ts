/**
 * The learned-RG-map study (experiments/ashworth-clt.yaml, docs/learned-rg-maps.md) at its `--quick` size, end
 * to end on the built binary: a sweep of 10 runs (sign-constrained and tied + shared ReLU block maps,
 * the linear tied + shared map, free ReLU and tanh MLPs, 2 seeds each) on uniform spins, each with
 * the cumulants analysis; then the sweep-level cumulants summary (headline and RG-flow figures, the
 * claims with verdicts) and the sweep report.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { quickSweep, readJson } from './experiment-sweep';

const VERDICTS = ['reproduced', 'partly', 'not reproduced', 'contradicted', 'not measured'];

describe('experiments/ashworth-clt.yaml --quick', () => {
  let run: ReturnType<typeof quickSweep>;
  let out = '';
  beforeAll(() => {
    run = quickSweep('ashworth-clt.yaml', 1);
    out = run.out;
  }, 960_000);

  it('runs every point to completion', () => {
    expect(run.code, run.stderr).toBe(0);
    const index = readJson(join(out, 'sweep.json'));
    expect(index.points).toHaveLength(10);
    expect(index.points.every((p: any) => p.status === 'completed')).toBe(true);
  });

  it('the linear tied + shared map is exact: every κₙ error on the test split covers 0, and so does its RG flow', () => {
    const index = readJson(join(out, 'sweep.json'));
    const point = index.points.find((p: any) => p.assignments.model.name === 'block-mlp' && p.assignments.model.options.activation === 'identity');
    const r = readJson(join(out, point.dir, 'analyses', 'cumulants.json')).result;
    const test = r.splits.test.orders;
    expect(test.map((o: any) => o.n)).toEqual([1, 2, 3, 4]);
    for (const o of test) expect(o.error.coversZero, `κ${o.n}: ${JSON.stringify(o.error)}`).toBe(true);
    expect(r.splits.test.mse).toBeLessThan(1e-6);
    expect(r.flow.iterable).toBe(true);
    expect(r.flow.steps).toHaveLength(3);
    for (const s of r.flow.steps) for (const o of s.orders) expect(o.error.coversZero, `k=${s.k} κ${o.n}`).toBe(true);
    expect(r.splits['ood-student-t']).toBeDefined();
    expect(r.splits['ood-uniform-x2']).toBeDefined();
  });

  it('summarises the sweep by model class and activation, with the headline and RG-flow figures and a verdict for every claim', () => {
    const summary = readJson(join(out, 'summaries', 'cumulants.json'));
    const r = summary.result;
    expect(r.runs).toBe(10);
    expect(r.classes).toEqual(['sign-constrained', 'tied+shared', 'free']);
    expect(new Set(r.lineValues)).toEqual(new Set(['relu', 'identity', 'tanh']));
    for (const g of r.groups) {
      expect(g.runs).toBe(2);
      expect(g.oodMse).not.toBeNull();
    }
    expect(r.groups.find((g: any) => g.class === 'tied+shared' && g.line === 'identity').exact).toBe(true);
    expect(r.claims).toHaveLength(3);
    for (const c of r.claims) {
      expect(VERDICTS).toContain(c.verdict);
      expect(c.reason.length).toBeGreaterThan(0);
    }
    // the exact linear map is the one exact iterable class, so the flow claim is measured
    expect(r.claims[2].verdict).not.toBe('not measured');
    expect(summary.figures.map((f: any) => f.name)).toEqual(['cumulants-headline', 'cumulants-rg-flow']);
    const flow = r.flow.filter((p: any) => p.class === 'tied+shared' && p.line === 'identity' && p.n === 4);
    expect(flow.map((p: any) => p.k)).toEqual([0, 1, 2, 3]);
    for (const p of flow) expect(p.theory).toBeCloseTo(-1.2 * 2 ** -p.k, 6);

    const html = readFileSync(join(out, 'sweep-report.html'), 'utf8');
    expect(html).toContain('<h2>Claims tested</h2>');
    expect(html).toContain('Over-constrained models generalise poorly');
    expect(html).toContain('RG flow: κₙ of the iterated learned map');
    expect(html).toContain('OOD error and cumulant errors against model class');
  });
});
