import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureRun } from '@goldstone/run-store/test-support';
import { readRun } from '@goldstone/run-store/format';
import { buildRunReport, formatDuration, orderAnalyses } from './run-report';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'goldstone-report-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The HTML between an element with `id` and the next section. */
function sectionOf(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}">`);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = html.indexOf('<section', start + 1);
  return html.slice(start, end < 0 ? undefined : end);
}

describe('buildRunReport', () => {
  it('reports a completed run: header, config, training curves, every analysis figure, results, provenance', async () => {
    const dir = join(root, 'ok');
    await writeFixtureRun(dir);
    const html = await buildRunReport(await readRun(dir));

    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<h1>jets-mlp-lambda0.1 <span class="badge status-completed">completed</span></h1>');
    expect(html).toContain('backend wasm · seed 7');
    expect(html).toContain('took 7 min 30 s');
    // package versions
    expect(html).toMatch(/<th scope="row">@tensorflow\/tfjs-core<\/th><td>4\.22\.0<\/td>/);
    // summary numbers from run.json
    expect(html).toMatch(/<th scope="row">hessian\.lambdaMax<\/th><td><span class="num">41\.3<\/span><\/td>/);

    // the resolved config, pretty-printed inside a collapsible block
    const config = sectionOf(html, 'config');
    expect(config).toContain('<details><summary>');
    expect(config).toContain('&quot;batchSize&quot;: 128');
    expect(config).toContain('&quot;activation&quot;: &quot;relu&quot;');

    // training curves: loss per step, loss per epoch with all three splits, a log-scale y axis
    const training = sectionOf(html, 'training');
    const svgs = training.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs.length).toBe(5); // loss/step, lr/step, loss, acc, auc per epoch
    expect(training).toContain('Training loss per step');
    expect(training).toContain('minibatch loss (log scale)');
    expect(training).toContain('mark-line');
    for (const split of ['train', 'test', 'ood-pt']) expect(training).toContain(`>${split}</text>`);
    // the final-metrics grid holds the fixture's final numbers (train.loss = 0.65 e^-4 + 0.05)
    expect(sectionOf(html, 'metrics')).toContain(`<span class="num">${Number((0.65 * Math.exp(-4) + 0.05).toPrecision(4))}</span>`);

    // each analysis: a section, its figures as SVG, its results and provenance
    for (const [name, figures] of [['hessian', 2], ['compressibility', 1], ['phase', 1]] as const) {
      const s = sectionOf(html, `analysis-${name}`);
      expect((s.match(/<svg /g) ?? []).length).toBe(figures);
      expect(s.match(/<details class="provenance">/g)).toHaveLength(1);
      expect(s).toMatch(new RegExp(`<th scope="row">analysis</th><td>${name}</td>`));
    }
    const hessian = sectionOf(html, 'analysis-hessian');
    expect(hessian).toContain('Top Hessian eigenvalues');
    expect(hessian).toContain('Spectral density (SLQ)');
    expect(hessian).toContain('mark-symbol'); // the eigenvalue points
    expect(hessian).toContain('mark-area');
    expect(hessian).toMatch(/<th scope="row">trace\.estimate<\/th><td><span class="num">182\.4<\/span>/);
    expect(hessian).toMatch(/<th scope="row">eigenvalues<\/th><td>20 numbers · min /);
    expect(hessian).toMatch(/<th scope="row">hvps<\/th><td><span class="num">160<\/span>/);
    expect(sectionOf(html, 'analysis-phase')).toContain('mark-rect');

    // analyses appear in the order the config lists them
    const order = ['hessian', 'compressibility', 'phase'].map((n) => html.indexOf(`<section id="analysis-${n}">`));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('escapes everything that comes from data and contains no script at all', async () => {
    const dir = join(root, 'escape');
    await writeFixtureRun(dir);
    const data = await readRun(dir);
    data.run.name = '<script>alert("name")</script>';
    data.warnings.push('<img src=x onerror=alert(1)>');
    const html = await buildRunReport(data);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;'); // figure title
    expect(html).toContain('&lt;script&gt;alert(&quot;result&quot;)&lt;/script&gt;'); // result string
    expect(html).toContain('&lt;script&gt;alert(\\&quot;config\\&quot;)&lt;/script&gt;'); // config JSON
    expect(html).toContain('random &lt;script&gt;'); // legend label inside the SVG
    expect(html).toContain(`default-src 'none'`);
  });

  it('shows a diverged run prominently, with its error, and leaves out non-finite losses', async () => {
    const dir = join(root, 'diverged');
    await writeFixtureRun(dir, { status: 'diverged', error: { message: 'loss is NaN at step 412', step: 412 } });
    const data = await readRun(dir);
    data.metrics.push({ kind: 'step', step: 9999, epoch: 99, loss: null, lr: 0.001 });
    const html = await buildRunReport(data);
    const alert = /<div class="alert" role="alert">([\s\S]*?)<\/div>/.exec(html);
    expect(alert).not.toBeNull();
    expect(alert![1]).toContain('Run diverged');
    expect(alert![1]).toContain('loss is NaN at step 412');
    expect(alert![1]).toContain('&quot;step&quot;: 412');
    // the alert comes before the overview
    expect(html.indexOf('role="alert"')).toBeLessThan(html.indexOf('<section id="overview">'));
    expect(html).toContain('1 non-finite values left out');
    expect(html).toContain('status-diverged');
  });

  it('shows a failed run with a string error, and a run without metrics or analyses', async () => {
    const html = await buildRunReport({
      run: { name: 'bare', status: 'failed', error: 'Error: out of memory <oom>' },
      metrics: [],
      analyses: [],
      warnings: [],
    });
    expect(html).toContain('Run failed');
    expect(html).toContain('<pre>Error: out of memory &lt;oom&gt;</pre>');
    expect(html).toContain('No metrics were recorded');
    expect(html).toContain('No analyses were run.');
    expect(html).toContain('run.json records no configuration.');
    expect(html).not.toContain('<svg');
  });

  it('replaces a figure that cannot be rendered by a visible error, keeping the rest', async () => {
    const html = await buildRunReport({
      run: { name: 'r', status: 'completed' },
      metrics: [],
      analyses: [
        {
          name: 'broken',
          result: { x: 1 },
          figures: [
            { name: 'bad', title: 'Bad figure', spec: { data: { url: 'data.csv' }, mark: 'point' } },
            { name: 'good', title: 'Good figure', spec: { data: { values: [{ a: 1, b: 2 }] }, mark: 'point', encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } } } },
          ],
          provenance: { analysis: 'broken', seed: 1, backend: 'cpu' },
        },
      ],
      warnings: [],
    });
    expect(html).toMatch(/<figure id="[^"]+" class="error"><figcaption><strong>Bad figure<\/strong><\/figcaption><figcaption>This figure could not be rendered: [^<]*inline/);
    expect((html.match(/<svg /g) ?? []).length).toBe(1);
  });

  it('makes every SVG id unique on the page and renders the same input to the same bytes', async () => {
    const dir = join(root, 'ids');
    await writeFixtureRun(dir);
    const data = await readRun(dir);
    const a = await buildRunReport(data);
    const b = await buildRunReport(data);
    expect(a).toBe(b);
    const ids = [...a.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(10);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of a.matchAll(/url\(#([^)]+)\)/g)) expect(ids).toContain(m[1]);
  });
});

describe('helpers', () => {
  it('formats durations', () => {
    expect(formatDuration('2025-01-01T00:00:00Z', '2025-01-01T00:00:00.250Z')).toBe('250 ms');
    expect(formatDuration('2025-01-01T00:00:00Z', '2025-01-01T00:00:42Z')).toBe('42 s');
    expect(formatDuration('2025-01-01T00:00:00Z', '2025-01-01T02:03:04Z')).toBe('2 h 3 min');
    expect(formatDuration('2025-01-01T00:00:00Z', undefined)).toBeUndefined();
    expect(formatDuration('2025-01-02T00:00:00Z', '2025-01-01T00:00:00Z')).toBeUndefined();
  });

  it('orders analyses as the config lists them, the rest by name', () => {
    const e = (name: string) => ({ name, result: null, provenance: { analysis: name, seed: 0, backend: 'cpu' } });
    const names = orderAnalyses([e('a'), e('z'), e('m'), e('b')], { analyses: ['z', { name: 'm' }] }).map((x) => x.name);
    expect(names).toEqual(['z', 'm', 'a', 'b']);
    expect(orderAnalyses([e('b'), e('a')], undefined).map((x) => x.name)).toEqual(['a', 'b']);
  });
});
