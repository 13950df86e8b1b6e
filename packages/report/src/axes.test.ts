import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { axisIssues, labelAxes, sqrtTicks, symlogTicks } from './axes';
import { renderSvg } from './render-svg';

interface FixtureFigure {
  run: string;
  analysis: string;
  name: string;
  spec: Record<string, unknown>;
}

const fixture = JSON.parse(readFileSync(new URL('../test/fixtures/analysis-figures.json', import.meta.url), 'utf8')) as { figures: FixtureFigure[] };

/** The text of every tick label in a rendered SVG, per axis, in order. */
function tickLabels(svg: string): string[][] {
  return [...svg.matchAll(/role-axis-label[^>]*>([\s\S]*?)<\/g>/g)].map((m) => [...m[1].matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((t) => t[1]));
}

describe('axisIssues', () => {
  it('finds an axis without a title and a log axis that hides its scale', async () => {
    const spec = {
      data: { values: [{ a: 1, b: -3 }, { a: 100, b: 2 }] },
      mark: 'point',
      encoding: { x: { field: 'a', type: 'quantitative', title: 'a', scale: { type: 'log' } }, y: { field: 'b', type: 'quantitative', title: null } },
    };
    const issues = axisIssues(await renderSvg(spec, { labelAxes: false }));
    expect(issues).toHaveLength(2);
    expect(issues[0]).toContain("log axis titled 'a' does not say it is log scale");
    expect(issues[1]).toMatch(/^axis without a title/);
    expect(axisIssues(await renderSvg(spec))).toEqual([]);
  });
});

describe('labelAxes', () => {
  it('names non-linear scales in titles, once, on axes and legends', () => {
    const spec = labelAxes({
      data: { values: [{ x: 1, y: -0.5, z: 0.1 }, { x: 10, y: 40, z: 3 }] },
      mark: 'point',
      encoding: {
        x: { field: 'x', type: 'quantitative', title: 'λ', scale: { type: 'log' } },
        y: { field: 'y', type: 'quantitative', title: 'density', scale: { type: 'symlog', constant: 0.01 } },
        color: { field: 'z', type: 'quantitative', title: 'loss', scale: { type: 'sqrt' } },
      },
    }) as { encoding: Record<string, { title: string; axis?: Record<string, unknown> }> };
    expect(spec.encoding.x.title).toBe('λ (log scale)');
    expect(spec.encoding.x.axis?.labelOverlap).toBe('greedy');
    expect(spec.encoding.y.title).toBe('density (symlog scale)');
    expect(spec.encoding.y.axis?.values).toEqual([-0.1, 0, 0.1, 1, 10]);
    expect(spec.encoding.color.title).toBe('loss (square-root scale)');
    // idempotent, and a title that already names its scale is kept
    expect((labelAxes(spec) as typeof spec).encoding.x.title).toBe('λ (log scale)');
    const named = labelAxes({ mark: 'point', encoding: { x: { field: 'p', type: 'quantitative', title: 'p (log axis)', scale: { type: 'log' } } } }) as typeof spec;
    expect(named.encoding.x.title).toBe('p (log axis)');
  });

  it('gives layered channels the title another layer set, so Vega does not join field names', () => {
    const spec = labelAxes({
      data: { values: [{ x: 1, lo: 0, hi: 2, mean: 1 }] },
      layer: [
        { mark: 'area', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
        { mark: 'line', encoding: { x: { field: 'x', type: 'quantitative', title: 'lr' }, y: { field: 'mean', type: 'quantitative', title: 'test.loss' } } },
      ],
    }) as { layer: { encoding: Record<string, { title?: string }> }[] };
    expect(spec.layer[0].encoding.y.title).toBe('test.loss');
    expect(spec.layer[0].encoding.x.title).toBe('lr');
  });

  it('ticks a symlog axis with 0 and whole decades either side, readable below 0', async () => {
    expect(symlogTicks(-0.3, 0.5, 1e-4)).toEqual([-0.1, -0.01, -0.001, 0, 0.001, 0.01, 0.1]);
    // decades inside 10·C of zero are left out: they would crowd the 0 tick
    expect(symlogTicks(-1e-6, 2, 0.01)).toEqual([0, 0.1, 1]);
    // a positive density reaching down to ~0 gets its 0 tick
    expect(symlogTicks(1e-7, 3, 1e-3)).toEqual([0, 0.01, 0.1, 1]);
    // a wide range: at most 5 decades a side
    expect(symlogTicks(0, 1e12, 1).length).toBeLessThanOrEqual(6);
    expect(sqrtTicks(0, 100)).toEqual([0, 6.3, 25, 56, 100]);
    const svg = await renderSvg({
      data: { values: [-0.3, -0.02, 0, 0.004, 0.5].map((v, i) => ({ i, v })) },
      mark: 'point',
      encoding: { x: { field: 'i', type: 'quantitative', title: 'rank' }, y: { field: 'v', type: 'quantitative', title: 'eigenvalue λ', scale: { type: 'symlog', constant: 1e-4 } } },
    });
    const labels = tickLabels(svg).find((l) => l.includes('0'))!;
    expect(labels).toEqual(expect.arrayContaining(['−0.1', '−0.01', '0', '0.01', '0.1']));
  });

  it('keeps the labels of a log axis apart', async () => {
    const values = Array.from({ length: 40 }, (_, i) => ({ x: 10 ** (-6 + (i * 7) / 39), y: i }));
    const spec = { width: 260, data: { values }, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative', title: 'σ', scale: { type: 'log' }, axis: { format: '~g', labelOverlap: false } }, y: { field: 'y', type: 'quantitative', title: 'i' } } };
    const visible = (svg: string) => {
      const axis = /aria-label="X-axis[\s\S]*?role-axis-label[^>]*>([\s\S]*?)<\/g>/.exec(svg)![1];
      return [...axis.matchAll(/<text text-anchor="(\w+)" transform="translate\(([-\d.]+),[^"]*"[^>]*opacity="1">([^<]*)<\/text>/g)].map((m) => {
        // about 0.6 em per character at 11 px
        const w = m[3].length * 6.6;
        const x = Number(m[2]);
        const left = m[1] === 'start' ? x : m[1] === 'end' ? x - w : x - w / 2;
        return { left, right: left + w, text: m[3] };
      });
    };
    const overlaps = (labels: { left: number; right: number }[]) => labels.slice(1).filter((l, i) => l.left < labels[i].right).length;
    // every decade labelled in 260 px, the overlap check off: labels collide as the spec stands
    expect(overlaps(visible(await renderSvg(spec, { labelAxes: false })))).toBeGreaterThan(0);
    const labels = visible(await renderSvg(spec));
    expect(labels.length).toBeGreaterThanOrEqual(3);
    expect(overlaps(labels), labels.map((l) => l.text).join(' ')).toBe(0);
  });

  it('leaves a spec alone where it already set tick values', () => {
    const spec = labelAxes({
      data: { values: [{ v: -5 }, { v: 5 }] },
      mark: 'tick',
      encoding: { x: { field: 'v', type: 'quantitative', title: 'v (symlog scale)', scale: { type: 'symlog' }, axis: { values: [-5, 0, 5] } } },
    }) as { encoding: { x: { axis: Record<string, unknown> } } };
    expect(spec.encoding.x.axis).toEqual({ values: [-5, 0, 5] });
  });
});

describe('every figure the shipped analyses draw', () => {
  it('has a title on every axis, and names its non-linear scales', async () => {
    expect(fixture.figures.length).toBeGreaterThan(30);
    const analyses = new Set(fixture.figures.map((f) => f.analysis));
    for (const a of ['hessian', 'sharpness', 'robustness', 'distillation', 'compressibility', 'variance-flatness', 'landscape', 'grokking', 'cumulants']) expect(analyses).toContain(a);
    const problems: string[] = [];
    let axes = 0;
    for (const f of fixture.figures) {
      const svg = await renderSvg(f.spec);
      axes += (svg.match(/aria-roledescription="axis"/g) ?? []).length;
      for (const issue of axisIssues(svg)) problems.push(`${f.analysis}/${f.name}: ${issue}`);
      // log axes keep their labels apart: no two labels of one axis at the same text twice
      for (const labels of tickLabels(svg)) expect(new Set(labels).size, `${f.analysis}/${f.name}: ${labels.join(' ')}`).toBe(labels.length);
    }
    expect(axes).toBeGreaterThan(fixture.figures.length);
    expect(problems).toEqual([]);
  }, 120_000);

  it('say what their scales are at the source, before the report labels them', async () => {
    const problems: string[] = [];
    for (const f of fixture.figures) for (const issue of axisIssues(await renderSvg(f.spec, { labelAxes: false }))) problems.push(`${f.analysis}/${f.name}: ${issue}`);
    expect(problems).toEqual([]);
  }, 120_000);
});
