// End to end: a tiny sweep through @goldstone/sweep's in-process executor, hessian then correlations
// in every run, and the sweep's summaries/correlations.json over the completed runs.
import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { PluginEnvironment } from '@goldstone/runner';
import { InProcessExecutor, runSweep } from '@goldstone/sweep';

const here = dirname(fileURLToPath(import.meta.url));
// Built-ins resolve from this package's dev dependencies; this package itself from its source.
const env: PluginEnvironment = {
  builtins: { task: { clt: '@goldstone/task-clt' }, model: { mlp: '@goldstone/models' }, analysis: { hessian: '@goldstone/analysis-hessian' } },
  bases: [join(here, '..')],
};

const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));

describe('correlations in a sweep', () => {
  it('writes summaries/correlations.json with the table, the heat map and the trend figure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-correlations-'));
    const file = join(dir, 'exp.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'tiny-correlations',
        backend: 'cpu',
        plugins: [join(here, 'index.ts')],
        task: { name: 'clt', options: { sites: 4, block: 2, trainSize: 32, testSize: 16 } },
        model: { name: 'mlp', options: { hidden: [3], activation: 'tanh' } },
        train: { optimizer: 'adam', lr: 0.01, epochs: 2, batchSize: 16 },
        analyses: [
          { name: 'hessian', options: { method: 'exact', maxExamples: 32, lossLines: 0, figures: false } },
          { name: 'correlations', options: { resamples: 200, groupBy: 'model.options.hidden', trend: { x: 'train.lr', lines: 'model.options.hidden' } } },
        ],
        sweep: { grid: { 'train.lr': [0.003, 0.03], 'model.options.hidden': [[2], [3]] }, seeds: [1, 2] },
      }),
    );
    const out = join(dir, 'out');
    const res = await runSweep({ file, env, executor: new InProcessExecutor(), out, report: false });
    expect(res.failed).toBe(0);
    expect(res.index.counts.completed).toBe(8);
    const s = readJson(join(out, 'summaries', 'correlations.json'));
    expect(s).toMatchObject({ analysis: 'correlations', id: 'correlations' });
    expect(s.error).toBeUndefined();
    expect(s.runs).toHaveLength(8);
    expect(s.result.runs).toBe(8);
    expect(s.result.metric).toBe('mse');
    expect(s.result.complexity).toEqual(['lambdaMax', 'trace', 'effectiveDimension', 'logDet', 'nearZeroModes']);
    expect(s.result.outcomes).toEqual(expect.arrayContaining(['test.mse', 'gap.mse']));
    // pooled, then one table per hidden width
    expect(s.result.groups).toEqual([
      { group: 'all', n: 8 },
      { group: 'model.options.hidden=[2]', n: 4 },
      { group: 'model.options.hidden=[3]', n: 4 },
    ]);
    expect(s.result.table).toHaveLength(3 * s.result.complexity.length * s.result.outcomes.length);
    const cell = s.result.table.find((r: any) => r.group === 'all' && r.complexity === 'lambdaMax' && r.outcome === 'test.mse');
    expect(cell.pairs).toBe(8);
    expect(cell.rho).toBeGreaterThanOrEqual(-1);
    expect(cell.rho).toBeLessThanOrEqual(1);
    expect(cell.lo).toBeLessThanOrEqual(cell.hi);
    // Every run's λ_max came from its own hessian result.
    for (const p of res.index.points) {
      const h = readJson(join(out, p.dir, 'analyses', 'hessian.json'));
      const c = readJson(join(out, p.dir, 'analyses', 'correlations.json'));
      expect(c.result.complexity.lambdaMax).toBe(h.result.topEigenvalues[0]);
      expect(h.result.headline.excluded).toEqual([]); // exact spectra: every number fit to quote
      expect(c.result.complexity.effectiveDimension).toBe(h.result.effectiveDimensionRelative.value);
      expect(c.result.notes).toEqual([]); // every default path resolved in the hessian's result
    }
    const names = s.figures.map((f: any) => f.name);
    expect(names).toContain('correlations');
    expect(names).toContain('trend-lambdaMax');
    const heat = s.figures.find((f: any) => f.name === 'correlations');
    expect(heat.spec.layer[0].encoding.color.scale.domain).toEqual([-1, 1]);
    const trend = s.figures.find((f: any) => f.name === 'trend-lambdaMax');
    expect(trend.spec.layer[0].encoding.x.scale).toEqual({ type: 'log' });
    const lines = s.result.trend.filter((t: any) => t.metric === 'lambdaMax' && t.group === undefined);
    expect(lines.map((t: any) => [t.x, t.line, t.count])).toEqual(expect.arrayContaining([[0.003, '[2]', 2], [0.03, '[3]', 2]]));
    expect(lines).toHaveLength(4);
  }, 600_000);
});
