import { basename, resolve } from 'node:path';
import { isObject, readHeadline, type HeadlineNumber, type Json } from '@goldstone/plugin-api';
import type { MetricRow, RunData } from '@goldstone/run-store/format';
import { figureGrid } from './figure-html';
import { finalMetrics } from './headline-card';
import { details, escapeHtml, formatNumber, page, section } from './html';
import type { RenderOptions } from './render-svg';
import { orderAnalyses } from './run-report';
import { orderSplits, splitMetricKey, type ReportFigure } from './training-curves';

/**
 * Runs side by side: the resolved config paths whose values differ, the final metrics and each
 * analysis' headline numbers, as data (`compareRuns`, what `goldstone compare --json` prints), as
 * plain tables (`compareTables`, what the terminal and the page show) and as a self-contained HTML
 * page with the runs' training curves overlaid (`buildCompareReport`). Reads the run-store format
 * only (never tfjs).
 */

export type Better = 'higher' | 'lower';

/** One run's column: a short unique label (the column head) and what identifies the run. */
export interface ComparedRun {
  label: string;
  dir: string | null;
  name: string;
  status: string;
  task: string | null;
  model: string | null;
  seed: number | null;
  backend: string | null;
  /** The last step recorded in metrics.jsonl. */
  steps: number | null;
  /** The last epoch recorded in metrics.jsonl. */
  epochs: number | null;
  /** finishedAt (else updatedAt) − createdAt, in seconds. */
  wallTimeSeconds: number | null;
  paramCount: number | null;
  /** The run's primary metric (see `CompareOptions.primaryMetric`), or null when not known. */
  primaryMetric: string | null;
}

/** A row of a comparison table: a key and one value per run (null where the run lacks it). */
export interface ComparisonRow<V = Json> {
  key: string;
  values: (V | null)[];
}

/** A final metric across runs, with the run(s) holding the best value where the metric has a direction. */
export interface MetricComparison extends ComparisonRow<number> {
  split: string;
  metric: string;
  /** Which way is better, or null when the metric's direction is not known. */
  better: Better | null;
  /** Indices of the runs with the best value (several on a tie; empty when there is no direction, fewer than two values or all are equal). */
  best: number[];
  /** The metric is the loss or a run's primary metric (the rows the terminal shows). */
  primary: boolean;
}

/** A run's reading of a headline number: its value and error bar (the row holds its key, label, unit and direction). */
export type HeadlineValue = Omit<HeadlineNumber, 'key' | 'label' | 'unit' | 'better'>;

/** One headline number across runs, aligned by its key (null where a run lacks it). */
export interface HeadlineComparison extends ComparisonRow<HeadlineValue> {
  label: string;
  unit: string | null;
  better: Better | null;
  best: number[];
}

export interface AnalysisComparison {
  /** The result id (analyses/<id>.json). */
  id: string;
  /** Whether each run has this analysis. */
  present: boolean[];
  rows: HeadlineComparison[];
}

export interface RunComparison {
  runs: ComparedRun[];
  /** The distinct tasks of the runs. */
  tasks: string[];
  /** Things to know when reading the tables: runs of different tasks, unfinished runs, read problems. */
  notes: string[];
  /** Resolved config paths (`train.lr`, `model.options.hidden`, `analyses[hessian].options.topK`) whose values differ; null where a run lacks the path. */
  configs: ComparisonRow[];
  /** Package versions (`@goldstone/core`) and git state (`git.commit`, `git.dirty`) that differ. */
  versions: ComparisonRow[];
  /** Final metrics: every `<split>.<metric>` any run has; splits train, test, then the rest; in a split the loss, primary metrics, then the rest. */
  metrics: MetricComparison[];
  /** Each analysis id present in any run, with its headline numbers (`readHeadline`) aligned by key. */
  headlines: AnalysisComparison[];
}

export interface CompareOptions {
  /** Column heads, one per run (default: `runLabels`). */
  labels?: string[];
  /**
   * Which way a metric is better. The stored run says nothing about task metrics, so by default only
   * `loss` (what training minimises) has a direction; the CLI passes core's `higherIsBetter`.
   */
  better?: (metric: string) => Better | undefined;
  /** A run's primary metric (the CLI passes core's `primaryMetric` of the stored output kind); default none. */
  primaryMetric?: (run: RunData) => string | undefined;
  /** At most this many headline numbers per analysis and run (default 16). */
  maxHeadlines?: number;
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const defaultBetter = (metric: string): Better | undefined => (metric === 'loss' ? 'lower' : undefined);

/**
 * Flatten a config to paths: objects by key, arrays of objects by their `id` (else `name`) when those
 * are distinct (`analyses[hessian].options.topK`), else by index; other arrays are one value.
 */
export function flattenConfig(value: unknown, prefix = '', out = new Map<string, Json>()): Map<string, Json> {
  if (isObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0 && prefix) out.set(prefix, {});
    for (const [k, v] of entries) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (Array.isArray(value) && value.length > 0 && value.every(isObject)) {
    const names = value.map((v) => (typeof v.id === 'string' ? v.id : typeof v.name === 'string' ? v.name : undefined));
    const named = names.every((n) => n !== undefined) && new Set(names).size === names.length;
    value.forEach((v, i) => flattenConfig(v, `${prefix}[${named ? names[i] : i}]`, out));
  } else if (value !== undefined) out.set(prefix, value as Json);
  return out;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Keys in first-seen order over several lists. */
function unionKeys(lists: Iterable<string>[]): string[] {
  const seen = new Set<string>();
  for (const list of lists) for (const k of list) seen.add(k);
  return [...seen];
}

/** The rows of several path → value maps whose values differ (or that some map lacks). */
function differing(maps: Map<string, Json>[]): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  for (const key of unionKeys(maps.map((m) => m.keys()))) {
    const values = maps.map((m) => (m.has(key) ? m.get(key)! : null));
    if (maps.some((m) => !m.has(key)) || values.some((v) => !sameJson(v, values[0]))) rows.push({ key, values });
  }
  return rows;
}

/** Short unique column heads: the directory's name (else the run's); clashes get their parent folder, then a number. */
export function runLabels(runs: RunData[]): string[] {
  const parts = runs.map((r) => (r.dir === undefined ? [] : resolve(r.dir).split(/[\\/]/).filter(Boolean)));
  const base = runs.map((r) => (r.dir === undefined ? r.run.name : basename(resolve(r.dir)) || r.run.name));
  const count = (list: string[], x: string) => list.filter((y) => y === x).length;
  const labels = base.map((b, i) => (count(base, b) > 1 && parts[i].length > 1 ? parts[i].slice(-2).join('/') : b));
  return labels.map((l, i) => (count(labels, l) > 1 ? `${l} (${count(labels.slice(0, i + 1), l)})` : l));
}

function lastNumber(rows: MetricRow[], kind: string, field: 'step' | 'epoch'): number | null {
  for (let i = rows.length - 1; i >= 0; i--) if (rows[i].kind === kind && isFiniteNumber(rows[i][field])) return rows[i][field] as number;
  return null;
}

/** The final `split.metric` values of a run, as the run report's grid reads them (non-finite as null). */
export function finalMetricsMap(data: RunData): Map<string, number | null> {
  return new Map(Object.entries(finalMetrics(data)).map(([k, v]) => [k, isFiniteNumber(v) ? v : null]));
}

function describeRun(data: RunData, label: string, primary: string | undefined): ComparedRun {
  const run = data.run;
  const config = isObject(run.config) ? run.config : {};
  const nameOf = (v: unknown) => (isObject(v) && typeof v.name === 'string' ? v.name : null);
  const duration = Date.parse(String(run.finishedAt ?? run.updatedAt)) - Date.parse(String(run.createdAt));
  const model = isObject(run.model) ? run.model : {};
  return {
    label,
    dir: data.dir ?? null,
    name: run.name,
    status: String(run.status),
    task: nameOf(config.task),
    model: nameOf(config.model),
    seed: isFiniteNumber(run.seed) ? run.seed : isFiniteNumber(config.seed) ? config.seed : null,
    backend: typeof run.backend === 'string' ? run.backend : null,
    steps: lastNumber(data.metrics, 'epoch', 'step') ?? lastNumber(data.metrics, 'step', 'step'),
    epochs: lastNumber(data.metrics, 'epoch', 'epoch'),
    wallTimeSeconds: Number.isFinite(duration) && duration >= 0 ? duration / 1000 : null,
    paramCount: isFiniteNumber(model.paramCount) ? model.paramCount : null,
    primaryMetric: primary ?? null,
  };
}

/** Indices of the best finite values by `better`; empty without a direction, with fewer than two values, or when all are equal. */
export function bestOf(values: (number | null)[], better: Better | null | undefined): number[] {
  if (!better) return [];
  const finite = values.flatMap((v, i) => (isFiniteNumber(v) ? [[v, i] as const] : []));
  if (finite.length < 2) return [];
  const top = better === 'higher' ? Math.max(...finite.map(([v]) => v)) : Math.min(...finite.map(([v]) => v));
  const best = finite.filter(([v]) => v === top).map(([, i]) => i);
  return best.length === finite.length ? [] : best;
}

const metricRank = (metric: string, primaries: Set<string>) => (metric === 'loss' ? 0 : primaries.has(metric) ? 1 : 2);

/**
 * Compare runs: the resolved config paths and versions that differ, the final metrics (every
 * split × metric any run has; null where a run lacks one; the best marked where the metric has a
 * direction) and each analysis' headline numbers (`readHeadline`, aligned by key; the best marked by
 * the number's `better`). Runs of different tasks are compared by key and say so in `notes`.
 */
export function compareRuns(runs: RunData[], options: CompareOptions = {}): RunComparison {
  const labels = options.labels ?? runLabels(runs);
  const better = options.better ?? defaultBetter;
  const described = runs.map((r, i) => describeRun(r, labels[i], options.primaryMetric?.(r)));
  const tasks = [...new Set(described.map((r) => r.task ?? 'unknown'))];
  const notes: string[] = [];
  if (tasks.length > 1) notes.push(`These runs are of different tasks (${tasks.join(', ')}): metrics and headline numbers are compared by name only.`);
  for (const r of described) if (r.status !== 'completed') notes.push(`${r.label} is ${r.status}: its numbers are what it saved.`);
  runs.forEach((r, i) => r.warnings.forEach((w) => notes.push(`${labels[i]}: ${w}`)));

  const configs = differing(runs.map((r) => flattenConfig(r.run.config)));
  const versions = differing(
    runs.map((r) => {
      const m = new Map<string, Json>(Object.entries(isObject(r.run.packages) ? r.run.packages : {}).map(([k, v]) => [k, String(v)]));
      if (isObject(r.run.git)) for (const [k, v] of Object.entries(r.run.git)) m.set(`git.${k}`, v as Json);
      return m;
    }),
  );

  const finals = runs.map(finalMetricsMap);
  const keys = unionKeys(finals.map((m) => m.keys()));
  const primaries = new Set(described.flatMap((r) => r.primaryMetric ?? []));
  const names = unionKeys([keys.map((k) => splitMetricKey(k)![1])]);
  names.sort((a, b) => metricRank(a, primaries) - metricRank(b, primaries));
  const metrics: MetricComparison[] = [];
  for (const split of orderSplits(keys.map((k) => splitMetricKey(k)![0]))) {
    for (const metric of names) {
      const key = `${split}.${metric}`;
      if (!keys.includes(key)) continue;
      const values = finals.map((m) => m.get(key) ?? null);
      const direction = better(metric) ?? null;
      metrics.push({ key, split, metric, values, better: direction, best: bestOf(values, direction), primary: metricRank(metric, primaries) < 2 });
    }
  }

  const max = options.maxHeadlines ?? 16;
  const ids = unionKeys(runs.map((r) => orderAnalyses(r.analyses, r.run.config).map((a) => a.name)));
  const headlines = ids.map((id): AnalysisComparison => {
    const entries = runs.map((r) => r.analyses.find((a) => a.name === id));
    const maps = entries.map((e) => new Map((e ? readHeadline(e, max) : []).map((h) => [h.key, h])));
    const rows = unionKeys(maps.map((m) => m.keys())).map((key): HeadlineComparison => {
      const found = maps.map((m) => m.get(key) ?? null);
      const direction = found.find((h) => h?.better)?.better ?? null;
      const values = found.map((h) => {
        if (!h) return null;
        const { key: _k, label: _l, unit: _u, better: _b, ...value } = h;
        return value;
      });
      const label = found.find((h) => h !== null)!.label;
      return { key, label, unit: found.find((h) => h?.unit)?.unit ?? null, better: direction, best: bestOf(values.map((h) => h?.value ?? null), direction), values };
    });
    return { id, present: entries.map((e) => e !== undefined), rows };
  });
  for (const a of headlines) {
    const missing = a.present.flatMap((p, i) => (p ? [] : [labels[i]]));
    if (missing.length) notes.push(`${missing.join(', ')} ${missing.length === 1 ? 'has' : 'have'} no ${a.id} analysis.`);
  }
  return { runs: described, tasks, notes, configs, versions, metrics, headlines };
}

/** A config value for a table: strings as they are, other values as compact JSON; missing as —. */
export function formatConfigValue(v: Json | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  return JSON.stringify(v);
}

/** A headline number for a table: `15.03 ± 0.2`, `3.2 [2.9, 3.6] (90%)`, with its unit; — when missing or null. */
export function formatHeadlineValue(h: HeadlineValue | null | undefined, unit?: string | null): string {
  if (!h || h.value === null) return '—';
  let text = formatNumber(h.value);
  if (h.stderr !== undefined && h.stderr > 0) text += ` ± ${formatNumber(h.stderr)}`;
  else if (h.interval) text += ` [${formatNumber(h.interval[0])}, ${formatNumber(h.interval[1])}]${h.level !== undefined ? ` (${formatNumber(100 * h.level)}%)` : ''}`;
  return unit ? `${text} ${unit}` : text;
}

/** A table as text cells, shared by the terminal and the page: a head, rows with a key and one cell per run, the best cells marked. */
export interface CompareTable {
  id: string;
  title: string;
  head: string[];
  /** `label`: what the key is, when it says more than the key; `hint`: which way is better. */
  rows: { key: string; cells: string[]; best: boolean[]; label?: string; hint?: string }[];
  /** What the best mark means, when a row has one (the renderer puts its mark before it). */
  note?: string;
  /** Rows left out (with `metrics: 'primary'`). */
  hidden?: number;
  /** Said instead of an empty table. */
  empty: string;
}

export interface CompareTablesOptions {
  /** Metric rows to show: all (the page) or only the loss and primary metrics (the terminal). Default all. */
  metrics?: 'all' | 'primary';
}

/**
 * The tables of a comparison as text: runs, config paths and versions that differ, final metrics
 * and one table per analysis of its headline numbers. `best` marks the best run(s) of a row.
 */
export function compareTables(cmp: RunComparison, options: CompareTablesOptions = {}): CompareTable[] {
  const head = (first: string) => [first, ...cmp.runs.map((r) => r.label)];
  const none = cmp.runs.map(() => false);
  const mark = (best: number[]) => cmp.runs.map((_, i) => best.includes(i));
  const num = (v: number | null) => (v === null ? '—' : formatNumber(v));
  const runRow = (key: string, get: (r: ComparedRun) => string) => ({ key, cells: cmp.runs.map(get), best: none });
  const tables: CompareTable[] = [
    {
      id: 'runs',
      title: 'Runs',
      head: head('run'),
      rows: [
        runRow('directory', (r) => r.dir ?? '—'),
        runRow('status', (r) => r.status),
        runRow('task', (r) => r.task ?? '—'),
        runRow('model', (r) => r.model ?? '—'),
        runRow('parameters', (r) => num(r.paramCount)),
        runRow('seed', (r) => num(r.seed)),
        runRow('backend', (r) => r.backend ?? '—'),
        runRow('epochs', (r) => num(r.epochs)),
        runRow('steps', (r) => num(r.steps)),
        runRow('wall time (s)', (r) => (r.wallTimeSeconds === null ? '—' : r.wallTimeSeconds.toFixed(1))),
      ],
      empty: '',
    },
    {
      id: 'configs',
      title: 'Config differences',
      head: head('path'),
      rows: [...cmp.configs, ...cmp.versions].map((row) => ({ key: row.key, cells: row.values.map(formatConfigValue), best: none })),
      empty: 'The resolved configs, package versions and git state are the same.',
    },
  ];
  const shown = options.metrics === 'primary' ? cmp.metrics.filter((m) => m.primary) : cmp.metrics;
  const hidden = cmp.metrics.length - shown.length;
  tables.push({
    id: 'metrics',
    title: 'Final metrics',
    head: head('split.metric'),
    rows: shown.map((m) => ({ key: m.key, cells: m.values.map(num), best: mark(m.best), hint: m.better ? `${m.better} is better` : undefined })),
    note: shown.some((m) => m.best.length) ? 'best of the runs, where the metric has a direction' : undefined,
    hidden,
    empty: 'No final metrics were recorded.',
  });
  for (const a of cmp.headlines) {
    tables.push({
      id: `analysis-${a.id}`,
      title: `Analysis: ${a.id}`,
      head: head('headline'),
      rows: a.rows.map((h) => ({
        key: h.key,
        cells: h.values.map((v) => formatHeadlineValue(v, h.unit)),
        best: mark(h.best),
        label: h.label !== h.key ? h.label : undefined,
        hint: h.better ? `${h.better} is better` : undefined,
      })),
      note: a.rows.some((h) => h.best.length) ? 'best value of the runs (by value: read the error bars before calling it a difference)' : undefined,
      empty: 'No headline numbers.',
    });
  }
  return tables;
}

/** Vega's tableau10: one colour per run, the same in every panel. */
const RUN_COLORS = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];
const CURVE_SPLITS = ['train', 'test'];

/**
 * The runs' training curves overlaid in one figure: a panel per metric (the loss, then each run's
 * primary metric), one line per run (colour) and split (train solid, test dashed) against epoch.
 * Log y scale for a loss whose values are all positive. Undefined when no run logged epoch metrics.
 */
export function compareCurveFigure(runs: RunData[], cmp: RunComparison): ReportFigure | undefined {
  const labels = cmp.runs.map((r) => r.label);
  const metrics = ['loss', ...new Set(cmp.runs.flatMap((r) => (r.primaryMetric && r.primaryMetric !== 'loss' ? [r.primaryMetric] : [])))];
  const byMetric = new Map<string, Record<string, Json>[]>(metrics.map((m) => [m, []]));
  runs.forEach((r, i) => {
    for (const row of r.metrics) {
      if (row.kind !== 'epoch' || !isFiniteNumber(row.epoch)) continue;
      for (const split of CURVE_SPLITS) {
        for (const metric of metrics) {
          const value = row[`${split}.${metric}`];
          if (isFiniteNumber(value)) byMetric.get(metric)!.push({ run: labels[i], split, epoch: row.epoch, value });
        }
      }
    }
  });
  const panels = metrics.filter((m) => byMetric.get(m)!.length > 0);
  if (panels.length === 0) return undefined;
  const logs: string[] = [];
  const specs = panels.map((metric) => {
    const values = byMetric.get(metric)!;
    const log = metric.endsWith('loss') && values.every((v) => (v.value as number) > 0);
    if (log) logs.push(metric);
    const epochs = new Set(values.map((v) => v.epoch as number));
    const few = epochs.size <= 30;
    const whole = [...epochs].every(Number.isInteger);
    return {
      width: 300,
      height: 200,
      title: metric,
      data: { values },
      mark: few ? { type: 'line', point: true } : { type: 'line' },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', ...(whole ? { axis: { format: 'd', tickMinStep: 1 } } : {}) },
        y: { field: 'value', type: 'quantitative', title: log ? `${metric} (log scale)` : metric, scale: log ? { type: 'log', nice: false } : { zero: false } },
        color: { field: 'run', type: 'nominal', title: 'run', scale: { domain: labels, range: labels.map((_, i) => RUN_COLORS[i % RUN_COLORS.length]) }, sort: labels },
        strokeDash: { field: 'split', type: 'nominal', title: 'split', scale: { domain: CURVE_SPLITS, range: [[1, 0], [6, 3]] }, sort: CURVE_SPLITS, legend: { symbolType: 'stroke' } },
      },
    };
  });
  return {
    name: 'compare-curves',
    title: 'Training curves, runs overlaid',
    caption:
      `${panels.join(' and ')} per epoch on the train (solid) and test (dashed) splits, one colour per run` +
      `${logs.length ? `; ${logs.join(', ')} on a log scale` : ''}; each panel has its own y scale.`,
    spec: { hconcat: specs, resolve: { scale: { color: 'shared', strokeDash: 'shared' } } },
  };
}

function tableHtml(t: CompareTable): string {
  if (t.rows.length === 0) return `<p class="muted">${escapeHtml(t.empty)}</p>`;
  const head = t.head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  const body = t.rows
    .map((row) => {
      const key = `<th scope="row"${row.hint ? ` title="${escapeHtml(row.hint)}"` : ''}><code>${escapeHtml(row.key)}</code>${row.label ? `<br><span class="muted">${escapeHtml(row.label)}</span>` : ''}</th>`;
      const cells = row.cells.map((c, i) => (row.best[i] ? `<td><strong class="num" title="best of the runs">${escapeHtml(c)} ★</strong></td>` : `<td><span class="num">${escapeHtml(c)}</span></td>`));
      return `<tr>${key}${cells.join('')}</tr>`;
    })
    .join('');
  const note = t.note ? `<p class="muted">★ ${escapeHtml(t.note)}.</p>` : '';
  return `<table class="cols"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>${note}`;
}

export interface CompareReportOptions extends CompareOptions {
  /** Options for every plot. */
  render?: RenderOptions;
}

/**
 * A self-contained HTML page comparing runs: the runs, the config paths and versions that differ,
 * the final metrics and analysis headlines side by side (best marked ★), and the training curves
 * overlaid. Inline SVG only, under the reports' strict Content-Security-Policy (no scripts, no network).
 */
export async function buildCompareReport(runs: RunData[], options: CompareReportOptions = {}): Promise<string> {
  const cmp = compareRuns(runs, options);
  const labels = cmp.runs.map((r) => r.label);
  const tables = compareTables(cmp, { metrics: 'primary' });
  const allMetrics = compareTables(cmp)[2];
  const notes = cmp.notes.length ? `<div class="alert warn" role="status"><h2>Notes</h2><ul>${cmp.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></div>` : '';
  const figure = compareCurveFigure(runs, cmp);
  const curves = figure ? await figureGrid([figure], 'compare', options.render) : '<p class="muted">No run logged epoch metrics.</p>';
  const [runTable, configTable, metricTable, ...analysisTables] = tables;
  const toc: [string, string][] = [
    ['runs', 'Runs'],
    ['differences', 'Differences'],
    ['metrics', 'Final metrics'],
    ['headlines', 'Headline numbers'],
    ['curves', 'Training curves'],
  ];
  const body = [
    `<header class="top"><h1>Comparing ${runs.length} runs</h1><p class="meta">${escapeHtml(labels.join(' · '))}</p>` +
      `<nav class="toc">${toc.map(([id, t]) => `<a href="#${id}">${escapeHtml(t)}</a>`).join('')}</nav></header>`,
    notes,
    section('Runs', tableHtml(runTable), 'runs'),
    section('Differences', tableHtml(configTable), 'differences'),
    section(
      'Final metrics',
      tableHtml(metricTable) + (metricTable.hidden ? details(`All ${allMetrics.rows.length} final metrics`, tableHtml(allMetrics)) : ''),
      'metrics',
    ),
    section(
      'Headline numbers',
      analysisTables.length ? analysisTables.map((t) => `<h3 id="${escapeHtml(t.id)}">${escapeHtml(t.title)}</h3>${tableHtml(t)}`).join('') : '<p class="muted">No analyses were run.</p>',
      'headlines',
    ),
    section('Training curves', curves, 'curves'),
    '<footer>Made by @goldstone/report. Self-contained: no scripts, no network.</footer>',
  ];
  return page({ title: `compare ${labels.join(', ')} · goldstone`, body: body.join('\n') });
}
