import { Rng } from '@goldstone/core';
import { isObject as isRecord, settingOf, type Figure, type Json, type SummaryInput } from '@goldstone/plugin-api';
import type { ClaimOptions, CorrelationsOptions, TrendOptions } from './options';
import { bootstrapSpearman, completePairs, meanSd } from './stats';

/** What one run's `correlations` analysis records. */
export interface CorrelationRow {
  /** The primary metric of the run's own outcomes (`auc`, `accuracy`, `mse`), or null when not measured. */
  metric: string | null;
  complexity: Record<string, number | null>;
  outcomes: Record<string, number | null>;
  /** Why a value is null (a path that did not resolve). */
  notes: string[];
}

/** One cell of the correlation table. */
export interface TableRow {
  /** `all` for the pooled table, else `<groupBy>=<value>`. */
  group: string;
  complexity: string;
  outcome: string;
  /** ρ with its interval and pairs, for reading: `0.62 [0.31, 0.85] (n=14)`. */
  estimate: string;
  rho: number | null;
  lo: number | null;
  hi: number | null;
  /** Runs in the group. */
  n: number;
  /** Runs with both values (missing values are excluded pairwise). */
  pairs: number;
  /** Bootstrap resamples in which ρ was defined. */
  validResamples: number;
}

/** One point of a trend figure: a measure's mean ± s.d. at one (x, line) setting. */
export interface TrendPoint {
  metric: string;
  /** The groupBy group the point is computed within; absent: over all runs. */
  group?: string;
  x: Json;
  line: string;
  mean: number;
  sd: number;
  count: number;
}


function numbers(v: unknown): Record<string, number | null> | undefined {
  if (!isRecord(v)) return undefined;
  const out: Record<string, number | null> = {};
  for (const [k, x] of Object.entries(v)) out[k] = typeof x === 'number' && Number.isFinite(x) ? x : null;
  return out;
}

/** A run's row, or undefined when the stored result is not one. */
export function rowOf(result: unknown): CorrelationRow | undefined {
  if (!isRecord(result)) return undefined;
  const complexity = numbers(result.complexity);
  const outcomes = numbers(result.outcomes);
  if (!complexity || !outcomes) return undefined;
  return { metric: typeof result.metric === 'string' ? result.metric : null, complexity, outcomes, notes: Array.isArray(result.notes) ? result.notes.filter((n): n is string => typeof n === 'string') : [] };
}

const fmt = (v: number) => (Math.abs(v) < 0.005 ? '0.00' : v.toFixed(2));

export function cellText(e: { rho: number | null; lo: number | null; hi: number | null; pairs: number }): string {
  if (e.rho === null) return `— (n=${e.pairs})`;
  return e.lo === null || e.hi === null ? `${fmt(e.rho)} (n=${e.pairs})` : `${fmt(e.rho)} [${fmt(e.lo)}, ${fmt(e.hi)}] (n=${e.pairs})`;
}

export const settingLabel = (v: Json | undefined): string => (typeof v === 'string' ? v : JSON.stringify(v ?? null));

interface Run {
  run: string;
  settings: Record<string, Json>;
  row: CorrelationRow;
}

/** Names in the order the options list them, then any others the rows have, in order of first appearance. */
function namesOf(first: string[], rows: Run[], pick: (r: CorrelationRow) => Record<string, unknown>): string[] {
  const names = new Set(first);
  for (const r of rows) for (const k of Object.keys(pick(r.row))) names.add(k);
  return [...names];
}

/** The correlation table of a group of runs: every complexity measure against every outcome. */
function tableOf(group: string, runs: Run[], complexity: string[], outcomes: string[], opts: CorrelationsOptions): TableRow[] {
  const rows: TableRow[] = [];
  for (const c of complexity) {
    for (const o of outcomes) {
      const p = completePairs(
        runs.map((r) => r.row.complexity[c] ?? null),
        runs.map((r) => r.row.outcomes[o] ?? null),
      );
      // Each cell has its own stream, so adding a measure does not change the intervals of the others.
      const rng = new Rng(opts.seed).split(`${group}\u0000${c}\u0000${o}`);
      const e = bootstrapSpearman(p.x, p.y, { resamples: opts.resamples, confidence: opts.confidence, rng });
      rows.push({ group, complexity: c, outcome: o, estimate: cellText(e), rho: e.rho, lo: e.lo, hi: e.hi, n: runs.length, pairs: e.pairs, validResamples: e.validResamples });
    }
  }
  return rows;
}

/** Heat map of a table: complexity × outcome, colour ρ on a diverging scale fixed to [−1, 1], ρ and interval as text. */
export function heatMap(name: string, title: string, rows: TableRow[], complexity: string[], outcomes: string[], confidence: number): Figure {
  const values = rows.map((r) => ({
    complexity: r.complexity,
    outcome: r.outcome,
    rho: r.rho,
    label: r.rho === null ? `n/a (n=${r.pairs})` : `ρ = ${fmt(r.rho)}`,
    interval: r.lo === null || r.hi === null ? `n=${r.pairs}` : `[${fmt(r.lo)}, ${fmt(r.hi)}] n=${r.pairs}`,
  }));
  // white text on the dark ends of the scale
  const textColor = { condition: { test: 'datum.rho !== null && abs(datum.rho) > 0.6', value: '#ffffff' }, value: '#000000' };
  const axes = {
    x: { field: 'outcome', type: 'nominal', sort: outcomes, title: 'outcome', axis: { labelAngle: -30 } },
    y: { field: 'complexity', type: 'nominal', sort: complexity, title: 'complexity' },
  };
  return {
    name,
    title,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title: { text: title, subtitle: `Spearman ρ across runs, ${Math.round(confidence * 100)} % bootstrap interval` },
      data: { values },
      width: { step: 110 },
      height: { step: 48 },
      encoding: axes,
      layer: [
        {
          mark: { type: 'rect', stroke: '#ffffff' },
          encoding: { color: { field: 'rho', type: 'quantitative', scale: { scheme: 'redblue', domain: [-1, 1], domainMid: 0, reverse: true }, legend: { title: 'ρ' } } },
        },
        { mark: { type: 'text', baseline: 'bottom', dy: -2, fontSize: 12 }, encoding: { text: { field: 'label', type: 'nominal' }, color: textColor } },
        { mark: { type: 'text', baseline: 'top', dy: 2, fontSize: 9 }, encoding: { text: { field: 'interval', type: 'nominal' }, color: textColor } },
      ],
    },
  };
}

/** Mean ± s.d. of `metric` per (x, line) setting over the runs that have it. */
function trendPoints(metric: string, runs: Run[], trend: TrendOptions, notes: string[]): TrendPoint[] {
  const cells = new Map<string, { x: Json; line: string; values: number[] }>();
  let noX = 0;
  let noLine = 0;
  for (const r of runs) {
    const v = r.row.complexity[metric] ?? r.row.outcomes[metric] ?? null;
    if (v === null) continue;
    const x = settingOf(r.settings, trend.x);
    if (x === undefined) {
      noX++;
      continue;
    }
    const lineSetting = trend.lines === undefined ? undefined : settingOf(r.settings, trend.lines);
    if (trend.lines !== undefined && lineSetting === undefined) noLine++;
    const line = trend.lines === undefined ? 'all' : settingLabel(lineSetting);
    const key = JSON.stringify([x, line]);
    const cell = cells.get(key) ?? { x, line, values: [] };
    cell.values.push(v);
    cells.set(key, cell);
  }
  if (noX > 0) notes.push(`trend ${metric}: ${noX} run(s) have no setting "${trend.x}" (only swept settings are known; sweep it)`);
  if (noLine > 0) notes.push(`trend ${metric}: ${noLine} run(s) have no setting "${trend.lines}" (drawn as the line "null")`);
  return [...cells.values()].map((c) => ({ metric, x: c.x, line: c.line, ...meanSd(c.values), count: c.values.length }));
}

/**
 * A trend figure: the measure against the swept setting, one line per value of `lines`, mean ± s.d.
 * bars. A log x axis when every x is positive; when the rest are positive, x = 0 cannot sit on it and
 * is drawn as a dashed horizontal rule per line at its mean.
 */
export function trendFigure(metric: string, points: TrendPoint[], trend: TrendOptions, group?: { label: string; index: number }): Figure {
  const numeric = points.every((p) => typeof p.x === 'number');
  const xs = points.map((p) => p.x as number);
  const positive = numeric && xs.some((x) => x > 0) && xs.every((x) => x >= 0);
  const zeroAside = positive && xs.some((x) => x === 0);
  const main = points.filter((p) => !zeroAside || p.x !== 0).map((p) => ({ ...p, lo: p.mean - p.sd, hi: p.mean + p.sd }));
  const zeros = zeroAside ? points.filter((p) => p.x === 0).map((p) => ({ ...p, lo: p.mean - p.sd, hi: p.mean + p.sd })) : [];
  const xEnc = { field: 'x', type: numeric ? 'quantitative' : 'ordinal', title: positive ? `${trend.x} (log scale)` : trend.x, ...(positive ? { scale: { type: 'log' } } : {}) };
  // Measures that span more than two decades (curvatures) read on a log axis; bars below it are cut at the smallest mean.
  const means = points.map((p) => p.mean);
  const logY = means.every((m) => m > 0) && Math.max(...means) / Math.min(...means) > 100;
  if (logY) {
    const floor = Math.min(...means);
    for (const p of [...main, ...zeros]) p.lo = Math.max(p.lo, floor / 10);
  }
  const yScale = logY ? { type: 'log' } : { zero: false };
  const color = { field: 'line', type: 'nominal', title: trend.lines ?? '', legend: { titleLimit: 400 } };
  const yTitle = `${metric} (mean ± s.d.${logY ? ', log scale' : ''})`;
  const layer: Record<string, unknown>[] = [
    { data: { values: main }, mark: { type: 'line', point: true }, encoding: { x: xEnc, y: { field: 'mean', type: 'quantitative', title: yTitle, scale: yScale }, color } },
    { data: { values: main }, mark: { type: 'errorbar', ticks: true }, encoding: { x: xEnc, y: { field: 'lo', type: 'quantitative', title: yTitle, scale: yScale }, y2: { field: 'hi' }, color } },
  ];
  if (zeros.length) {
    layer.push({ data: { values: zeros }, mark: { type: 'rule', strokeDash: [4, 4] }, encoding: { y: { field: 'mean', type: 'quantitative', title: yTitle, scale: yScale }, color } });
  }
  const subtitle = [
    `mean ± s.d. over the other settings (seeds)${logY ? '; log y axis' : ''}`,
    ...(zeroAside ? [`dashed: ${trend.x} = 0 (not on the log axis)`] : []),
  ];
  return {
    name: group ? `trend-${metric}-${group.index}` : `trend-${metric}`,
    title: `${metric} against ${trend.x}${group ? `, ${group.label}` : ''}`,
    spec: { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title: { text: `${metric} against ${trend.x}${group ? `, ${group.label}` : ''}`, subtitle }, width: 360, height: 240, layer },
  };
}

/** The verdict on one claim. */
export interface ClaimVerdict {
  claim: string;
  x: string;
  y: string;
  expect: 'positive' | 'negative';
  verdict: 'reproduced' | 'partly' | 'not reproduced' | 'contradicted' | 'not measured';
  /** Why, in one line: the pooled estimate and the groups that reproduce it. */
  reason: string;
  /** ρ with its interval per group (`all` first). */
  estimates: { group: string; rho: number | null; lo: number | null; hi: number | null; pairs: number; estimate: string }[];
}

/** A run's value of `name`: a measure of its row, else a numeric swept setting; null when neither. */
function valueOf(r: Run, name: string): number | null {
  const m = r.row.complexity[name] ?? r.row.outcomes[name];
  if (m !== undefined) return m;
  const s = settingOf(r.settings, name);
  return typeof s === 'number' && Number.isFinite(s) ? s : null;
}

/** Whether a run's settings match `where` (values compared as JSON). */
function matches(r: Run, where: Record<string, unknown> | undefined): boolean {
  if (!where) return true;
  return Object.entries(where).every(([path, v]) => JSON.stringify(settingOf(r.settings, path) ?? null) === JSON.stringify(v ?? null));
}

/** Test each claim on the pooled runs and on each group. */
export function judgeClaims(claims: ClaimOptions[], groups: { label: string; runs: Run[] }[], opts: CorrelationsOptions): ClaimVerdict[] {
  return claims.map((c, i) => {
    const estimates = groups.map((g) => {
      const runs = g.runs.filter((r) => matches(r, c.where));
      const p = completePairs(runs.map((r) => valueOf(r, c.x)), runs.map((r) => valueOf(r, c.y)));
      const rng = new Rng(opts.seed).split(`claim:${i}\u0000${g.label}`);
      const e = bootstrapSpearman(p.x, p.y, { resamples: opts.resamples, confidence: opts.confidence, rng });
      return { group: g.label, rho: e.rho, lo: e.lo, hi: e.hi, pairs: e.pairs, estimate: cellText(e) };
    });
    const sign = c.expect === 'positive' ? 1 : -1;
    const supports = (e: (typeof estimates)[number]) => e.lo !== null && e.hi !== null && (sign > 0 ? e.lo > 0 : e.hi < 0);
    const opposes = (e: (typeof estimates)[number]) => e.lo !== null && e.hi !== null && (sign > 0 ? e.hi < 0 : e.lo > 0);
    const [pooled, ...rest] = estimates;
    // With groups (groupBy), the verdict is taken within them: a pooled ρ across groups can come from
    // the differences between the groups alone (one model sharper and worse than another).
    const units = rest.length ? rest : [pooled];
    const measured = units.filter((e) => e.rho !== null);
    const unitsFor = measured.filter(supports);
    const unitsAgainst = measured.filter(opposes);
    let verdict: ClaimVerdict['verdict'];
    if (measured.length === 0) verdict = 'not measured';
    else if (unitsFor.length === units.length) verdict = 'reproduced';
    else if (unitsAgainst.length > 0 && unitsFor.length === 0) verdict = 'contradicted';
    else if (unitsFor.length > 0 || measured.every((e) => sign * (e.rho as number) > 0)) verdict = 'partly';
    else verdict = 'not reproduced';
    const within = c.where ? ` (runs with ${Object.entries(c.where).map(([k, v]) => `${k}=${settingLabel(v as Json)}`).join(', ')})` : '';
    const parts = [`predicted ${c.expect}${within}`];
    if (rest.length) {
      parts.push(...rest.map((e) => `${e.group}: ρ = ${e.estimate}`));
      parts.push(`pooled: ρ = ${pooled.estimate}`);
    } else parts.push(`ρ = ${pooled.estimate}`);
    return { claim: c.claim, x: c.x, y: c.y, expect: c.expect, verdict, reason: parts.join('; '), estimates };
  });
}

/** The sweep's correlation summary: pooled (and per-group) tables of ρ with intervals, a heat map each, trend figures. */
export function summarizeCorrelations(inputs: SummaryInput[], opts: CorrelationsOptions): { result: Json; figures: Figure[] } {
  const notes: string[] = [];
  const runs: Run[] = [];
  for (const i of inputs) {
    const row = rowOf(i.result?.result);
    if (row) runs.push({ run: i.run, settings: i.settings ?? {}, row });
    else notes.push(`run ${i.run}: its result is not a correlations row ({ complexity, outcomes }); left out`);
  }
  const complexity = namesOf(Object.keys(opts.complexity), runs, (r) => r.complexity);
  const outcomes = namesOf([], runs, (r) => r.outcomes);
  for (const name of [...complexity, ...outcomes]) {
    const missing = runs.filter((r) => (r.row.complexity[name] ?? r.row.outcomes[name] ?? null) === null).length;
    if (missing > 0) notes.push(`${name}: missing in ${missing} of ${runs.length} run(s)`);
  }

  const groups: { label: string; runs: Run[] }[] = [{ label: 'all', runs }];
  if (opts.groupBy !== undefined) {
    const by = new Map<string, Run[]>();
    let without = 0;
    for (const r of runs) {
      const v = settingOf(r.settings, opts.groupBy);
      if (v === undefined) {
        without++;
        continue;
      }
      const label = `${opts.groupBy}=${settingLabel(v)}`;
      by.set(label, [...(by.get(label) ?? []), r]);
    }
    if (without > 0) notes.push(`groupBy: ${without} run(s) have no setting "${opts.groupBy}" (only swept settings are known); they count only in the pooled table`);
    for (const [label, rs] of by) groups.push({ label, runs: rs });
  }

  const table = groups.flatMap((g) => tableOf(g.label, g.runs, complexity, outcomes, opts));
  const figures: Figure[] = [];
  if (complexity.length && outcomes.length) {
    for (const [k, g] of groups.entries()) {
      const rows = table.filter((r) => r.group === g.label);
      figures.push(heatMap(k === 0 ? 'correlations' : `correlations-${k}`, k === 0 ? 'Complexity against outcomes' : `Complexity against outcomes, ${g.label}`, rows, complexity, outcomes, opts.confidence));
    }
  } else notes.push(`nothing to correlate: ${complexity.length} complexity measure(s), ${outcomes.length} outcome(s)`);

  let trend: TrendPoint[] | undefined;
  if (opts.trend) {
    trend = [];
    for (const m of opts.trend.metrics ?? complexity) {
      if (!complexity.includes(m) && !outcomes.includes(m)) {
        notes.push(`trend: no measure "${m}" (complexity: ${complexity.join(', ') || 'none'}; outcomes: ${outcomes.join(', ') || 'none'})`);
        continue;
      }
      const points = trendPoints(m, runs, opts.trend, notes);
      trend.push(...points);
      if (points.length) figures.push(trendFigure(m, points, opts.trend));
      // and within each group (groupBy): measures of different models live on different scales
      for (const [k, g] of groups.entries()) {
        if (k === 0) continue;
        const own = trendPoints(m, g.runs, opts.trend, []);
        trend.push(...own.map((p) => ({ ...p, group: g.label })));
        if (own.length) figures.push(trendFigure(m, own, opts.trend, { label: g.label, index: k }));
      }
    }
  }
  const claims = judgeClaims(opts.claims, groups, opts);
  const metrics = [...new Set(runs.map((r) => r.row.metric).filter((m): m is string => m !== null))];
  const result = {
    method: 'Spearman rank correlation (ties: average ranks), percentile bootstrap over runs',
    runs: runs.length,
    metric: metrics.length === 1 ? metrics[0] : metrics.length ? metrics : null,
    complexity,
    outcomes,
    confidence: opts.confidence,
    resamples: opts.resamples,
    seed: opts.seed,
    groupBy: opts.groupBy ?? null,
    groups: groups.map((g) => ({ group: g.label, n: g.runs.length })),
    // flat rows, so that the report shows them as tables
    ...(claims.length
      ? { claims: claims.map(({ estimates: _, ...c }) => c), claimEstimates: claims.flatMap((c) => c.estimates.map((e) => ({ claim: c.claim, ...e }))) }
      : {}),
    table,
    ...(trend ? { trend } : {}),
    notes: [...notes, ...[...new Set(runs.flatMap((r) => r.row.notes))]],
  };
  return { result: result as unknown as Json, figures };
}
