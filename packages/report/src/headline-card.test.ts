import { describe, expect, it } from 'vitest';
import type { RunData } from '@goldstone/run-store/format';
import { errorBar, exactComparisons, finalMetrics, metricGrid, worstOod } from './headline-card';
import { buildRunReport, provenanceRows } from './run-report';

/** The HTML of the section with `id`, up to the next section. */
function sectionOf(html: string, id: string): string {
  const start = html.search(new RegExp(`<section id="${id}"[ >]`));
  expect(start).toBeGreaterThanOrEqual(0);
  const end = html.indexOf('<section', start + 1);
  return html.slice(start, end < 0 ? undefined : end);
}

/** The rows of the first table in `html`, as cell texts (tags stripped). */
function tableRows(html: string): string[][] {
  const table = /<table[\s\S]*?<\/table>/.exec(html)![0];
  return [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1].matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => c[1].replace(/<[^>]+>/g, '')));
}

const eigensolver = 'Householder tridiagonalisation + implicit QL; eigenvectors by inverse iteration';

/** A CLT-like regression run: 5,120 steps trained, logged every 10th, with exact cumulants in run.json. */
function cltRun(): RunData {
  const metrics: RunData['metrics'] = [];
  for (let i = 1; i <= 512; i++) metrics.push({ kind: 'step', step: i * 10, epoch: (i * 10) / 512, loss: 1 / i });
  const final = {
    'train.mse': 0.01, 'train.loss': 0.01, 'train.predK2': 0.98, 'train.predK3': 1.3,
    'test.mse': 0.02, 'test.loss': 0.021, 'test.predK2': 0.97, 'test.predK3': 1.25,
    'ood-gaussian.mse': 0.05, 'ood-gaussian.loss': 0.05, 'ood-gaussian.predK2': 1.01, 'ood-gaussian.predK3': 0.02,
    'ood-laplace.mse': 0.4, 'ood-laplace.loss': 0.4,
  };
  metrics.push({ kind: 'epoch', epoch: 10, step: 5120, time: 12, ...final });
  return {
    dir: '/runs/clt',
    run: {
      name: 'clt-mlp',
      status: 'completed',
      config: { train: { epochs: 10 } },
      task: {
        outputKind: 'regression',
        noise: 0.1,
        exactSolution: { kind: 'linear', description: 'y_j = (1/√b) Σ x_i', weight: Math.SQRT1_2, bias: 0 },
        cumulantMap: 'κn′ = b^(1 − n/2) κn',
        splits: {
          train: { exact: { target: [0, 1.01, 1.41421356, 3] }, kStatistics: { target: [0.01, 1.02, 1.4, 2.9] } },
          test: { exact: { target: [0, 1, 1.41421356, 3] }, kStatistics: { target: [0.01, 1.03, 1.33, 2.2] } },
          'ood-gaussian': { exact: { target: [0, 1, 0, 0] } },
          'ood-laplace': { exact: { target: [0, 1, 0, 1.5] } },
        },
      },
      summary: final,
    },
    metrics,
    analyses: [
      {
        name: 'hessian',
        result: { lambdaMax: 4.2 },
        headline: [
          { key: 'lambdaMax', label: 'λ_max, top Hessian eigenvalue (train)', value: 4.2, exact: true },
          { key: 'trace', label: 'trace of the Hessian', value: 15.03, stderr: 0.21 },
          { key: 'neff', label: 'effective dimension', value: 3.2, interval: [2.9, 3.6], level: 0.95 },
          { key: 'goldstone', label: 'Goldstone curvature', value: null, note: 'no generator was given' },
        ],
        figures: [],
        provenance: {
          analysis: 'hessian',
          seed: 1,
          backend: 'cpu',
          estimators: Object.fromEntries(['topEigenvalues', 'bottomEigenvalues', 'trace', 'density', 'spectrum', 'nearZeroModes'].map((k) => [k, { estimator: 'dense', eigensolver }])),
        },
      },
      // a result stored before analyses declared headlines: read from its shape
      { name: 'weight-norms', result: { total: 4.052 }, provenance: { analysis: 'weight-norms', seed: 1, backend: 'cpu' } },
    ],
    warnings: [],
  };
}

describe('the headline card', () => {
  it('opens the report: run and status, steps trained, held-out metrics, worst OOD split, every headline with its error bar', async () => {
    const html = await buildRunReport(cltRun());
    const card = sectionOf(html, 'headline');
    expect(html.indexOf('<section id="headline"')).toBeLessThan(html.indexOf('<section id="overview"'));
    expect(card).toContain('clt-mlp <span class="badge status-completed">completed</span>');
    expect(card).toContain('5,120 steps · 10 of 10 epochs');
    // the regression task's primary metric (mse) and the loss, on the test split
    expect(card).toMatch(/held out \(test\)<\/div><div class="fact-value">mse <span class="num">0\.02<\/span> · loss <span class="num">0\.021<\/span>/);
    expect(card).toContain('ood-laplace: mse <span class="num">0.4</span> <span class="muted">(of 2 splits)</span>');
    const rows = tableRows(card);
    expect(rows[0]).toEqual(['analysis', 'number', 'value', 'error bar', 'note']);
    expect(rows[1]).toEqual(['hessian', 'λ_max, top Hessian eigenvalue (train)', '4.2', 'exact', '']);
    expect(rows[2]).toEqual(['trace of the Hessian', '15.03', '± 0.21', '']);
    expect(rows[3]).toEqual(['effective dimension', '3.2', '[2.9, 3.6] 95 %', '']);
    expect(rows[4]).toEqual(['Goldstone curvature', '—', '', 'no generator was given']);
    expect(rows[5]).toEqual(['weight-norms', 'total', '4.052', 'not recorded (older result)', '']);
  });

  it('reads the primary metric from the task output kind and the worst split by its direction', () => {
    const final = { 'test.accuracy': 0.9, 'ood-a.accuracy': 0.7, 'ood-b.accuracy': 0.8, 'train.accuracy': 0.5 };
    expect(worstOod(final, 'accuracy')).toEqual({ split: 'ood-a', value: 0.7, of: 2 });
    expect(worstOod({ 'ood-a.mse': 0.1, 'ood-b.mse': 0.3 }, 'mse')).toEqual({ split: 'ood-b', value: 0.3, of: 2 });
    expect(worstOod({ 'test.mse': 1 }, 'mse')).toBeUndefined();
    expect(errorBar({ key: 'k', label: 'k', value: 1, interval: [0.5, 2], level: 0.9 })).toBe('[0.5, 2] 90 %');
    expect(errorBar({ key: 'k', label: 'k', value: null, note: 'n' })).toBe('');
  });
});

describe('final metrics', () => {
  it('is a split × metric grid, primary metric and loss first, the full list folded', async () => {
    const html = await buildRunReport(cltRun());
    const section = sectionOf(html, 'metrics');
    const rows = tableRows(section);
    expect(rows[0]).toEqual(['split', 'mse', 'loss', 'predK2', 'predK3']);
    expect(rows.map((r) => r[0])).toEqual(['split', 'train', 'test', 'ood-gaussian', 'ood-laplace']);
    expect(rows[4]).toEqual(['ood-laplace', '0.4', '0.4', '—', '—']);
    expect(section).toContain('<details><summary>All 14 final metrics as a list</summary>');
    // the overview no longer repeats the list
    expect(sectionOf(html, 'overview')).not.toContain('test.predK2');
  });

  it('keeps only known splits: a summary entry like hessian.lambdaMax is not a split', () => {
    const data = cltRun();
    data.run.summary = { ...data.run.summary, 'hessian.lambdaMax': 4.2 };
    expect(finalMetrics(data)['hessian.lambdaMax']).toBeUndefined();
    expect(metricGrid(finalMetrics(data), 'mse').rows.map((r) => r[0])).toEqual(['train', 'test', 'ood-gaussian', 'ood-laplace']);
  });
});

describe('learned vs exact', () => {
  it('sets the outputs’ cumulants and the MSE beside what the task knows exactly, with the differences', async () => {
    const data = cltRun();
    const rows = exactComparisons(data);
    expect(rows.find((r) => r.split === 'test' && r.quantity === 'κ₃')).toEqual({ split: 'test', quantity: 'κ₃', learned: 1.25, exact: 1.41421356, sample: 1.33 });
    expect(rows.find((r) => r.split === 'train' && r.quantity === 'MSE')!.exact).toBeCloseTo(0.01, 12); // the label noise σ²
    expect(rows.find((r) => r.split === 'test' && r.quantity === 'MSE')!.exact).toBe(0);
    const html = await buildRunReport(data);
    const section = sectionOf(html, 'exact');
    expect(section).toContain('Exact solution: y_j = (1/√b) Σ x_i.');
    const grid = tableRows(section);
    expect(grid[0]).toEqual(['split', 'κ₂ learned', 'κ₂ exact', 'κ₂ Δ', 'κ₃ learned', 'κ₃ exact', 'κ₃ Δ', 'MSE learned', 'MSE exact', 'MSE Δ']);
    expect(grid[2].slice(0, 7)).toEqual(['test', '0.97', '1', '-0.03', '1.25', '1.414', '-0.1642']);
    expect(html).toContain('<a href="#exact">Learned vs exact</a>');
  });

  it('is left out when the task records no exact solution', async () => {
    const data = cltRun();
    data.run.task = { outputKind: 'regression' };
    expect(exactComparisons(data)).toEqual([]);
    expect(await buildRunReport(data)).not.toContain('<section id="exact"');
  });
});

describe('provenance', () => {
  it('is folded once per analysis, without repeating a sentence', async () => {
    const html = await buildRunReport(cltRun());
    const hessian = sectionOf(html, 'analysis-hessian');
    expect(hessian.match(/<details class="provenance">/g)).toHaveLength(1);
    expect(hessian.split(eigensolver).length - 1).toBe(1);
    const rows = provenanceRows(cltRun().analyses[0].provenance);
    expect(rows).toContainEqual(['estimators.topEigenvalues, bottomEigenvalues, trace, density, spectrum, nearZeroModes.eigensolver', eigensolver]);
    // a long string met again under a different parent points back to the first
    const again = provenanceRows({ a: { how: eigensolver, n: 1 }, b: { how: eigensolver, n: 2 } });
    expect(again).toContainEqual(['b.how', 'same as a.how']);
  });
});
