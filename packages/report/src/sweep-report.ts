import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Json } from '@goldstone/plugin-api';
import { parseMetrics, writeFileAtomic, type MetricRow } from '@goldstone/run-store/format';
import { figureGrid } from './figure-html';
import { columnTable, details, escapeHtml, formatNumber, jsonBlock, keyValueTable, page, section, slug } from './html';
import type { RenderOptions } from './render-svg';
import type { ReportFigure } from './training-curves';

/** One point of sweep.json, as the report reads it. */
export interface SweepPointInfo {
  id: string;
  index?: number;
  dir?: string;
  assignments: Record<string, Json>;
  /** The sweep part the point belongs to, for a sweep with `parts`. */
  part?: string;
  status: string;
  attempts?: number;
  error?: string;
  summary?: Record<string, number | null>;
  startedAt?: string;
  finishedAt?: string;
}

/** sweep.json, as the report reads it (written by `goldstone sweep`). */
export interface SweepInfo {
  name: string;
  experiment?: string;
  sweep: {
    paths: string[];
    summaryBy: string[];
    grid?: Record<string, Json[]>;
    zip?: Record<string, Json[]>;
    seeds?: number[];
    /** Sub-sweeps, each with its own axes (a sweep with `parts`). */
    parts?: { name: string; paths: string[]; grid?: Record<string, Json[]>; zip?: Record<string, Json[]>; seeds?: number[] }[];
  };
  createdAt?: string;
  updatedAt?: string;
  counts?: Record<string, number>;
  points: SweepPointInfo[];
}

/** One `summaries/<analysis>.json` file. */
export interface SweepSummaryEntry {
  name: string;
  runs?: string[];
  result?: Json;
  figures?: ReportFigure[];
  error?: string;
}

export interface SweepData {
  dir?: string;
  index: SweepInfo;
  /** Analysis summaries (`summaries/*.json` except metrics.json), by file name. */
  summaries: SweepSummaryEntry[];
  /** Each point's epoch rows of metrics.jsonl, by point id (points whose run directory has one). */
  curves?: Record<string, MetricRow[]>;
}

export interface SweepReportOptions {
  render?: RenderOptions;
  /** Metrics to plot (heat maps, lines); default: up to `maxMetrics` of the runs' final metrics, test metrics first. */
  metrics?: string[];
  /** Default 4. */
  maxMetrics?: number;
}

async function readJsonFile<T>(path: string): Promise<T> {
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${path}: invalid JSON (${(err as Error).message})`);
  }
}

/** Read a sweep directory: sweep.json and `summaries/*.json`. */
export async function readSweep(dir: string): Promise<SweepData> {
  const index = await readJsonFile<SweepInfo>(join(dir, 'sweep.json'));
  if (!index || !Array.isArray(index.points) || !index.sweep) throw new Error(`${join(dir, 'sweep.json')}: not a goldstone sweep index`);
  const summaries: SweepSummaryEntry[] = [];
  const files = await readdir(join(dir, 'summaries')).catch(() => [] as string[]);
  for (const f of files.filter((f) => f.endsWith('.json') && !f.startsWith('.') && f !== 'metrics.json').sort()) {
    const s = await readJsonFile<Record<string, unknown>>(join(dir, 'summaries', f));
    summaries.push({ ...(s as object), name: f.slice(0, -'.json'.length) } as SweepSummaryEntry);
  }
  const curves: Record<string, MetricRow[]> = {};
  for (const p of index.points) {
    if (!p.dir) continue;
    const text = await readFile(join(dir, p.dir, 'metrics.jsonl'), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const rows = parseMetrics(text).rows.filter((r) => r.kind === 'epoch');
    if (rows.length) curves[p.id] = rows;
  }
  return { dir, index, summaries, curves };
}

/** A setting's value as a label: numbers and strings as they are, anything else as compact JSON. */
export function settingLabel(value: Json | undefined): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return formatNumber(value);
  return JSON.stringify(value ?? null);
}

interface Stats {
  n: number;
  mean: number;
  std: number;
}

function stats(values: number[]): Stats | undefined {
  const xs = values.filter((v) => Number.isFinite(v));
  if (xs.length === 0) return undefined;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { n: xs.length, mean, std };
}

const finished = (p: SweepPointInfo) => p.status === 'completed' || p.status === 'diverged';

/** The final metrics the runs report: test metrics first, then train, then the rest; losses first in each. */
export function sweepMetrics(points: SweepPointInfo[]): string[] {
  const names = new Set<string>();
  for (const p of points) for (const [k, v] of Object.entries(p.summary ?? {})) if (typeof v === 'number') names.add(k);
  const rank = (m: string) => (m.startsWith('test.') ? 0 : m.startsWith('train.') ? 1 : 2);
  const loss = (m: string) => (m.endsWith('.loss') ? 0 : 1);
  return [...names].sort((a, b) => rank(a) - rank(b) || loss(a) - loss(b) || a.localeCompare(b));
}

/**
 * Mean and spread of `metric` over the runs sharing the same values of `by` (usually every swept
 * setting but the seed), for finished runs.
 */
export function groupMetric(points: SweepPointInfo[], by: string[], metric: string): { settings: Record<string, Json>; stats: Stats }[] {
  const groups = new Map<string, { settings: Record<string, Json>; values: number[] }>();
  for (const p of points) {
    if (!finished(p)) continue;
    const v = p.summary?.[metric];
    if (typeof v !== 'number') continue;
    const settings = Object.fromEntries(by.map((k) => [k, p.assignments[k] ?? null])) as Record<string, Json>;
    const key = JSON.stringify(by.map((k) => settings[k]));
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { settings, values: [] }));
    g.values.push(v);
  }
  return [...groups.values()].flatMap((g) => {
    const s = stats(g.values);
    return s ? [{ settings: g.settings, stats: s }] : [];
  });
}

/** The values a path takes, in sweep order. */
function axisValues(index: SweepInfo, path: string): Json[] {
  const declared = index.sweep.grid?.[path] ?? index.sweep.zip?.[path];
  if (declared) return declared;
  const seen = new Map<string, Json>();
  for (const p of index.points) if (path in p.assignments) seen.set(JSON.stringify(p.assignments[path]), p.assignments[path]);
  return [...seen.values()];
}

/** A heat map of the mean of `metric` over a two-dimensional grid of settings (mean over seeds in each cell). */
export function heatmapFigure(index: SweepInfo, metric: string, x: string, y: string): ReportFigure | undefined {
  const rows = groupMetric(index.points, [x, y], metric).map((g) => ({
    x: settingLabel(g.settings[x]),
    y: settingLabel(g.settings[y]),
    mean: g.stats.mean,
    std: g.stats.std,
    n: g.stats.n,
    label: formatNumber(g.stats.mean),
  }));
  if (rows.length === 0) return undefined;
  const xs = axisValues(index, x).map(settingLabel);
  const ys = axisValues(index, y).map(settingLabel);
  return {
    name: `heatmap-${slug(metric)}`,
    title: `${metric}: ${y} × ${x}`,
    caption: `Mean of ${metric} over the runs in each cell (seeds); n runs per cell: ${[...new Set(rows.map((r) => r.n))].join(', ')}.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      data: { values: rows },
      encoding: {
        x: { field: 'x', type: 'ordinal', sort: xs, title: x },
        y: { field: 'y', type: 'ordinal', sort: ys, title: y },
      },
      layer: [
        { mark: 'rect', encoding: { color: { field: 'mean', type: 'quantitative', title: metric, scale: { scheme: 'viridis' } } } },
        { mark: { type: 'text', fontSize: 10 }, encoding: { text: { field: 'label' }, color: { value: 'white' } } },
      ],
    },
  };
}

/**
 * `metric` against one setting (x), mean ± standard deviation over the seeds as a band (or error
 * bars for categorical settings), one line per combination of the other settings.
 */
export function lineFigure(index: SweepInfo, metric: string, x: string, others: string[]): ReportFigure | undefined {
  const rows = groupMetric(index.points, [x, ...others], metric).map((g) => ({
    x: g.settings[x] as Json,
    xLabel: settingLabel(g.settings[x]),
    series: others.length ? others.map((o) => `${o}=${settingLabel(g.settings[o])}`).join(', ') : 'all',
    mean: g.stats.mean,
    label: formatNumber(Number(g.stats.mean.toPrecision(3))),
    lo: g.stats.mean - g.stats.std,
    hi: g.stats.mean + g.stats.std,
    n: g.stats.n,
  }));
  if (rows.length === 0) return undefined;
  const numeric = rows.every((r) => typeof r.x === 'number');
  const positive = numeric && rows.every((r) => (r.x as number) > 0);
  const xsNum = rows.map((r) => r.x as number);
  const logX = positive && Math.max(...xsNum) / Math.min(...xsNum) >= 20;
  const xEnc = numeric
    ? { field: 'x', type: 'quantitative', title: x, scale: logX ? { type: 'log' } : { zero: false } }
    : { field: 'xLabel', type: 'ordinal', title: x, sort: axisValues(index, x).map(settingLabel) };
  const color = others.length ? { field: 'series', type: 'nominal', title: others.join(', ') } : { value: '#4c78a8' };
  const spread = numeric
    ? { mark: { type: 'area', opacity: 0.2 }, encoding: { x: xEnc, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color } }
    : { mark: { type: 'rule' }, encoding: { x: xEnc, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color } };
  return {
    name: `line-${slug(metric)}-${slug(x)}`,
    title: `${metric} against ${x}`,
    caption: `Mean ± standard deviation over the runs sharing every other setting (seeds), the mean written on each point; n = ${[...new Set(rows.map((r) => r.n))].join(', ')}.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      data: { values: rows },
      layer: [
        spread,
        {
          mark: { type: 'line', point: true },
          encoding: { x: xEnc, y: { field: 'mean', type: 'quantitative', title: metric, scale: { zero: false } }, color },
        },
        // the number on every point: a static SVG has no tooltips
        {
          mark: { type: 'text', dy: -9, fontSize: 9 },
          encoding: { x: xEnc, y: { field: 'mean', type: 'quantitative', title: metric }, text: { field: 'label' }, color },
        },
      ],
    },
  };
}

/**
 * The settings a sweep varies, as plot axes: every path with more than one value but the seed;
 * paths zipped together move as one, so only the first of them that varies is an axis.
 */
export function sweptAxes(index: SweepInfo): string[] {
  const zipped = Object.keys(index.sweep.zip ?? {});
  const varies = (p: string) => p !== 'seed' && axisValues(index, p).length > 1;
  const leader = zipped.find(varies);
  return index.sweep.paths.filter((p) => varies(p) && (!zipped.includes(p) || p === leader));
}

/**
 * The training curves of every point in one figure: `metric` per epoch, one line per run, coloured
 * by the first swept setting (a continuous colour scale for numbers, log when they span ≥ 20×),
 * so runs of different seeds at one setting share a colour.
 */
export function curvesFigure(index: SweepInfo, curves: Record<string, MetricRow[]>, metric: string): ReportFigure | undefined {
  const axes = sweptAxes(index);
  // nothing swept but the seed: colour by seed
  const by = axes[0] ?? (index.points.some((p) => 'seed' in p.assignments) ? 'seed' : undefined);
  const rows: { epoch: number; value: number; run: string; setting: Json; label: string }[] = [];
  for (const p of index.points) {
    for (const r of curves[p.id] ?? []) {
      const v = r[metric];
      if (typeof r.epoch !== 'number' || typeof v !== 'number' || !Number.isFinite(v)) continue;
      const setting = by !== undefined ? (p.assignments[by] ?? null) : p.id;
      rows.push({ epoch: r.epoch, value: v, run: p.id, setting, label: settingLabel(setting) });
    }
  }
  const runs = new Set(rows.map((r) => r.run));
  if (runs.size < 2) return undefined;
  const numeric = by !== 'seed' && rows.every((r) => typeof r.setting === 'number');
  const settings = rows.map((r) => r.setting as number);
  const logColor = numeric && rows.length > 0 && settings.every((v) => v > 0) && Math.max(...settings) / Math.min(...settings) >= 20;
  const title = by ?? 'run';
  const color = numeric
    ? { field: 'setting', type: 'quantitative', title, scale: { scheme: 'viridis', ...(logColor ? { type: 'log' } : {}) } }
    : { field: 'label', type: 'nominal', title, sort: by ? axisValues(index, by).map(settingLabel) : undefined };
  const isLoss = metric.endsWith('loss');
  const logY = isLoss && rows.every((r) => r.value > 0);
  const few = new Set(rows.map((r) => r.epoch)).size <= 30;
  return {
    name: `curves-${slug(metric)}`,
    title: `${metric} per epoch, every run overlaid`,
    caption: `${runs.size} runs, one line each, coloured by ${title}${axes.length > 1 ? ` (the other settings: ${axes.slice(1).join(', ')})` : ''}; runs of different seeds at one setting share a colour.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      data: { values: rows },
      mark: { type: 'line', point: few, opacity: 0.85 },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
        y: { field: 'value', type: 'quantitative', title: metric, scale: logY ? { type: 'log', nice: false } : { zero: false } },
        color,
        detail: { field: 'run', type: 'nominal' },
      },
    },
  };
}

/** The overlaid curves of a sweep (one figure per part), for the first of `metrics` the runs logged per epoch. */
export function sweepCurveFigures(index: SweepInfo, curves: Record<string, MetricRow[]>, metrics: string[]): ReportFigure[] {
  const logged = new Set(Object.values(curves).flatMap((rows) => rows.flatMap((r) => Object.keys(r))));
  const metric = metrics.find((m) => logged.has(m));
  if (!metric) return [];
  if (index.sweep.parts?.length) {
    return index.sweep.parts.flatMap((part) => {
      const sub: SweepInfo = { ...index, sweep: { ...part, summaryBy: [] }, points: index.points.filter((p) => p.part === part.name) };
      const f = curvesFigure(sub, curves, metric);
      return f ? [{ ...f, name: `${part.name}-${f.name}`, title: `${part.name}: ${f.title}` }] : [];
    });
  }
  const f = curvesFigure(index, curves, metric);
  return f ? [f] : [];
}

/** The figures of a sweep: heat maps for a two-dimensional grid, lines with their spread over seeds. */
export function sweepFigures(index: SweepInfo, metrics: string[]): ReportFigure[] {
  if (index.sweep.parts?.length) {
    // one set of figures per part, over that part's own axes and points
    return index.sweep.parts.flatMap((part) => {
      const points = index.points.filter((p) => p.part === part.name);
      const sub: SweepInfo = { ...index, sweep: { ...part, summaryBy: index.sweep.summaryBy.filter((s) => part.paths.includes(s)) }, points };
      return sweepFigures(sub, metrics).map((f) => ({ ...f, name: `${part.name}-${f.name}`, title: `${part.name}: ${f.title}` }));
    });
  }
  const axes = sweptAxes(index);
  const figures: ReportFigure[] = [];
  for (const metric of metrics) {
    if (axes.length === 2) {
      const h = heatmapFigure(index, metric, axes[0], axes[1]);
      if (h) figures.push(h);
    }
    for (const x of axes) {
      const l = lineFigure(index, metric, x, axes.filter((a) => a !== x));
      if (l) figures.push(l);
    }
  }
  return figures;
}

function cell(s: Stats | undefined): string {
  if (!s) return '—';
  return s.n > 1 ? `${formatNumber(s.mean)} ± ${formatNumber(s.std)} (n=${s.n})` : `${formatNumber(s.mean)} (n=1)`;
}

/** Rows of a summary table: at most this many are shown (the JSON below has them all). */
export const SUMMARY_TABLE_ROWS = 500;

const isScalar = (v: unknown) => v === null || ['number', 'string', 'boolean'].includes(typeof v);

/**
 * The parts of a summary's result that read best as tables: each top-level array of flat rows
 * (objects whose values are numbers, strings, booleans or null) as a column table under its key,
 * columns in the order of first appearance; each top-level array of strings (notes) as a list.
 */
export function summaryTables(result: unknown): string {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return '';
  const out: string[] = [];
  for (const [key, value] of Object.entries(result)) {
    if (!Array.isArray(value) || value.length === 0) continue;
    if (value.every((v) => typeof v === 'string')) {
      out.push(`<h3>${escapeHtml(key)}</h3><ul>${value.map((v) => `<li>${escapeHtml(v)}</li>`).join('')}</ul>`);
      continue;
    }
    if (!value.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r) && Object.values(r).every(isScalar))) continue;
    const rows = value as Record<string, unknown>[];
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    const shown = rows.slice(0, SUMMARY_TABLE_ROWS);
    const more = rows.length > shown.length ? `<p class="muted">First ${shown.length} of ${rows.length} rows; the result below has them all.</p>` : '';
    out.push(`<h3>${escapeHtml(key)}</h3>${columnTable(columns, shown.map((r) => columns.map((c) => r[c])))}${more}`);
  }
  return out.join('');
}

/** The sweep report: status of every point, final metrics by setting, heat maps and lines, analysis summaries. */
export async function buildSweepReport(data: SweepData, options: SweepReportOptions = {}): Promise<string> {
  const { index } = data;
  const points = index.points;
  const counts: Record<string, number> = {};
  for (const p of points) counts[p.status] = (counts[p.status] ?? 0) + 1;
  const metricsAll = sweepMetrics(points);
  const metrics = options.metrics ?? metricsAll.slice(0, options.maxMetrics ?? 4);
  const paths = index.sweep.paths;
  const parts: string[] = [];

  parts.push(
    `<header class="top"><h1>Sweep ${escapeHtml(index.name)}</h1><p class="meta">${points.length} points over ${escapeHtml(paths.join(', '))}` +
      `${index.experiment ? ` · ${escapeHtml(index.experiment)}` : ''}${index.updatedAt ? ` · updated ${escapeHtml(index.updatedAt)}` : ''}</p></header>`,
  );
  const failed = points.filter((p) => p.status === 'failed');
  if (failed.length) {
    parts.push(
      `<div class="alert"><h2>${failed.length} point${failed.length > 1 ? 's' : ''} failed</h2>` +
        failed.map((p) => `<p><code>${escapeHtml(p.id)}</code></p><pre>${escapeHtml(p.error ?? 'no message')}</pre>`).join('') +
        '</div>',
    );
  }
  const unfinished = points.filter((p) => !finished(p) && p.status !== 'failed');
  if (unfinished.length) {
    parts.push(`<div class="alert warn"><h2>${unfinished.length} point${unfinished.length > 1 ? 's' : ''} not finished</h2><p>Run the same sweep command again to finish them.</p></div>`);
  }
  parts.push(
    section(
      'Overview',
      `<div class="grid">${keyValueTable(Object.entries(counts))}${keyValueTable([
        ['swept', paths.join(', ')],
        ['summary by', index.sweep.summaryBy.join(', ') || '(nothing: every run alone)'],
        ['created', index.createdAt ?? null],
      ])}</div>`,
      'overview',
    ),
  );

  // Claims a summary tested (rows with `claim` and `verdict`), stated first: what was reproduced and what not.
  const claimRows = data.summaries.flatMap((s) => {
    const claims = (s.result as Record<string, unknown> | undefined)?.claims;
    if (!Array.isArray(claims)) return [];
    return claims.filter((c): c is Record<string, unknown> => typeof c === 'object' && c !== null && typeof (c as any).claim === 'string' && typeof (c as any).verdict === 'string');
  });
  if (claimRows.length) {
    const rows = claimRows.map((c) => [String(c.claim), String(c.verdict), String(c.reason ?? '')]);
    parts.push(
      section(
        'Claims tested',
        `<p class="muted">Each claim is tested by the summary that lists it (a rank correlation, a difference of means) with a bootstrap interval over runs or seeds: reproduced when the interval lies on the predicted side of 0, partly when only the sign (or some groups) agree, contradicted when it lies on the other side; the evidence column gives the numbers.</p>` +
          columnTable(['claim', 'verdict', 'evidence'], rows),
        'claims',
      ),
    );
  }

  if (metrics.length) {
    const groups = new Map<string, Record<string, Json>>();
    for (const m of metrics) for (const g of groupMetric(points, index.sweep.summaryBy, m)) groups.set(JSON.stringify(g.settings), g.settings);
    const byMetric = metrics.map((m) => new Map(groupMetric(points, index.sweep.summaryBy, m).map((g) => [JSON.stringify(g.settings), g.stats])));
    const rows = [...groups.entries()].map(([key, settings]) => [
      ...index.sweep.summaryBy.map((p) => settingLabel(settings[p])),
      ...byMetric.map((mm) => cell(mm.get(key))),
    ]);
    const table = columnTable([...index.sweep.summaryBy, ...metrics.map((m) => `${m} (mean ± sd)`)], rows);
    const figures = await figureGrid(sweepFigures(index, metrics), 'sweep-fig', options.render);
    parts.push(section('Final metrics', `${table}${figures}`, 'metrics'));
  }

  const curveFigures = sweepCurveFigures(index, data.curves ?? {}, metrics.length ? metrics : metricsAll);
  if (curveFigures.length) parts.push(section('Training curves', await figureGrid(curveFigures, 'sweep-curves', options.render), 'curves'));

  for (const s of data.summaries) {
    const head = `<p class="muted">Summary of analysis <code>${escapeHtml(s.name)}</code> over ${s.runs?.length ?? '?'} run(s).</p>`;
    if (s.error) {
      parts.push(section(`Summary: ${s.name}`, `${head}<div class="alert"><pre>${escapeHtml(s.error)}</pre></div>`, `summary-${slug(s.name)}`));
      continue;
    }
    const figs = Array.isArray(s.figures) ? await figureGrid(s.figures, `summary-${slug(s.name)}`, options.render) : '';
    const tables = summaryTables(s.result);
    const result = s.result !== undefined ? details('Result', jsonBlock(s.result), !figs && !tables) : '';
    parts.push(section(`Summary: ${s.name}`, `${head}${figs}${tables}${result}`, `summary-${slug(s.name)}`));
  }

  const runRows = points.map((p) => [
    p.dir ? `<a href="${escapeHtml(encodeURI(p.dir))}/report.html">${escapeHtml(p.id)}</a>` : escapeHtml(p.id),
    ...paths.map((k) => escapeHtml(settingLabel(p.assignments[k]))),
    `<span class="status-${escapeHtml(p.status)}">${escapeHtml(p.status)}</span>`,
    ...metrics.map((m) => (typeof p.summary?.[m] === 'number' ? escapeHtml(formatNumber(p.summary[m] as number)) : '—')),
    p.error ? escapeHtml(p.error) : '',
  ]);
  const head = ['run', ...paths, 'status', ...metrics, 'error'].map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  const body = runRows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  parts.push(section('Runs', `<table class="cols"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`, 'runs'));
  parts.push(`<footer>Written by @goldstone/report from ${escapeHtml(data.dir ? join(data.dir, 'sweep.json') : 'sweep.json')}.</footer>`);
  return page({ title: `Sweep ${index.name}`, body: parts.join('\n') });
}

/** Read the sweep in `dir`, build its report and write `dir/sweep-report.html` atomically; returns the path. */
export async function writeSweepReport(dir: string, options: SweepReportOptions = {}): Promise<string> {
  const html = await buildSweepReport(await readSweep(dir), options);
  const path = join(dir, 'sweep-report.html');
  await writeFileAtomic(path, html);
  return path;
}
