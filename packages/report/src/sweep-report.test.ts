import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSweepReport, curvesFigure, groupMetric, heatmapFigure, lineFigure, readSweep, sweepFigures, sweepMetrics, summaryTables, sweptAxes, writeSweepReport, type SweepInfo, type SweepPointInfo } from './sweep-report';

/** A 2×3 grid (lr × width) with 3 seeds; test.loss = lr·width + seed, so every mean and spread is known. */
function fixture(): SweepInfo {
  const points: SweepPointInfo[] = [];
  for (const lr of [0.1, 0.2]) {
    for (const width of [4, 8, 16]) {
      for (const seed of [1, 2, 3]) {
        const id = `lr=${lr}_width=${width}_seed=${seed}`;
        const failed = lr === 0.2 && width === 16 && seed === 3;
        points.push({
          id,
          dir: id,
          assignments: { 'train.lr': lr, 'model.width': width, seed },
          status: failed ? 'failed' : 'completed',
          ...(failed ? { error: 'analysis "x" failed: <boom>' } : { summary: { 'test.loss': lr * width + seed, 'train.loss': seed } }),
        });
      }
    }
  }
  return {
    name: 'fixture',
    sweep: { paths: ['train.lr', 'model.width', 'seed'], summaryBy: ['train.lr', 'model.width'], grid: { 'train.lr': [0.1, 0.2], 'model.width': [4, 8, 16] }, seeds: [1, 2, 3] },
    points,
  };
}

describe('sweep figures', () => {
  it('orders metrics test first, losses first', () => {
    expect(sweepMetrics([{ id: 'a', assignments: {}, status: 'completed', summary: { 'train.loss': 1, 'test.mse': 1, 'test.loss': 2, other: 3 } }])).toEqual(['test.loss', 'test.mse', 'train.loss', 'other']);
  });

  it('groups give the mean and sample standard deviation over seeds, leaving failed runs out', () => {
    const groups = groupMetric(fixture().points, ['train.lr', 'model.width'], 'test.loss');
    expect(groups).toHaveLength(6);
    const g = groups.find((x) => x.settings['train.lr'] === 0.1 && x.settings['model.width'] === 8)!;
    expect(g.stats.n).toBe(3);
    expect(g.stats.mean).toBeCloseTo(0.8 + 2, 12); // seeds 1, 2, 3
    expect(g.stats.std).toBeCloseTo(1, 12);
    const short = groups.find((x) => x.settings['train.lr'] === 0.2 && x.settings['model.width'] === 16)!;
    expect(short.stats.n).toBe(2);
    expect(short.stats.mean).toBeCloseTo(3.2 + 1.5, 12);
  });

  it('a heat map per metric for a 2-D grid, cells holding the mean over seeds', () => {
    const fig = heatmapFigure(fixture(), 'test.loss', 'train.lr', 'model.width')!;
    const rows = (fig.spec.data as { values: { x: string; y: string; mean: number; n: number }[] }).values;
    expect(rows).toHaveLength(6);
    for (const r of rows) expect(r.mean).toBeCloseTo(Number(r.x) * Number(r.y) + (r.n === 3 ? 2 : 1.5), 12);
    expect((fig.spec.encoding as any).y.sort).toEqual(['4', '8', '16']);
  });

  it('lines with mean ± standard deviation, one per value of the other setting', () => {
    const fig = lineFigure(fixture(), 'test.loss', 'model.width', ['train.lr'])!;
    const rows = (fig.spec.data as { values: { x: number; series: string; mean: number; lo: number; hi: number }[] }).values;
    expect(new Set(rows.map((r) => r.series))).toEqual(new Set(['train.lr=0.1', 'train.lr=0.2']));
    const r = rows.find((q) => q.x === 4 && q.series === 'train.lr=0.1')!;
    expect(r.mean).toBeCloseTo(2.4, 12);
    expect(r.hi - r.mean).toBeCloseTo(1, 12);
    expect(r.mean - r.lo).toBeCloseTo(1, 12);
    const all = sweepFigures(fixture(), ['test.loss']);
    expect(all.map((f) => f.name)).toEqual(['heatmap-test-loss', 'line-test-loss-train-lr', 'line-test-loss-model-width']);
    // no heat map for a one-dimensional sweep
    const oneD = { ...fixture(), sweep: { ...fixture().sweep, paths: ['train.lr', 'seed'], grid: { 'train.lr': [0.1, 0.2] }, summaryBy: ['train.lr'] } };
    expect(sweepFigures(oneD, ['test.loss']).map((f) => f.name)).toEqual(['line-test-loss-train-lr']);
  });

  it('a sweep with parts draws each part over its own axes and points', () => {
    const grid = fixture();
    const scan: SweepPointInfo[] = [1, 2, 3].map((n) => ({ id: `n=${n}`, assignments: { 'task.n': n, seed: 1 }, part: 'scan', status: 'completed', summary: { 'test.loss': 10 * n } }));
    const info: SweepInfo = {
      name: 'parts',
      sweep: {
        paths: ['train.lr', 'model.width', 'task.n', 'seed'],
        summaryBy: ['train.lr', 'model.width', 'task.n'],
        parts: [
          { name: 'map', paths: ['train.lr', 'model.width', 'seed'], grid: grid.sweep.grid, seeds: [1, 2, 3] },
          { name: 'scan', paths: ['task.n', 'seed'], grid: { 'task.n': [1, 2, 3] }, seeds: [1] },
        ],
      },
      points: [...grid.points.map((p) => ({ ...p, part: 'map' })), ...scan],
    };
    const figures = sweepFigures(info, ['test.loss']);
    expect(figures.map((f) => f.name)).toEqual(['map-heatmap-test-loss', 'map-line-test-loss-train-lr', 'map-line-test-loss-model-width', 'scan-line-test-loss-task-n']);
    const line = (figures[3].spec.data as { values: { x: number; mean: number }[] }).values;
    expect(line.map((r) => [r.x, r.mean])).toEqual([[1, 10], [2, 20], [3, 30]]);
    expect(figures[0].title).toBe('map: test.loss: model.width × train.lr');
  });
});

describe('numbers and overlaid curves', () => {
  it('writes the mean on every point of a line figure', async () => {
    const f = lineFigure(fixture(), 'test.loss', 'model.width', ['train.lr'])!;
    const layers = (f.spec as { layer: { mark: { type: string }; encoding: Record<string, { field?: string }> }[] }).layer;
    const text = layers.find((l) => l.mark.type === 'text')!;
    expect(text.encoding.text.field).toBe('label');
    const { renderSvg } = await import('./render-svg');
    const svg = await renderSvg(f.spec);
    // lr 0.1: widths 4, 8, 16 → 0.4, 0.8, 1.6 + 2 (mean seed); lr 0.2, width 16 has seeds 1, 2 only
    for (const label of ['2.4', '2.8', '3.6', '2.8', '3.6', '4.7']) expect(svg).toContain(`>${label}</text>`);
  });

  it('moves zipped settings as one axis', () => {
    const index: SweepInfo = {
      name: 'zip',
      sweep: { paths: ['train.lr', 'train.epochs', 'seed'], summaryBy: ['train.lr', 'train.epochs'], zip: { 'train.lr': [0.1, 0.2], 'train.epochs': [8, 4] } },
      points: [0.1, 0.2].map((lr, i) => ({ id: `p${i}`, assignments: { 'train.lr': lr, 'train.epochs': [8, 4][i], seed: 1 }, status: 'completed', summary: { 'test.loss': lr } })),
    };
    expect(sweptAxes(index)).toEqual(['train.lr']);
    expect(sweepFigures(index, ['test.loss']).map((f) => f.title)).toEqual(['test.loss against train.lr']);
  });

  it('overlays every run’s curve in one figure, one line per run, coloured by the swept setting', async () => {
    const index = fixture();
    const curves = Object.fromEntries(
      index.points.filter((p) => p.status === 'completed').map((p) => [p.id, [1, 2, 3].map((epoch) => ({ kind: 'epoch', epoch, step: epoch * 10, 'test.loss': (p.summary!['test.loss'] as number) / epoch }))]),
    );
    const f = curvesFigure(index, curves, 'test.loss')!;
    const spec = f.spec as { data: { values: { run: string; setting: number }[] }; encoding: Record<string, { field: string; type: string }> };
    expect(new Set(spec.data.values.map((v) => v.run)).size).toBe(17);
    expect(spec.encoding.detail.field).toBe('run');
    expect(spec.encoding.color).toMatchObject({ field: 'setting', type: 'quantitative', title: 'train.lr' });
    expect(f.caption).toContain('17 runs, one line each, coloured by train.lr (the other settings: model.width)');
    // read from the runs' metrics.jsonl by readSweep and drawn in the report
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-sweep-report-'));
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify(index));
    for (const [id, rows] of Object.entries(curves)) {
      mkdirSync(join(dir, id));
      writeFileSync(join(dir, id, 'metrics.jsonl'), [{ kind: 'step', step: 1, loss: 1 }, ...rows].map((r) => JSON.stringify(r)).join('\n') + '\n');
    }
    const data = await readSweep(dir);
    expect(Object.keys(data.curves!)).toHaveLength(17);
    expect(data.curves![index.points[0].id].every((r) => r.kind === 'epoch')).toBe(true);
    const html = await buildSweepReport(data);
    const start = html.indexOf('<section id="curves">');
    expect(start).toBeGreaterThan(0);
    const section = html.slice(start, html.indexOf('</section>', start));
    expect(section).toContain('test.loss per epoch, every run overlaid');
    // one line per run
    expect((section.match(/<path[^>]*aria-roledescription="line mark"/g) ?? []).length).toBe(17);
  });
});

describe('the sweep report', () => {
  it('shows failures (escaped), the table of means ± spread, figures, analysis summaries and every run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-sweep-report-'));
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify(fixture()));
    mkdirSync(join(dir, 'summaries'));
    writeFileSync(join(dir, 'summaries', 'metrics.json'), '{}');
    writeFileSync(
      join(dir, 'summaries', 'probe.json'),
      JSON.stringify({ runs: ['a', 'b'], result: { exponent: 4.1 }, figures: [{ name: 'f', title: 'Probe figure', spec: { data: { values: [{ a: 1, b: 2 }] }, mark: 'point', encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } } } }] }),
    );
    writeFileSync(join(dir, 'summaries', 'broken.json'), JSON.stringify({ runs: [], error: 'fit needs 2 runs' }));
    const data = await readSweep(dir);
    expect(data.summaries.map((s) => s.name)).toEqual(['broken', 'probe']);
    const html = await buildSweepReport(data);
    expect(html).toContain('1 point failed');
    expect(html).toContain('&lt;boom&gt;');
    expect(html).not.toContain('<boom>');
    expect(html).toContain('2.8 ± 1 (n=3)'); // lr 0.1, width 8 → 0.8 + mean(1,2,3)
    expect(html).toContain('test.loss: model.width × train.lr');
    expect(html).toContain('Probe figure');
    expect(html).toContain('fit needs 2 runs');
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(4);
    const path = await writeSweepReport(dir);
    expect(path).toBe(join(dir, 'sweep-report.html'));
    expect(readFileSync(path, 'utf8')).toBe(html);
  });

  it("renders a summary's flat row arrays as tables and its string arrays as lists, the JSON kept below", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-sweep-report-'));
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify(fixture()));
    mkdirSync(join(dir, 'summaries'));
    const table = [
      { group: 'all', complexity: 'lambdaMax', outcome: 'test.auc', estimate: '-0.62 [-0.85, -0.31] (n=12)', rho: -0.6213, lo: -0.85, hi: -0.31, pairs: 12 },
      { group: 'all', complexity: 'trace', outcome: 'test.auc', estimate: '— (n=2)', rho: null, lo: null, hi: null, pairs: 2 },
    ];
    const result = { runs: 12, table, notes: ['robustness: missing in <1> run'], nested: [{ a: [1] }] };
    writeFileSync(join(dir, 'summaries', 'correlations.json'), JSON.stringify({ runs: ['a'], result }));
    const html = await buildSweepReport(await readSweep(dir));
    const section = html.slice(html.indexOf('Summary: correlations'));
    expect(section).toContain('<h3>table</h3><table class="cols"><thead><tr><th scope="col">group</th><th scope="col">complexity</th><th scope="col">outcome</th><th scope="col">estimate</th>');
    expect(section).toContain('<td>-0.62 [-0.85, -0.31] (n=12)</td>');
    expect(section).toContain('<span class="num">-0.6213</span>');
    expect(section).toContain('<li>robustness: missing in &lt;1&gt; run</li>');
    expect(section).not.toContain('<h3>nested</h3>'); // not flat rows: only in the JSON
    expect(section).toContain('<details><summary>Result</summary>'); // collapsed below the tables
    expect(summaryTables({ rows: Array.from({ length: 501 }, (_, i) => ({ i })) })).toContain('First 500 of 501 rows');
    expect(summaryTables([1, 2])).toBe('');
  });

  it('states the claims a summary tested, with their verdicts, before the metrics', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-sweep-report-'));
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify(fixture()));
    mkdirSync(join(dir, 'summaries'));
    const claims = [{ claim: 'flatter <generalises>', x: 'lambdaMax', y: 'test.auc', expect: 'negative', verdict: 'partly', reason: 'pooled ρ = -0.20 [-0.45, 0.05] (n=40)' }];
    writeFileSync(join(dir, 'summaries', 'correlations.json'), JSON.stringify({ runs: ['a'], result: { claims } }));
    const html = await buildSweepReport(await readSweep(dir));
    const at = html.indexOf('<h2>Claims tested</h2>');
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(html.indexOf('Summary: correlations'));
    expect(html).toContain('<td>flatter &lt;generalises&gt;</td><td>partly</td><td>pooled ρ = -0.20 [-0.45, 0.05] (n=40)</td>');
  });
});
