import { isObject, type Json } from '@goldstone/plugin-api';
import type { AnalysisEntry, MetricRow, RunData } from '@goldstone/run-store/format';
import { figureGrid } from './figure-html';
import { columnTable, escapeHtml, formatNumber, page, section } from './html';
import type { RenderOptions } from './render-svg';
import { formatDuration, orderAnalyses } from './run-report';
import { blockAverage, orderSplits, splitMetricKey, type ReportFigure } from './training-curves';

/**
 * Runs side by side: what differs in their resolved configs, their final metrics, and each
 * analysis' headline numbers, as data (`compareRuns`, what `goldstone compare --json` prints) and as
 * a self-contained HTML page with the runs' training curves overlaid (`buildCompareReport`).
 * Reads the run-store format only (never tfjs).
 */

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
}

/** A headline number: its value and, where the analysis gave one, its standard error or interval. */
export interface HeadlineValue {
  value: number | string | boolean | null;
  stderr?: number;
  interval?: [number, number];
}

/** A row of a comparison table: a key and one value per run (null where the run lacks it). */
export interface ComparisonRow<V = Json> {
  key: string;
  values: (V | null)[];
}

/** How an analysis' headline numbers were picked (see `headlineNumbers`). */
export type HeadlineRule = 'list' | 'headline' | 'summary' | 'top-level';

export interface AnalysisComparison {
  /** The result id (analyses/<id>.json). */
  id: string;
  /** The analysis plugin's name, where the run's config records it. */
  analysis: string;
  /** The rule of each run's pick, in run order (null where the run lacks this analysis). */
  rules: (HeadlineRule | null)[];
  rows: ComparisonRow<HeadlineValue>[];
}

export interface RunComparison {
  runs: ComparedRun[];
  /** The distinct tasks of the runs. */
  tasks: string[];
  /** Things to know when reading the tables: runs of different tasks, unfinished runs, read problems. */
  notes: string[];
  /** Run facts (status, steps, wall time, backend, parameters); every row, whether it differs or not. */
  overview: ComparisonRow[];
  /** Resolved config keys (`config.<dotted path>`) and package versions (`packages.<name>`) whose values differ. */
  differences: ComparisonRow[];
  /** Final metrics: every `<split>.<metric>` any run has, from run.json's summary (else the last epoch row). */
  metrics: (ComparisonRow<number> & { split: string; metric: string })[];
  analyses: AnalysisComparison[];
}

export interface CompareOptions {
  /** Column heads, one per run (default: from the directory names, made unique). */
  labels?: string[];
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Per-analysis picks for analyses without a `headline` object: dotted paths into the result,
 * each flattened like a headline. The others follow the generic rule of `headlineNumbers`.
 */
export const HEADLINE_PATHS: Readonly<Record<string, readonly string[]>> = {
  grokking: ['phase', 'final.trainAccuracy', 'final.testAccuracy', 'final.rqi', 'reach.train', 'reach.test'],
  'variance-flatness': ['psi', 'psiExcludesZero', 'gamma'],
  cumulants: ['summary.meanOodMse', 'summary.mse', 'summary.meanAbsOodError'],
  distillation: ['teacher.value', 'summary'],
};

/** Keys never shown as headline numbers (lists of exclusions and remarks, not numbers). */
const SKIPPED_KEYS = new Set(['excluded', 'notes', 'reason', 'description']);
/** At most this many headline numbers per analysis and run. */
const MAX_HEADLINES = 16;
/** Arrays in a headline show their first elements only (the top eigenvalues, κ₁…κ₃). */
const MAX_ARRAY_ITEMS = 3;
const MAX_STRING = 40;

function getPath(value: unknown, path: string): unknown {
  let node = value;
  for (const part of path.split('.')) {
    if (!isObject(node)) return undefined;
    node = node[part];
  }
  return node;
}

/** A `{ value, stderr?, interval? }` estimate as a headline value, or undefined for other values. */
function estimateOf(v: unknown): HeadlineValue | undefined {
  if (!isObject(v) || !('value' in v)) return undefined;
  const value = v.value;
  if (!(typeof value === 'number' || value === null)) return undefined;
  const out: HeadlineValue = { value };
  if (isFiniteNumber(v.stderr)) out.stderr = v.stderr;
  if (Array.isArray(v.interval) && v.interval.length === 2 && v.interval.every(isFiniteNumber)) out.interval = [v.interval[0], v.interval[1]];
  else if (Array.isArray(v.ci) && v.ci.length === 2 && v.ci.every(isFiniteNumber)) out.interval = [v.ci[0], v.ci[1]];
  return out;
}

/** Flatten a headline value into rows: scalars, estimates, the first items of arrays, nested objects by dotted key. */
function headlineRows(key: string, v: unknown, out: [string, HeadlineValue][]): void {
  if (out.length >= MAX_HEADLINES || v === undefined) return;
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return void out.push([key, { value: v }]);
  if (typeof v === 'string') {
    if (v.length <= MAX_STRING) out.push([key, { value: v }]);
    return;
  }
  const estimate = estimateOf(v);
  if (estimate) return void out.push([key, estimate]);
  if (Array.isArray(v)) {
    v.slice(0, MAX_ARRAY_ITEMS).forEach((item, i) => headlineRows(`${key}[${i}]`, item, out));
    return;
  }
  if (isObject(v)) for (const [k, child] of Object.entries(v)) if (!SKIPPED_KEYS.has(k)) headlineRows(key ? `${key}.${k}` : k, child, out);
}

/**
 * The headline numbers of one analysis result, the scalars a researcher reads first:
 * - `list`: the analysis is in `HEADLINE_PATHS`: those paths;
 * - `headline`: the result has a `headline` object (hessian, robustness): its numbers;
 * - `summary`: the result has a `summary` object (compressibility): its numbers;
 * - `top-level`: otherwise the numbers, booleans, short strings and `{ value, stderr }` estimates at
 *   the top level of the result.
 * Estimates keep their stderr and interval; arrays show their first 3 items; at most 16 numbers.
 */
export function headlineNumbers(analysis: string, result: unknown): { rule: HeadlineRule; rows: [string, HeadlineValue][] } {
  const rows: [string, HeadlineValue][] = [];
  const paths = HEADLINE_PATHS[analysis];
  if (paths) {
    for (const path of paths) headlineRows(path, getPath(result, path), rows);
    return { rule: 'list', rows };
  }
  if (isObject(result) && isObject(result.headline)) {
    headlineRows('', result.headline, rows);
    return { rule: 'headline', rows };
  }
  if (isObject(result) && isObject(result.summary)) {
    headlineRows('', result.summary, rows);
    return { rule: 'summary', rows };
  }
  if (isObject(result)) {
    for (const [k, v] of Object.entries(result)) {
      if (SKIPPED_KEYS.has(k)) continue;
      if (v === null || typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= MAX_STRING) || estimateOf(v)) headlineRows(k, v, rows);
    }
  } else headlineRows('value', result, rows);
  return { rule: 'top-level', rows };
}

/** Flatten a config to dotted paths: objects by key, arrays of objects by index (`analyses[0].name`), other arrays whole. */
export function flattenConfig(value: unknown, prefix = '', out = new Map<string, Json>()): Map<string, Json> {
  if (isObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0 && prefix) out.set(prefix, {});
    for (const [k, v] of entries) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (Array.isArray(value) && value.length > 0 && value.every(isObject)) {
    value.forEach((v, i) => flattenConfig(v, `${prefix}[${i}]`, out));
  } else if (value !== undefined) out.set(prefix, value as Json);
  return out;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Short unique column heads: the directory's name, else the run's; clashes get their parent folder, then a number. */
export function runLabels(runs: RunData[]): string[] {
  const parts = runs.map((r) => (r.dir ?? '').split(/[\\/]/).filter(Boolean));
  const base = runs.map((r, i) => parts[i].at(-1) ?? r.run.name);
  const labels = base.map((b, i) => (base.filter((x) => x === b).length > 1 && parts[i].length > 1 ? parts[i].slice(-2).join('/') : b));
  return labels.map((l, i) => (labels.filter((x) => x === l).length > 1 ? `${l} (${labels.slice(0, i + 1).filter((x) => x === l).length})` : l));
}

function lastNumber(rows: MetricRow[], kind: string, field: 'step' | 'epoch'): number | null {
  for (let i = rows.length - 1; i >= 0; i--) if (rows[i].kind === kind && isFiniteNumber(rows[i][field])) return rows[i][field] as number;
  return null;
}

/** The final `<split>.<metric>` values of a run: run.json's summary, else the last epoch row of metrics.jsonl. */
export function finalMetrics(data: RunData): Map<string, number | null> {
  const out = new Map<string, number | null>();
  const summary = isObject(data.run.summary) ? data.run.summary : undefined;
  const epochs = data.metrics.filter((r) => r.kind === 'epoch');
  const source: Record<string, unknown> = summary && Object.keys(summary).length > 0 ? summary : (epochs.at(-1) ?? {});
  for (const [key, value] of Object.entries(source)) {
    if (!splitMetricKey(key)) continue;
    if (typeof value === 'number' || value === null) out.set(key, value);
  }
  return out;
}

function describeRun(data: RunData, label: string): ComparedRun {
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
    steps: lastNumber(data.metrics, 'step', 'step') ?? lastNumber(data.metrics, 'epoch', 'step'),
    epochs: lastNumber(data.metrics, 'epoch', 'epoch'),
    wallTimeSeconds: Number.isFinite(duration) && duration >= 0 ? duration / 1000 : null,
    paramCount: isFiniteNumber(model.paramCount) ? model.paramCount : null,
  };
}

/** The analysis plugin name of a result id, from the run's `config.analyses` (the id itself when not listed). */
function analysisNameOf(data: RunData, id: string): string {
  const list = isObject(data.run.config) ? data.run.config.analyses : undefined;
  if (Array.isArray(list)) {
    for (const item of list) {
      if (item === id) return id;
      if (isObject(item) && typeof item.name === 'string' && (item.id ?? item.name) === id) return item.name;
    }
  }
  const prov = data.analyses.find((a) => a.name === id)?.provenance;
  return isObject(prov) && typeof prov.analysis === 'string' ? prov.analysis : id;
}

/** Keys in first-seen order over several lists. */
function unionKeys(lists: Iterable<string>[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const list of lists) for (const k of list) if (!seen.has(k)) (seen.add(k), out.push(k));
  return out;
}

/**
 * Compare runs: their overview, the resolved config keys and package versions that differ, the final
 * metrics (every split × metric any run has; null where a run lacks one) and each analysis'
 * headline numbers (see `headlineNumbers`). Runs of different tasks are compared by key and say so in `notes`.
 */
export function compareRuns(runs: RunData[], options: CompareOptions = {}): RunComparison {
  const labels = options.labels ?? runLabels(runs);
  const described = runs.map((r, i) => describeRun(r, labels[i]));
  const tasks = [...new Set(described.map((r) => r.task ?? 'unknown'))];
  const notes: string[] = [];
  if (tasks.length > 1) notes.push(`These runs are of different tasks (${tasks.join(', ')}): metrics and analyses are compared by name only.`);
  for (const r of described) if (r.status !== 'completed') notes.push(`${r.label} is ${r.status}: its numbers are what it saved.`);
  runs.forEach((r, i) => r.warnings.forEach((w) => notes.push(`${labels[i]}: ${w}`)));

  const overview: ComparisonRow[] = [
    ['name', (r: ComparedRun) => r.name],
    ['status', (r: ComparedRun) => r.status],
    ['task', (r: ComparedRun) => r.task],
    ['model', (r: ComparedRun) => r.model],
    ['seed', (r: ComparedRun) => r.seed],
    ['steps', (r: ComparedRun) => r.steps],
    ['epochs', (r: ComparedRun) => r.epochs],
    ['wall time (s)', (r: ComparedRun) => (r.wallTimeSeconds === null ? null : Number(r.wallTimeSeconds.toFixed(1)))],
    ['backend', (r: ComparedRun) => r.backend],
    ['parameters', (r: ComparedRun) => r.paramCount],
  ].map(([key, get]) => ({ key: key as string, values: described.map((r) => (get as (r: ComparedRun) => Json)(r)) }));

  const configs = runs.map((r) => flattenConfig(r.run.config, 'config'));
  const packages = runs.map((r) => new Map(Object.entries(isObject(r.run.packages) ? r.run.packages : {}).map(([k, v]) => [`packages.${k}`, String(v)] as [string, Json])));
  const differences: ComparisonRow[] = [];
  for (const maps of [configs, packages]) {
    for (const key of unionKeys(maps.map((m) => m.keys()))) {
      const values = maps.map((m) => (m.has(key) ? m.get(key)! : null));
      if (values.some((v) => !sameJson(v, values[0])) || maps.some((m) => !m.has(key))) differences.push({ key, values });
    }
  }

  const finals = runs.map(finalMetrics);
  const metricKeys = unionKeys(finals.map((m) => m.keys()));
  const splits = orderSplits(metricKeys.map((k) => splitMetricKey(k)![0]));
  const metricNames = unionKeys([metricKeys.map((k) => splitMetricKey(k)![1])]).sort((a, b) => (a === 'loss' ? -1 : b === 'loss' ? 1 : 0));
  const metrics: RunComparison['metrics'] = [];
  for (const split of splits) {
    for (const metric of metricNames) {
      const key = `${split}.${metric}`;
      if (!metricKeys.includes(key)) continue;
      metrics.push({ key, split, metric, values: finals.map((m) => m.get(key) ?? null) });
    }
  }

  const ids = unionKeys(runs.map((r) => orderAnalyses(r.analyses, r.run.config).map((a) => a.name)));
  const analyses: AnalysisComparison[] = ids.map((id) => {
    const picks = runs.map((r) => {
      const entry: AnalysisEntry | undefined = r.analyses.find((a) => a.name === id);
      return entry ? headlineNumbers(analysisNameOf(r, id), entry.result) : null;
    });
    const maps = picks.map((p) => new Map(p?.rows ?? []));
    const owner = runs.findIndex((r) => r.analyses.some((a) => a.name === id));
    return {
      id,
      analysis: analysisNameOf(runs[owner], id),
      rules: picks.map((p) => p?.rule ?? null),
      rows: unionKeys(maps.map((m) => m.keys())).map((key) => ({ key, values: maps.map((m) => m.get(key) ?? null) })),
    };
  });
  return { runs: described, tasks, notes, overview, differences, metrics, analyses };
}

/** A value for a comparison table: numbers with 4 significant digits, estimates as `value ± stderr`, missing as empty. */
export function formatCompareValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (isObject(v) && 'value' in v) {
    const h = v as unknown as HeadlineValue;
    const base = formatCompareValue(h.value);
    if (h.stderr !== undefined && h.stderr > 0) return `${base} ± ${formatNumber(h.stderr)}`;
    if (h.interval && h.interval[0] !== h.interval[1]) return `${base} [${formatNumber(h.interval[0])}, ${formatNumber(h.interval[1])}]`;
    return base;
  }
  return JSON.stringify(v);
}

/** Vega's tableau10: one colour per run, the same in every figure. */
const RUN_COLORS = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];

export interface CompareCurveOptions {
  /** Step-level series longer than this are block-averaged (default 1000 points per run). */
  maxPoints?: number;
}

/**
 * The runs' training curves overlaid, one colour per run (legend: the run labels): the minibatch
 * loss per step, and each logged `<split>.<metric>` against step with a panel per split.
 */
export function compareCurveFigures(runs: RunData[], labels: string[], options: CompareCurveOptions = {}): ReportFigure[] {
  const maxPoints = options.maxPoints ?? 1000;
  const color = { field: 'run', type: 'nominal', title: 'run', scale: { domain: labels, range: labels.map((_, i) => RUN_COLORS[i % RUN_COLORS.length]) }, sort: labels };
  const figures: ReportFigure[] = [];

  const loss: Record<string, Json>[] = [];
  runs.forEach((r, i) => {
    const points = r.metrics.filter((m) => m.kind === 'step' && isFiniteNumber(m.step) && isFiniteNumber(m.loss)).map((m) => ({ x: m.step as number, y: m.loss as number }));
    for (const p of blockAverage(points, maxPoints).points) loss.push({ run: labels[i], step: p.x, loss: p.y });
  });
  if (loss.length > 0) {
    const log = loss.every((p) => (p.loss as number) > 0);
    figures.push({
      name: 'compare-loss-per-step',
      title: 'Training loss per step',
      caption: `Minibatch loss, one line per run${log ? '; log scale' : ''}.`,
      spec: {
        data: { values: loss },
        mark: { type: 'line' },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'step' },
          y: { field: 'loss', type: 'quantitative', title: log ? 'minibatch loss (log scale)' : 'minibatch loss', scale: log ? { type: 'log', nice: false } : { zero: false } },
          color,
        },
      },
    });
  }

  const byMetric = new Map<string, Record<string, Json>[]>();
  runs.forEach((r, i) => {
    for (const row of r.metrics) {
      if (row.kind !== 'epoch' || !isFiniteNumber(row.step)) continue;
      for (const [key, value] of Object.entries(row)) {
        const sm = splitMetricKey(key);
        if (!sm || !isFiniteNumber(value)) continue;
        let list = byMetric.get(sm[1]);
        if (!list) byMetric.set(sm[1], (list = []));
        list.push({ run: labels[i], split: sm[0], step: row.step, value });
      }
    }
  });
  const names = [...byMetric.keys()].sort((a, b) => (a === 'loss' ? -1 : b === 'loss' ? 1 : a.localeCompare(b)));
  for (const metric of names) {
    const values = byMetric.get(metric)!;
    const splits = orderSplits(values.map((v) => v.split as string));
    const log = (metric === 'loss' || metric.endsWith('loss')) && values.every((v) => (v.value as number) > 0);
    const few = new Set(values.map((v) => v.step)).size <= 30;
    figures.push({
      name: `compare-${metric}`,
      title: `${metric} per split against step`,
      caption: `One line per run, a panel per split (${splits.join(', ')})${log ? '; log scale' : ''}; y scales are per panel.`,
      spec: {
        data: { values },
        facet: { field: 'split', type: 'nominal', title: 'split', sort: splits },
        columns: Math.min(4, splits.length),
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: 180,
          height: 120,
          mark: few ? { type: 'line', point: true } : { type: 'line' },
          encoding: {
            x: { field: 'step', type: 'quantitative', title: 'step' },
            y: { field: 'value', type: 'quantitative', title: log ? `${metric} (log scale)` : metric, scale: log ? { type: 'log', nice: false } : { zero: false } },
            color,
          },
        },
      },
    });
  }
  return figures;
}

export interface CompareReportOptions extends CompareOptions, CompareCurveOptions {
  /** Options for every plot. */
  render?: RenderOptions;
}

function rowsTable(runs: ComparedRun[], rows: ComparisonRow<unknown>[], first = 'key'): string {
  return columnTable(
    [first, ...runs.map((r) => r.label)],
    rows.map((row) => [row.key, ...row.values.map((v) => (v === null ? null : typeof v === 'number' ? v : formatCompareValue(v)))]),
  );
}

/**
 * A self-contained HTML page comparing runs: the runs (label, directory, status, …), the config keys
 * and versions that differ, the final metrics and analysis headlines side by side, and the training
 * curves overlaid. Inline SVG only, under the reports' strict Content-Security-Policy (no scripts, no network).
 */
export async function buildCompareReport(runs: RunData[], options: CompareReportOptions = {}): Promise<string> {
  const cmp = compareRuns(runs, options);
  const labels = cmp.runs.map((r) => r.label);
  const notes = cmp.notes.length ? `<div class="alert warn" role="status"><h2>Notes</h2><ul>${cmp.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></div>` : '';
  const legend = columnTable(
    ['run', 'directory', 'name', 'status', 'took'],
    runs.map((r, i) => [labels[i], r.dir ?? '', r.run.name, String(r.run.status), formatDuration(r.run.createdAt, r.run.finishedAt ?? r.run.updatedAt) ?? null]),
  );
  const diff = cmp.differences.length ? rowsTable(cmp.runs, cmp.differences) : '<p class="muted">The resolved configs and package versions are the same.</p>';
  const metrics = cmp.metrics.length ? rowsTable(cmp.runs, cmp.metrics, 'split.metric') : '<p class="muted">No final metrics were recorded.</p>';
  const analyses = cmp.analyses.length
    ? cmp.analyses
        .map((a) => `<h3>${escapeHtml(a.id)}${a.analysis !== a.id ? ` <span class="muted">(${escapeHtml(a.analysis)})</span>` : ''}</h3>${rowsTable(cmp.runs, a.rows)}`)
        .join('')
    : '<p class="muted">No analyses were run.</p>';
  const figures = compareCurveFigures(runs, labels, options);
  const curves = figures.length ? await figureGrid(figures, 'compare', options.render) : '<p class="muted">No metrics were recorded.</p>';
  const toc: [string, string][] = [
    ['runs', 'Runs'],
    ['differences', 'Differences'],
    ['metrics', 'Final metrics'],
    ['analyses', 'Analyses'],
    ['curves', 'Training curves'],
  ];
  const body = [
    `<header class="top"><h1>Comparing ${runs.length} runs</h1><p class="meta">${escapeHtml(labels.join(' · '))}</p>` +
      `<nav class="toc">${toc.map(([id, t]) => `<a href="#${id}">${escapeHtml(t)}</a>`).join('')}</nav></header>`,
    notes,
    section('Runs', legend + rowsTable(cmp.runs, cmp.overview), 'runs'),
    section('Differences', diff, 'differences'),
    section('Final metrics', metrics, 'metrics'),
    section('Analyses', analyses, 'analyses'),
    section('Training curves', curves, 'curves'),
    '<footer>Made by @goldstone/report. Self-contained: no scripts, no network.</footer>',
  ];
  return page({ title: `compare ${labels.join(', ')} · goldstone`, body: body.join('\n') });
}
