import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureRun } from '@goldstone/run-store/test-support';
import { figureHtml } from './figure-html';
import { page, STATIC_CSP } from './html';
import { INTERACTIVE_REPORT_FILE, interactivePage, interactiveSpec, interactiveVegaSpec, readBundles, scriptJson } from './interactive';
import { writeRunReport } from './write-report';

type Spec = Record<string, any>;

const rows = [
  { epoch: 1, split: 'train', loss: 0.5 },
  { epoch: 2, split: 'train', loss: 0.25 },
  { epoch: 1, split: 'test', loss: 0.6 },
  { epoch: 2, split: 'test', loss: 0.4 },
];
const lineSpec = (): Spec => ({
  data: { values: rows },
  mark: { type: 'line' },
  encoding: {
    x: { field: 'epoch', type: 'quantitative' },
    y: { field: 'loss', type: 'quantitative', scale: { type: 'log' } },
    color: { field: 'split', type: 'nominal' },
  },
});

/** Every signal name of a compiled Vega spec (top level and in groups). */
function signals(vega: Spec): string[] {
  const out: string[] = [];
  const walk = (node: Spec): void => {
    for (const s of node.signals ?? []) out.push(s.name);
    for (const m of node.marks ?? []) if (m.type === 'group') walk(m);
  };
  walk(vega);
  return out;
}

/** The inline scripts (not the JSON data blocks) of a page, in order. */
function inlineScripts(html: string): string[] {
  return [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
}

describe('interactiveSpec', () => {
  it('gives a coloured line hoverable points with tooltips, zoom on x/y and a legend toggle, without touching the input', () => {
    const spec = lineSpec();
    const before = structuredClone(spec);
    const out = interactiveSpec(spec) as Spec;
    expect(spec).toEqual(before);
    // a line is one path: the tooltip sits on invisible points instead
    expect(out.mark).toEqual({ type: 'line', point: { opacity: 0, size: 60, tooltip: true } });
    expect(out.params).toEqual([
      { name: 'zoom_1', select: 'interval', bind: 'scales' },
      { name: 'legend_2', select: { type: 'point', fields: ['split'] }, bind: 'legend' },
    ]);
    // stroke opacity, so the invisible points stay invisible when a series is selected
    expect(out.encoding.strokeOpacity).toEqual({ condition: { param: 'legend_2', value: 1, empty: true }, value: 0.15 });
    expect(out.encoding.opacity).toBeUndefined();
  });

  it('keeps visible points visible and fades a scatter plot by its own opacity', () => {
    const withPoints = interactiveSpec({ ...lineSpec(), mark: { type: 'line', point: true } }) as Spec;
    expect(withPoints.mark.point).toEqual({ tooltip: true });
    expect(withPoints.encoding.opacity.condition.param).toBe('legend_2');
    const scatter = interactiveSpec({ ...lineSpec(), mark: { type: 'point', opacity: 0.5 } }) as Spec;
    expect(scatter.mark).toEqual({ type: 'point', opacity: 0.5, tooltip: true });
    expect(scatter.encoding.opacity).toEqual({ condition: { param: 'legend_2', value: 0.5, empty: true }, value: 0.075 });
  });

  it('respects a tooltip or opacity the figure sets, and leaves composite marks and areas alone', () => {
    const spec: Spec = {
      data: { values: rows },
      encoding: { x: { field: 'epoch', type: 'quantitative' }, color: { field: 'split', type: 'nominal' } },
      layer: [
        { mark: 'errorbar', encoding: { y: { field: 'loss', type: 'quantitative' } } },
        { mark: { type: 'area', opacity: 0.2 }, encoding: { y: { field: 'loss', type: 'quantitative' } } },
        { mark: { type: 'point' }, encoding: { y: { field: 'loss', type: 'quantitative' }, tooltip: [{ field: 'loss' }], opacity: { value: 0.3 } } },
        { mark: { type: 'line' }, encoding: { y: { field: 'loss', type: 'quantitative' } } },
      ],
    };
    const out = interactiveSpec(spec) as Spec;
    const [bar, area, point, line] = out.layer;
    expect(bar).toEqual(spec.layer[0]);
    expect(area.mark).toEqual({ type: 'area', opacity: 0.2 });
    expect(area.encoding.opacity).toEqual({ condition: { param: 'legend_2', value: 0.2, empty: true }, value: 0.03 });
    expect(point.mark).toEqual({ type: 'point' }); // its own tooltip encoding wins
    expect(point.encoding.opacity).toEqual({ value: 0.3 });
    // zoom on the first line or scatter layer with continuous x and y (the encoding the layer shares counts)
    expect(point.params).toEqual([{ name: 'zoom_1', select: 'interval', bind: 'scales' }]);
    // the legend toggle lives on the first coloured layer that is not a composite mark
    expect(area.params).toEqual([{ name: 'legend_2', select: { type: 'point', fields: ['split'] }, bind: 'legend' }]);
    expect(line.mark.point).toEqual({ opacity: 0, size: 60, tooltip: true });
    expect(line.encoding.strokeOpacity.condition.param).toBe('legend_2');
  });

  it('gives a heat map tooltips but no zoom, and each view of a concat its own interactions', () => {
    const heat: Spec = {
      data: { values: rows },
      mark: 'rect',
      encoding: { x: { field: 'epoch', type: 'ordinal' }, y: { field: 'split', type: 'nominal' }, color: { field: 'loss', type: 'quantitative' } },
    };
    const out = interactiveSpec(heat) as Spec;
    expect(out.mark).toEqual({ type: 'rect', tooltip: true });
    expect(out.params).toBeUndefined();
    const concat = interactiveSpec({ hconcat: [lineSpec(), lineSpec()] }) as Spec;
    expect(concat.hconcat.map((v: Spec) => v.params.map((p: Spec) => p.name))).toEqual([
      ['zoom_1', 'legend_2'],
      ['zoom_3', 'legend_4'],
    ]);
  });
});

describe('interactiveVegaSpec', () => {
  it('compiles the themed figure with its interactions to Vega', async () => {
    const vega = await interactiveVegaSpec(lineSpec());
    expect(signals(vega)).toEqual(expect.arrayContaining(['zoom_1_epoch', 'zoom_1_loss', 'zoom_1_tuple', 'legend_2_tuple', 'legend_2_toggle']));
    expect(vega.background).toBe('white');
    expect(JSON.stringify(vega)).toContain('"tooltip"');
  });

  it('drops the interactions that do not compile, down to the bare figure', async () => {
    // a figure whose own parameter takes the name the zoom would get: zoom and legend cannot be added
    const spec = { ...lineSpec(), params: [{ name: 'zoom_1', value: 2 }] };
    const vega = await interactiveVegaSpec(spec);
    const names = signals(vega);
    expect(names).toContain('zoom_1');
    expect(names.some((n) => n.startsWith('legend_'))).toBe(false);
    expect(JSON.stringify(vega)).toContain('"tooltip"');
  });

  it('throws for a figure that cannot be drawn, which becomes an error box in the page', async () => {
    const bad = { data: { url: 'https://example.org/data.json' }, mark: 'point' };
    await expect(interactiveVegaSpec(bad)).rejects.toThrow(/figures must carry their data inline/);
    const html = await figureHtml({ name: 'bad', title: 'Bad', spec: bad }, 'f-1', { mode: 'interactive' });
    expect(html).toContain('class="error"');
    expect(html).not.toContain('vega-figure');
  });
});

describe('interactivePage', () => {
  it('inlines vega, vega-embed and the boot script, each allowed by its sha256 and nothing else', async () => {
    const figure = await figureHtml({ name: 'loss', title: 'Loss', spec: lineSpec() }, 'training-1', { mode: 'interactive' });
    const html = interactivePage(page({ title: 't', body: `<header class="top"><h1>t</h1></header>${figure}` }));
    expect(html).not.toContain(STATIC_CSP);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
    const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    expect(directives['default-src']).toEqual(["'none'"]);
    expect(directives['style-src']).toEqual(["'unsafe-inline'"]);
    expect(directives['img-src']).toEqual(['data:']);
    const scripts = inlineScripts(html);
    expect(scripts).toHaveLength(3);
    const { vega, vegaEmbed } = readBundles();
    expect(scripts[0]).toBe(vega);
    expect(scripts[1]).toBe(vegaEmbed);
    expect(scripts[2]).toContain('vegaEmbed(');
    expect(directives['script-src']).toEqual(scripts.map((s) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`));
    expect(csp).not.toMatch(/https?:|unsafe-eval|unsafe-inline'\s*;?\s*$/);
    expect(html.indexOf('<p class="interactive-hint')).toBeGreaterThan(html.indexOf('<h1>'));
  });

  it('keeps the data block inert: a value with </script> stays data', async () => {
    const nasty = '</script><script>alert(1)</script>';
    const spec = { data: { values: [{ x: 1, y: 2, label: nasty }] }, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } };
    const figure = await figureHtml({ name: 'p', title: 'P', spec }, 'p-1', { mode: 'interactive' });
    expect(figure).not.toContain('</script><script>');
    const json = /<script type="application\/json" id="p-1-spec">([\s\S]*?)<\/script>/.exec(figure)?.[1] ?? '';
    expect(JSON.stringify(JSON.parse(json))).toContain(nasty);
    expect(scriptJson('a\u2028b</x')).toBe('"a\\u2028b\\u003c/x"');
  });

  it('refuses a page that is not a report page', () => {
    expect(() => interactivePage('<html><body></body></html>')).toThrow(/static Content-Security-Policy/);
  });
});

describe('writeRunReport with mode interactive', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'goldstone-interactive-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes report.interactive.html beside the run, with one drawable placeholder per figure', async () => {
    const dir = join(root, 'run');
    await writeFixtureRun(dir, { steps: 50, epochs: 3 });
    const staticPath = await writeRunReport(dir);
    const staticHtml = await readFile(staticPath, 'utf8');
    const path = await writeRunReport(dir, { mode: 'interactive' });
    expect(path).toBe(join(dir, INTERACTIVE_REPORT_FILE));
    expect(await readFile(staticPath, 'utf8')).toBe(staticHtml);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const html = await readFile(path, 'utf8');
    const figures = (staticHtml.match(/<figure id=/g) ?? []).length;
    expect(figures).toBeGreaterThan(0);
    expect((html.match(/<figure id="[^"]+" class="interactive">/g) ?? []).length).toBe(figures);
    expect((html.match(/<div class="vega-figure" data-spec=/g) ?? []).length).toBe(figures);
    expect(html.replace(/<script>[\s\S]*?<\/script>/g, '')).not.toContain('<svg');
    expect(staticHtml).toContain(STATIC_CSP);
    expect(staticHtml).not.toContain('<script');
  });
});
