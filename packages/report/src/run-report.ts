import { isObject, type Figure } from '@goldstone/plugin-api';
import { figureGrid } from './figure-html';
import { flattenScalars } from './flatten';
import { exactSection, finalMetrics, headlineCard, metricGrid, primaryMetricOf } from './headline-card';
import { columnTable, details, escapeHtml, keyValueTable, page, section, slug } from './html';
import type { AnalysisEntry, RunData, RunInfo } from '@goldstone/run-store/format';
import type { RenderOptions } from './render-svg';
import { trainingCurveFigures, type ReportFigure } from './training-curves';

export interface RunReportOptions {
  /** Options for every plot (default size, theme overrides). */
  render?: RenderOptions;
  /** Step-level training curves longer than this are block-averaged (default 1000 points). */
  maxPoints?: number;
  /** Raw JSON blocks longer than this many characters are cut (default 100 000). */
  maxJsonChars?: number;
}

const ALERT_STATUSES = new Set(['diverged', 'failed']);
const WARN_STATUSES = new Set(['interrupted', 'running', 'created']);

/** "3 h 2 min", "4 min 12 s", "850 ms" between two ISO timestamps, or undefined. */
export function formatDuration(from?: string, to?: string): string | undefined {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function jsonPre(value: unknown, maxChars: number): string {
  let text = JSON.stringify(value, null, 2) ?? 'undefined';
  let note = '';
  if (text.length > maxChars) {
    note = `<p class="muted">Cut at ${maxChars} of ${text.length} characters.</p>`;
    text = text.slice(0, maxChars) + '\n…';
  }
  return `<pre class="json">${escapeHtml(text)}</pre>${note}`;
}

/** The error of a failed run as HTML: its message, and any other fields as JSON. */
function errorHtml(error: unknown): string {
  if (error === undefined || error === null) return '<p>No error message was recorded.</p>';
  if (typeof error === 'string') return `<pre>${escapeHtml(error)}</pre>`;
  if (isObject(error)) {
    const { message, ...rest } = error;
    const head = message !== undefined ? `<pre>${escapeHtml(String(message))}</pre>` : '';
    const more = Object.keys(rest).length ? details('Details', `<pre>${escapeHtml(JSON.stringify(rest, null, 2))}</pre>`, true) : '';
    return head + more || `<pre>${escapeHtml(JSON.stringify(error, null, 2))}</pre>`;
  }
  return `<pre>${escapeHtml(JSON.stringify(error))}</pre>`;
}

function header(run: RunInfo, toc: [string, string][]): string {
  const status = String(run.status);
  const meta = [
    run.backend !== undefined ? `backend ${escapeHtml(run.backend)}` : '',
    run.seed !== undefined ? `seed ${escapeHtml(run.seed)}` : '',
    run.createdAt ? `started ${escapeHtml(run.createdAt)}` : '',
    formatDuration(run.createdAt, run.finishedAt ?? run.updatedAt) ? `took ${escapeHtml(formatDuration(run.createdAt, run.finishedAt ?? run.updatedAt))}` : '',
  ].filter(Boolean);
  const nav = toc.map(([id, label]) => `<a href="#${escapeHtml(id)}">${escapeHtml(label)}</a>`).join('');
  return (
    `<header class="top"><h1>${escapeHtml(run.name)} <span class="badge status-${escapeHtml(slug(status))}">${escapeHtml(status)}</span></h1>` +
    `<p class="meta">${meta.join(' · ')}</p>` +
    (nav ? `<nav class="toc">${nav}</nav>` : '') +
    `</header>`
  );
}

/** A prominent box for a diverged or failed run, a milder one for an interrupted or unfinished one. */
function statusAlert(run: RunInfo): string {
  const status = String(run.status);
  if (ALERT_STATUSES.has(status)) {
    return `<div class="alert" role="alert"><h2>Run ${escapeHtml(status)}</h2>${errorHtml(run.error)}</div>`;
  }
  if (WARN_STATUSES.has(status)) {
    const what =
      status === 'running' || status === 'created'
        ? 'This run had not finished when the report was made; results below are partial.'
        : 'This run was interrupted; results below are what was saved before it stopped. It can be resumed with --resume.';
    const err = run.error !== undefined && run.error !== null ? errorHtml(run.error) : '';
    return `<div class="alert warn" role="status"><h2>Run ${escapeHtml(status)}</h2><p>${what}</p>${err}</div>`;
  }
  return '';
}

function warningsBox(warnings: string[]): string {
  if (warnings.length === 0) return '';
  const items = warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('');
  return `<div class="alert warn"><h2>Problems reading the run</h2><ul>${items}</ul></div>`;
}

function overviewSection(data: RunData): string {
  const run = data.run;
  const rows: [string, unknown][] = [
    ['name', run.name],
    ['status', run.status],
    ['seed', run.seed],
    ['backend', run.backend],
    ['created', run.createdAt],
    ['updated', run.updatedAt],
    ['finished', run.finishedAt],
    ['duration', formatDuration(run.createdAt, run.finishedAt ?? run.updatedAt)],
  ];
  if (data.dir) rows.push(['directory', data.dir]);
  const runTable = `<div><h3>Run</h3>${keyValueTable(rows.filter(([, v]) => v !== undefined))}</div>`;
  const pkgs = isObject(run.packages)
    ? Object.entries(run.packages)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, String(v)] as [string, unknown])
    : [];
  const packages = `<div><h3>Package versions</h3>${keyValueTable(pkgs)}</div>`;
  return section('Overview', `<div class="grid">${runTable}${packages}</div>`, 'overview');
}

function configSection(run: RunInfo, maxJsonChars: number): string {
  const body =
    run.config === undefined
      ? '<p class="muted">run.json records no configuration.</p>'
      : details('Resolved configuration (run.json → config)', jsonPre(run.config, maxJsonChars));
  return section('Configuration', body, 'config');
}

async function trainingSection(data: RunData, options: RunReportOptions): Promise<string> {
  const figures = trainingCurveFigures(data.metrics, { maxPoints: options.maxPoints });
  if (figures.length === 0) {
    const why = data.metrics.length === 0 ? 'No metrics were recorded (metrics.jsonl is missing or empty).' : 'metrics.jsonl has no plottable rows.';
    return section('Training', `<p class="muted">${why}</p>`, 'training');
  }
  return section('Training', await figureGrid(figures, 'training', options.render), 'training');
}

/**
 * The final metrics as a split × metric grid (splits as rows, the primary metric and the loss
 * first), the full `split.metric` list folded below it; from run.json's summary, else the last epoch.
 */
function metricsSection(data: RunData): string {
  const final = finalMetrics(data);
  const task = isObject(data.run.task) ? data.run.task : {};
  const grid = metricGrid(final, primaryMetricOf(task.outputKind));
  if (grid.rows.length === 0) return '';
  const source = isObject(data.run.summary) && Object.keys(data.run.summary).length ? 'run.json → summary and the last epoch of metrics.jsonl' : 'the last epoch of metrics.jsonl';
  // the full list: every summary entry (some are not split metrics), then the grid's
  const all: [string, unknown][] = Object.entries({ ...final, ...(isObject(data.run.summary) ? data.run.summary : {}) });
  return section(
    'Final metrics',
    `<p class="muted">${grid.rows.length} splits × ${grid.metrics.length} metrics, from ${escapeHtml(source)}.</p>` +
      `<div class="scroll">${columnTable(['split', ...grid.metrics], grid.rows)}</div>` +
      details(`All ${all.length} final metrics as a list`, keyValueTable(all)),
    'metrics',
  );
}

/**
 * Provenance with repeats folded: sibling objects that are identical are shown once under their
 * joined keys (`estimators.topEigenvalues, trace, density.eigensolver`), and a long string met
 * again is shown once, the later keys pointing back to the first.
 */
export function provenanceRows(provenance: unknown): [string, unknown][] {
  const collapse = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(collapse);
    if (!isObject(v)) return v;
    const groups = new Map<string, { keys: string[]; value: unknown }>();
    for (const [k, child] of Object.entries(v)) {
      const c = collapse(child);
      const id = isObject(c) ? JSON.stringify(c) : `${k}\u0000${JSON.stringify(c)}`;
      const g = groups.get(id);
      if (g) g.keys.push(k);
      else groups.set(id, { keys: [k], value: c });
    }
    return Object.fromEntries([...groups.values()].map((g) => [g.keys.join(', '), g.value]));
  };
  const rows = flattenScalars(collapse(provenance)).map((r) => [r.key, r.value] as [string, unknown]);
  const firstKey = new Map<string, string>();
  return rows.map(([k, v]) => {
    if (typeof v !== 'string' || v.length < 40) return [k, v];
    const seen = firstKey.get(v);
    if (seen === undefined) {
      firstKey.set(v, k);
      return [k, v];
    }
    return [k, `same as ${seen}`];
  });
}

/** The figures of an analysis, keeping only entries that look like figures. */
function analysisFigures(entry: AnalysisEntry): ReportFigure[] {
  const figures: unknown = entry.figures;
  if (!Array.isArray(figures)) return [];
  return figures
    .filter((f): f is Figure => isObject(f) && isObject(f.spec))
    .map((f) => ({ name: String(f.name ?? ''), title: String(f.title ?? f.name ?? ''), spec: f.spec }));
}

async function analysisSection(entry: AnalysisEntry, options: RunReportOptions, maxJsonChars: number): Promise<string> {
  const id = `analysis-${slug(entry.name)}`;
  const figures = analysisFigures(entry);
  const figs = figures.length ? await figureGrid(figures, `${id}-fig`, options.render) : '';
  const results = flattenScalars(entry.result).map((r) => [r.key, r.value] as [string, unknown]);
  const provenance = isObject(entry.provenance) ? provenanceRows(entry.provenance) : [];
  const body =
    figs +
    `<h3>Results</h3>${keyValueTable(results)}` +
    (provenance.length
      ? details(`Provenance (${provenance.length} fields: versions, settings, data, estimators)`, keyValueTable(provenance), false, 'provenance')
      : '<p class="alert warn">No provenance recorded.</p>') +
    details('Raw result (JSON)', jsonPre(entry.result, maxJsonChars));
  return section(`Analysis: ${entry.name}`, `<div class="analysis">${body}</div>`, id);
}

/**
 * Analyses in the order the config lists them (`config.analyses` as names or `{ id?, name }` objects),
 * the rest after them by name.
 */
export function orderAnalyses(entries: AnalysisEntry[], config: unknown): AnalysisEntry[] {
  const listed: string[] = [];
  const list = isObject(config) ? config.analyses : undefined;
  if (Array.isArray(list)) {
    for (const item of list) {
      const name =
        typeof item === 'string' ? item : isObject(item) && typeof item.id === 'string' ? item.id : isObject(item) && typeof item.name === 'string' ? item.name : undefined;
      if (name !== undefined && !listed.includes(name)) listed.push(name);
    }
  }
  const rank = (e: AnalysisEntry): number => {
    const i = listed.indexOf(e.name);
    return i < 0 ? listed.length : i;
  };
  return [...entries].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

/**
 * A self-contained HTML report of one run: header and status (a diverged or failed run is shown
 * prominently with its error), the headline card (held-out metrics, worst OOD split, each
 * analysis' headline numbers with error bars), the final metrics as a split × metric grid, the
 * learned model against the task's exact solution where the task records one, overview tables
 * (run, package versions), the resolved config, training curves, and each analysis with its
 * figures, a table of its scalar results and its provenance (folded). All plots are inline SVG; the page has no scripts and loads nothing.
 */
export async function buildRunReport(data: RunData, options: RunReportOptions = {}): Promise<string> {
  const maxJsonChars = options.maxJsonChars ?? 100_000;
  const run = data.run;
  const analyses = orderAnalyses(data.analyses, run.config);
  const exact = exactSection(data);
  const metrics = metricsSection(data);
  const toc: [string, string][] = [
    ['headline', 'Headline'],
    ...(metrics ? [['metrics', 'Final metrics'] as [string, string]] : []),
    ...(exact ? [['exact', 'Learned vs exact'] as [string, string]] : []),
    ['overview', 'Overview'],
    ['config', 'Configuration'],
    ['training', 'Training'],
    ...analyses.map((a) => [`analysis-${slug(a.name)}`, a.name] as [string, string]),
  ];
  const parts = [
    header(run, toc),
    statusAlert(run),
    warningsBox(data.warnings ?? []),
    headlineCard(data, analyses),
    metrics,
    exact,
    overviewSection(data),
    configSection(run, maxJsonChars),
    await trainingSection(data, options),
  ];
  for (const entry of analyses) parts.push(await analysisSection(entry, options, maxJsonChars));
  if (analyses.length === 0) parts.push(section('Analyses', '<p class="muted">No analyses were run.</p>', 'analyses'));
  parts.push(`<footer>Made by @goldstone/report${data.dir ? ` from ${escapeHtml(data.dir)}` : ''}. Self-contained: no scripts, no network.</footer>`);
  return page({ title: `${run.name} · ${run.status} · goldstone`, body: parts.join('\n') });
}
