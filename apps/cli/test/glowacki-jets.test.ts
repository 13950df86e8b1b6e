/**
 * The jet study (experiments/glowacki-jets.yaml, docs/jets-soft-symmetry.md) at its `--quick` size, end to end on
 * the built binary: a sweep of 16 runs (two models × λ ∈ {0, 1} × ε ∈ {0, 0.05} × 2 seeds), each
 * training with the soft rotation penalty and running the Hessian of the data loss and of the
 * trained objective, compressibility, robustness, distillation and the correlations row; then the
 * sweep-level correlation summary with its claims and the sweep report.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bin, experimentFile, quickSweep, readJson } from './experiment-sweep';

describe('experiments/glowacki-jets.yaml --quick', () => {
  let run: ReturnType<typeof quickSweep>;
  let out = '';
  beforeAll(() => {
    run = quickSweep('glowacki-jets.yaml', 2);
    out = run.out;
  }, 1_260_000);

  it('runs every point to completion', () => {
    expect(run.code, run.stderr).toBe(0);
    const index = readJson(join(out, 'sweep.json'));
    expect(index.points).toHaveLength(16);
    expect(index.points.every((p: any) => p.status === 'completed')).toBe(true);
  });

  it("each run records the τ₂₁ baseline, the generator direction (checked) and the trained objective's terms", () => {
    const index = readJson(join(out, 'sweep.json'));
    const penalised = index.points.find((p: any) => p.assignments['train.symmetryPenalty.lambda'] === 1 && p.assignments.model.name === 'deep-sets');
    const dir = join(out, penalised.dir);
    const runJson = readJson(join(dir, 'run.json'));
    expect(runJson.task.baselines.tau21Auc).toBeGreaterThan(0.55);
    const data = readJson(join(dir, 'analyses', 'hessian.json'));
    const rotation = data.result.generators.find((g: any) => g.name === 'rotation');
    expect(rotation.functionalCheck.agrees).toBe(true);
    expect(rotation.percentile).toBeGreaterThanOrEqual(0);
    expect(rotation.bottomOverlap.value).toBeGreaterThanOrEqual(0);
    const total = readJson(join(dir, 'analyses', 'hessian-total.json'));
    expect(total.provenance.objective).toBe('total');
    expect(total.provenance.objectiveTerms.symmetryPenalty).toMatchObject({ form: 'generator', lambda: 1 });
    expect(readdirSync(join(dir, 'analyses')).sort()).toEqual(['compressibility.json', 'correlations.json', 'distillation.json', 'hessian-total.json', 'hessian.json', 'robustness.json', 'sharpness.json']);
    const robustness = readJson(join(dir, 'analyses', 'robustness.json'));
    expect(robustness.result.headline.invariance.rotation).toBeGreaterThan(0);
    expect(robustness.result.headline.perturbationDrop['soft-particles']).not.toBeNull();
  });

  it('summarises the sweep: ρ with intervals for every pair, trends against λ per ε, a verdict for every claim', () => {
    const summary = readJson(join(out, 'summaries', 'correlations.json'));
    const r = summary.result;
    expect(r.runs).toBe(16);
    expect(r.groups.map((g: any) => g.group)).toEqual(['all', 'model.name=deep-sets', 'model.name=mlp']);
    const cell = r.table.find((t: any) => t.group === 'all' && t.complexity === 'lambdaMax' && t.outcome === 'test.auc');
    expect(cell.pairs).toBe(16);
    expect(cell.lo).toBeLessThanOrEqual(cell.rho);
    expect(cell.hi).toBeGreaterThanOrEqual(cell.rho);
    expect(r.claims).toHaveLength(12);
    for (const c of r.claims) expect(['reproduced', 'partly', 'not reproduced', 'contradicted', 'not measured']).toContain(c.verdict);
    expect(r.claims.filter((c: any) => c.verdict === 'not measured')).toEqual([]);
    const names = summary.figures.map((f: any) => f.name);
    expect(names).toContain('correlations');
    expect(names).toContain('trend-generatorCurvature');
    const trend = r.trend.filter((p: any) => p.metric === 'generatorCurvature');
    expect(new Set(trend.map((p: any) => p.line))).toEqual(new Set(['0', '0.05']));
    const html = readFileSync(join(out, 'sweep-report.html'), 'utf8');
    expect(html).toContain('<h2>Claims tested</h2>');
    expect(html).toContain('Complexity against outcomes');
  });
});

describe('experiments/jets-tagger.yaml --quick', () => {
  it('trains the energy-flow tagger and records its AUC beside the τ₂₁ baseline', () => {
    const tagger = experimentFile('jets-tagger.yaml');
    const out = join(mkdtempSync(join(tmpdir(), 'goldstone-tagger-')), 'run');
    const r = spawnSync(process.execPath, [bin, 'run', tagger, '--quick', '--out', out], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 600_000 });
    expect(r.status, r.stderr).toBe(0);
    const runJson = readJson(join(out, 'run.json'));
    expect(runJson.status).toBe('completed');
    expect(runJson.task.baselines.tau21Auc).toBeGreaterThan(0.6);
    expect(runJson.summary['test.auc']).toBeGreaterThan(0.5);
  });
});
