import { Rng } from '@goldstone/core';
import { isObject as isRecord, settingOf, type Figure, type Json, type SummaryInput } from '@goldstone/plugin-api';
import type { CumulantsOptions } from './options';
import { percentileInterval } from './stats';

/** What the summary reads from one run's `cumulants` result. */
export interface CumulantsRow {
  testMse: number | null;
  /** Mean MSE over the `ood*` splits. */
  oodMse: number | null;
  /** |predicted − target| of κ₁…κ₄ on the test split. */
  testAbsError: (number | null)[];
  /** Mean |predicted − target| of κ₁…κ₄ over the `ood*` splits. */
  oodAbsError: (number | null)[];
  iterable: boolean;
  /** κ₁…κ₄ the flow starts from (k = 0). */
  flowInput: number[] | null;
  /** Per step k = 1…: predicted and theory κ₁…κ₄, whether predicted − target covers 0. */
  flow: { k: number; predicted: (number | null)[]; theory: (number | null)[]; coversZero: (boolean | null)[] }[];
}

/** mean ± s.d. (sample s.d., 0 for one value) of the finite values; null when none. */
export interface MeanSd {
  mean: number;
  sd: number;
  count: number;
}

/** One (model class, line) group of runs. */
export interface GroupRow {
  class: string;
  line: string;
  runs: number;
  testMse: number | null;
  testMseSd: number | null;
  oodMse: number | null;
  oodMseSd: number | null;
  /** Mean over seeds of the mean |κₙ error| over OOD splits, n = 2…4 (and its s.d.). */
  oodK2: number | null;
  oodK2Sd: number | null;
  oodK3: number | null;
  oodK3Sd: number | null;
  oodK4: number | null;
  oodK4Sd: number | null;
  testK4: number | null;
  testK4Sd: number | null;
  iterable: number;
  exact: boolean;
}

/** A claim and its verdict, in the shape the sweep report states first. */
export interface ClaimRow {
  claim: string;
  x: string;
  y: string;
  expect: string;
  verdict: 'reproduced' | 'partly' | 'not reproduced' | 'contradicted' | 'not measured';
  reason: string;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

const label = (v: Json | undefined): string => (typeof v === 'string' ? v : JSON.stringify(v ?? null));

/** The row of a stored cumulants result, or undefined when it is not one. */
export function cumulantsRow(result: unknown): CumulantsRow | undefined {
  if (!isRecord(result) || !isRecord(result.splits) || !isRecord(result.summary)) return undefined;
  const splits = result.splits as Record<string, unknown>;
  const errorsOf = (s: string): (number | null)[] => {
    const orders = isRecord(splits[s]) ? (splits[s] as Record<string, unknown>).orders : undefined;
    return [0, 1, 2, 3].map((i) => (Array.isArray(orders) && isRecord(orders[i]) && isRecord(orders[i].error) ? num(orders[i].error.value) : null));
  };
  const mseOf = (s: string) => (isRecord(splits[s]) ? num((splits[s] as Record<string, unknown>).mse) : null);
  const ood = Object.keys(splits).filter((s) => s.startsWith('ood'));
  const oodMse = ood.map(mseOf);
  const oodErr = ood.map(errorsOf);
  const meanAbs = (vals: (number | null)[]) => (vals.length && vals.every((v) => v !== null) ? (vals as number[]).reduce((a, v) => a + Math.abs(v), 0) / vals.length : null);
  const flow = isRecord(result.flow) ? result.flow : {};
  const steps = Array.isArray(flow.steps) ? flow.steps.filter(isRecord) : [];
  const flowInput = isRecord(flow.inputCumulants) && Array.isArray(flow.inputCumulants.value) ? flow.inputCumulants.value.map((v) => num(v) ?? NaN) : null;
  return {
    testMse: mseOf('test'),
    oodMse: ood.length && oodMse.every((m) => m !== null) ? (oodMse as number[]).reduce((a, m) => a + m, 0) / ood.length : null,
    testAbsError: errorsOf('test').map((e) => (e === null ? null : Math.abs(e))),
    oodAbsError: [0, 1, 2, 3].map((i) => meanAbs(oodErr.map((e) => e[i]))),
    iterable: flow.iterable === true,
    flowInput,
    flow: steps.map((st) => {
      const orders = Array.isArray(st.orders) ? st.orders : [];
      const at = (i: number) => (isRecord(orders[i]) ? orders[i] : {});
      return {
        k: num(st.k) ?? 0,
        predicted: [0, 1, 2, 3].map((i) => (isRecord(at(i).predicted) ? num((at(i).predicted as Record<string, unknown>).value) : null)),
        theory: [0, 1, 2, 3].map((i) => num(at(i).theory)),
        coversZero: [0, 1, 2, 3].map((i) => {
          const e = at(i).error;
          return isRecord(e) && typeof e.coversZero === 'boolean' ? e.coversZero : null;
        }),
      };
    }),
  };
}

export function meanSd(values: readonly (number | null)[]): MeanSd | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (!v.length) return null;
  const mean = v.reduce((a, x) => a + x, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, sd, count: v.length };
}

/**
 * Percentile bootstrap interval of mean(a) − mean(b), the two samples (seeds) resampled
 * independently; with one value on either side the interval is only as wide as the other side's spread.
 */
export function bootstrapMeanDifference(a: readonly number[], b: readonly number[], resamples: number, confidence: number, rng: Rng): { diff: number; lo: number; hi: number } {
  const mean = (x: readonly number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  const reps: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let sa = 0;
    for (let i = 0; i < a.length; i++) sa += a[rng.int(a.length)];
    let sb = 0;
    for (let i = 0; i < b.length; i++) sb += b[rng.int(b.length)];
    reps.push(sa / a.length - sb / b.length);
  }
  const [lo, hi] = percentileInterval(reps, confidence);
  return { diff: mean(a) - mean(b), lo, hi };
}

interface Run {
  run: string;
  cls: string;
  line: string;
  row: CumulantsRow;
}

function matchesClass(value: Json | undefined, match: Record<string, Json>): boolean {
  return Object.entries(match).every(([path, v]) => JSON.stringify((isRecord(value) ? settingOf(value as Record<string, Json>, path) : undefined) ?? null) === JSON.stringify(v ?? null));
}

/** The class of a run: the first of `classes` it matches; without classes, its classBy setting less the line setting. */
function classOf(settings: Record<string, Json>, opts: CumulantsOptions): string | undefined {
  const value = settingOf(settings, opts.classBy);
  if (opts.classes) return opts.classes.find((c) => matchesClass(value, c.match))?.label;
  if (value === undefined) return undefined;
  // the line's own setting inside the class setting (model.options.activation in model) does not make a class
  const prefix = `${opts.classBy}.`;
  if (isRecord(value) && opts.lines.startsWith(prefix)) {
    const copy = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
    const steps = opts.lines.slice(prefix.length).split('.');
    let cur: unknown = copy;
    for (const s of steps.slice(0, -1)) cur = isRecord(cur) ? cur[s] : undefined;
    if (isRecord(cur)) delete cur[steps[steps.length - 1]];
    return label(copy as Json);
  }
  return label(value);
}

const fmt = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 0.01 && Math.abs(v) < 1000 ? v.toFixed(3) : v.toExponential(2));
const intervalText = (d: { diff: number; lo: number; hi: number }) => `${fmt(d.diff)} [${fmt(d.lo)}, ${fmt(d.hi)}]`;

const ORDER_NAMES = ['κ₁', 'κ₂', 'κ₃', 'κ₄'];

/** The per-run measures a group row gives mean and s.d. of (`<name>` and `<name>Sd`). */
const MEASURES: Record<string, (r: CumulantsRow) => number | null> = {
  testMse: (r) => r.testMse,
  oodMse: (r) => r.oodMse,
  oodK2: (r) => r.oodAbsError[1],
  oodK3: (r) => r.oodAbsError[2],
  oodK4: (r) => r.oodAbsError[3],
  testK4: (r) => r.testAbsError[3],
};

/** The headline figure: OOD and test error and |κₙ error| (OOD) against model class, one line per activation. */
export function headlineFigure(groups: GroupRow[], classOrder: string[], lineTitle: string): Figure {
  const panels: { field: keyof GroupRow; sd: keyof GroupRow; title: string }[] = [
    { field: 'testMse', sd: 'testMseSd', title: 'test MSE' },
    { field: 'oodMse', sd: 'oodMseSd', title: 'OOD MSE (mean over OOD splits)' },
    { field: 'oodK2', sd: 'oodK2Sd', title: '|κ₂ error|, mean over OOD splits' },
    { field: 'oodK3', sd: 'oodK3Sd', title: '|κ₃ error|, mean over OOD splits' },
    { field: 'oodK4', sd: 'oodK4Sd', title: '|κ₄ error|, mean over OOD splits' },
  ];
  const charts = panels.map((p) => {
    const rows = groups.filter((g) => g[p.field] !== null).map((g) => ({ class: g.class, line: g.line, mean: g[p.field] as number, sd: (g[p.sd] as number | null) ?? 0, runs: g.runs }));
    const positive = rows.filter((r) => r.mean > 0).map((r) => r.mean);
    const logY = positive.length > 0 && Math.max(...positive) / Math.min(...positive) > 100;
    // on a log axis exact zeros and bars below the smallest mean are drawn at a floor
    const floor = logY ? Math.min(...positive) / 10 : 0;
    const values = rows.map((r) => ({ ...r, value: logY ? Math.max(r.mean, floor) : r.mean, lo: logY ? Math.max(r.mean - r.sd, floor) : r.mean - r.sd, hi: r.mean + r.sd }));
    const x = { field: 'class', type: 'ordinal', sort: classOrder, title: 'model class (most constrained → most expressive)', axis: { labelAngle: -30 } };
    const yScale = logY ? { type: 'log' } : { zero: false };
    const color = { field: 'line', type: 'nominal', title: lineTitle };
    return {
      title: { text: p.title, subtitle: `mean ± s.d. over seeds${logY ? `; log y, values below ${floor.toExponential(1)} drawn at it` : ''}` },
      width: 220,
      height: 200,
      data: { values },
      layer: [
        { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'value', type: 'quantitative', title: logY ? `${p.title} (log scale)` : p.title, scale: yScale }, color, tooltip: [{ field: 'class' }, { field: 'line' }, { field: 'mean', format: '.3e' }, { field: 'sd', format: '.2e' }, { field: 'runs' }] } },
        { mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: logY ? `${p.title} (log scale)` : p.title, scale: yScale }, y2: { field: 'hi' }, color } },
      ],
    };
  });
  return {
    name: 'cumulants-headline',
    title: 'OOD error and cumulant errors against model class',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title: { text: 'OOD error and cumulant errors against model class', subtitle: `one line per ${lineTitle}; classes ordered from most constrained to most expressive` },
      hconcat: charts,
      resolve: { scale: { color: 'shared' } },
    },
  };
}

/** One point of the RG-flow figure. */
export interface FlowPoint {
  class: string;
  line: string;
  n: number;
  k: number;
  mean: number;
  sd: number;
  runs: number;
  theory: number | null;
}

/** The RG-flow figure: κₙ (n = 3, 4) against k for the iterable groups, theory b^(k(1−n/2))κₙ dashed. */
export function flowFigure(points: FlowPoint[], b: number | null): Figure {
  const charts = [3, 4].map((n) => {
    const rows = points.filter((p) => p.n === n).map((p) => ({ ...p, series: `${p.class} · ${p.line}`, lo: p.mean - p.sd, hi: p.mean + p.sd }));
    const theory = new Map<number, number[]>();
    for (const p of points) if (p.n === n && p.theory !== null) theory.set(p.k, [...(theory.get(p.k) ?? []), p.theory]);
    const theoryRows = [...theory.entries()].map(([k, t]) => ({ k, theory: t.reduce((a, v) => a + v, 0) / t.length })).sort((a, c) => a.k - c.k);
    const x = { field: 'k', type: 'quantitative', title: 'RG steps k', axis: { tickMinStep: 1 } };
    return {
      title: { text: `κ${n} against k`, subtitle: `mean ± s.d. over seeds; dashed: theory ${b === null ? 'b' : b}^(k(1−${n}/2))κ${n}` },
      width: 300,
      height: 220,
      layer: [
        { data: { values: rows }, mark: { type: 'line', point: true }, encoding: { x, y: { field: 'mean', type: 'quantitative', title: `κ${n}` }, color: { field: 'series', type: 'nominal', title: 'class · activation' } } },
        { data: { values: rows }, mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: `κ${n}` }, y2: { field: 'hi' }, color: { field: 'series', type: 'nominal', title: 'class · activation' } } },
        { data: { values: theoryRows }, mark: { type: 'line', strokeDash: [6, 4], color: '#000000' }, encoding: { x, y: { field: 'theory', type: 'quantitative', title: `κ${n}` } } },
      ],
    };
  });
  return {
    name: 'cumulants-rg-flow',
    title: 'RG flow: κₙ of the iterated learned map against b^(k(1−n/2))κₙ',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title: { text: 'RG flow: κₙ of the iterated learned map against b^(k(1−n/2))κₙ', subtitle: 'size-agnostic (iterable) models only; k = 0 is the input' },
      hconcat: charts,
      resolve: { scale: { color: 'shared' } },
    },
  };
}

function verdictOf(units: ('for' | 'partly' | 'against' | 'none')[]): ClaimRow['verdict'] {
  if (!units.length) return 'not measured';
  if (units.every((u) => u === 'for')) return 'reproduced';
  if (units.every((u) => u === 'against')) return 'contradicted';
  if (units.some((u) => u === 'for' || u === 'partly')) return 'partly';
  return 'not reproduced';
}

/** The sweep summary of the cumulants analysis: per (model class, activation) errors, the headline and RG-flow figures, and the claims of docs/learned-rg-maps.md. */
export function summarizeCumulants(inputs: SummaryInput[], opts: CumulantsOptions): { result: Json; figures: Figure[] } {
  const notes: string[] = [];
  const runs: Run[] = [];
  let block: number | null = null;
  for (const i of inputs) {
    const row = cumulantsRow(i.result?.result);
    if (!row) {
      notes.push(`run ${i.run}: its result is not a cumulants result; left out`);
      continue;
    }
    const b = num((i.result.result as Record<string, unknown>).block);
    if (b !== null) block = b;
    const settings = i.settings ?? {};
    const cls = classOf(settings, opts);
    if (cls === undefined) {
      notes.push(`run ${i.run}: no class (${opts.classes ? `matches none of classes` : `no setting "${opts.classBy}"`}); left out`);
      continue;
    }
    const lineSetting = settingOf(settings, opts.lines);
    runs.push({ run: i.run, cls, line: lineSetting === undefined ? 'default' : label(lineSetting), row });
  }
  const classOrder = [...new Set([...(opts.classes ?? []).map((c) => c.label), ...runs.map((r) => r.cls)])].filter((c) => runs.some((r) => r.cls === c));
  const lines = [...new Set(runs.map((r) => r.line))];
  const groupRuns = new Map<string, Run[]>();
  const key = (c: string, l: string) => JSON.stringify([c, l]);
  for (const r of runs) groupRuns.set(key(r.cls, r.line), [...(groupRuns.get(key(r.cls, r.line)) ?? []), r]);

  const groups: GroupRow[] = [];
  for (const c of classOrder) {
    for (const l of lines) {
      const rs = groupRuns.get(key(c, l));
      if (!rs) continue;
      const stats: Record<string, number | null> = {};
      for (const [name, pick] of Object.entries(MEASURES)) {
        const m = meanSd(rs.map((r) => pick(r.row)));
        stats[name] = m?.mean ?? null;
        stats[`${name}Sd`] = m?.sd ?? null;
      }
      const ood = stats.oodMse;
      groups.push({ class: c, line: l, runs: rs.length, ...stats, iterable: rs.filter((r) => r.row.iterable).length, exact: ood !== null && ood < opts.exactMse } as GroupRow);
    }
  }
  const groupOf = (c: string, l: string) => groups.find((g) => g.class === c && g.line === l);
  const oodValues = (c: string, l: string) => (groupRuns.get(key(c, l)) ?? []).map((r) => r.row.oodMse).filter((v): v is number => v !== null);
  const rng = new Rng(opts.summarySeed);
  const resamples = Math.max(opts.resamples, 1000);

  // the RG flow, per iterable group: κₙ at k = 0 (the input) … flowSteps
  const flow: FlowPoint[] = [];
  for (const g of groups) {
    const rs = (groupRuns.get(key(g.class, g.line)) ?? []).filter((r) => r.row.iterable && r.row.flow.length > 0);
    if (!rs.length) continue;
    for (const n of [2, 3, 4]) {
      const ks = [0, ...new Set(rs.flatMap((r) => r.row.flow.map((s) => s.k)))].sort((a, c) => a - c);
      for (const k of ks) {
        const vals = rs.map((r) => (k === 0 ? (r.row.flowInput?.[n - 1] ?? null) : (r.row.flow.find((s) => s.k === k)?.predicted[n - 1] ?? null)));
        const th = rs.map((r) => (k === 0 ? (r.row.flowInput?.[n - 1] ?? null) : (r.row.flow.find((s) => s.k === k)?.theory[n - 1] ?? null)));
        const s = meanSd(vals);
        const t = meanSd(th);
        if (s) flow.push({ class: g.class, line: g.line, n, k, mean: s.mean, sd: s.sd, runs: s.count, theory: t?.mean ?? null });
      }
    }
  }

  const claims: ClaimRow[] = [];
  const nonlinear = lines.filter((l) => l !== opts.linear);

  // 1. over-constrained: per non-linear activation (with the linear one every class can be exact), the
  // most constrained class that is not exact against the best class, when it is more constrained than the best
  {
    const units: ('for' | 'partly' | 'against' | 'none')[] = [];
    const parts: string[] = [];
    for (const l of nonlinear) {
      const present = classOrder.filter((c) => groupOf(c, l)?.oodMse != null);
      if (present.length < 2) continue;
      const best = present.reduce((a, c) => ((groupOf(c, l)!.oodMse as number) < (groupOf(a, l)!.oodMse as number) ? c : a));
      const constrained = present.find((c) => !groupOf(c, l)!.exact);
      if (constrained === undefined) {
        parts.push(`${l}: every class exact`);
        continue;
      }
      if (constrained === best) {
        units.push('against');
        parts.push(`${l}: the most constrained non-exact class (${constrained}) is the best`);
        continue;
      }
      if (present.indexOf(constrained) > present.indexOf(best)) {
        units.push('none');
        parts.push(`${l}: every class more constrained than the best (${best}) is exact`);
        continue;
      }
      const d = bootstrapMeanDifference(oodValues(constrained, l), oodValues(best, l), resamples, opts.confidence, rng.split(`over:${l}`));
      units.push(d.lo > 0 ? 'for' : d.diff > 0 ? 'partly' : 'none');
      parts.push(`${l}: ${constrained} − ${best} (best) = ${intervalText(d)}`);
    }
    claims.push({
      claim: 'Over-constrained models generalise poorly: the most constrained class that is not exact has a larger OOD error than the best class',
      x: 'model class',
      y: 'mean OOD MSE',
      expect: 'positive difference',
      verdict: verdictOf(units),
      reason: parts.length ? `OOD MSE differences of means over seeds, ${Math.round(opts.confidence * 100)} % bootstrap interval: ${parts.join('; ')}` : `no non-linear activation with two or more classes`,
    });
  }

  // 2. overly expressive: the expressive class with a non-linear activation against the reference linear model
  {
    const expressive = opts.expressive ?? classOrder[classOrder.length - 1];
    const reference = opts.reference ?? classOrder[0];
    const units: ('for' | 'partly' | 'against' | 'none')[] = [];
    const parts: string[] = [];
    const ref = oodValues(reference ?? '', opts.linear);
    if (expressive !== undefined && reference !== undefined && ref.length) {
      for (const l of nonlinear) {
        const a = oodValues(expressive, l);
        if (!a.length) continue;
        const d = bootstrapMeanDifference(a, ref, resamples, opts.confidence, rng.split(`expressive:${l}`));
        units.push(d.lo > 0 ? 'for' : d.hi < 0 ? 'against' : d.diff > 0 ? 'partly' : 'none');
        parts.push(`${expressive} · ${l} − ${reference} · ${opts.linear} = ${intervalText(d)}`);
      }
    }
    claims.push({
      claim: 'Overly expressive models generalise poorly out of distribution: the free model with a non-linear activation has a larger OOD error than the constrained linear model',
      x: 'model class',
      y: 'mean OOD MSE',
      expect: 'positive difference',
      verdict: verdictOf(units),
      reason: parts.length ? `OOD MSE differences of means over seeds, ${Math.round(opts.confidence * 100)} % bootstrap interval: ${parts.join('; ')}` : `no runs of ${expressive ?? '(no class)'} with a non-linear activation, or of ${reference ?? '(no class)'} · ${opts.linear}`,
    });
  }

  // 3. the RG flow of the exact size-agnostic models: every step's κ₃, κ₄ error covers 0, and the seed means against theory
  {
    const exactIterable = groups.filter((g) => g.exact && g.iterable === g.runs);
    const units: ('for' | 'partly' | 'against' | 'none')[] = [];
    const parts: string[] = [];
    for (const g of exactIterable) {
      const rs = (groupRuns.get(key(g.class, g.line)) ?? []).filter((r) => r.row.flow.length > 0);
      const checks = rs.flatMap((r) => r.row.flow.flatMap((s) => [s.coversZero[2], s.coversZero[3]])).filter((c): c is boolean => c !== null);
      if (!checks.length) continue;
      const covered = checks.filter(Boolean).length;
      const dev = flow
        .filter((p) => p.class === g.class && p.line === g.line && p.k > 0 && (p.n === 3 || p.n === 4) && p.theory !== null)
        .map((p) => `κ${p.n}(k=${p.k}) ${fmt(p.mean)} vs ${fmt(p.theory as number)}`);
      units.push(covered === checks.length ? 'for' : covered >= checks.length / 2 ? 'partly' : 'none');
      parts.push(`${g.class} · ${g.line}: ${covered}/${checks.length} step errors (κ₃, κ₄, ${rs.length} runs) cover 0; seed means against theory: ${dev.join(', ')}`);
    }
    claims.push({
      claim: 'The RG flow of size-agnostic exact models follows b^(k(1−n/2))κₙ',
      x: 'RG steps k',
      y: 'κ₃, κ₄ of the iterated map',
      expect: 'predicted − target covers 0 at every step',
      verdict: verdictOf(units),
      reason: parts.length ? parts.join('; ') : `no exact (mean OOD MSE < ${opts.exactMse}) iterable model class`,
    });
  }

  const figures: Figure[] = [];
  if (groups.length) figures.push(headlineFigure(groups, classOrder, opts.lines));
  if (flow.some((p) => p.n >= 3)) figures.push(flowFigure(flow, block));
  else notes.push('no iterable model: no RG-flow figure');

  const result = {
    method: 'per (model class, line): mean ± s.d. over seeds of the test and mean OOD MSE and of |κₙ error| (predicted − the same split\'s target k-statistics); claims: percentile bootstrap over seeds of differences of means',
    runs: runs.length,
    classBy: opts.classBy,
    lines: opts.lines,
    classes: classOrder,
    lineValues: lines,
    confidence: opts.confidence,
    resamples,
    exactMse: opts.exactMse,
    claims,
    groups,
    flow,
    errorOrders: ORDER_NAMES,
    notes,
  };
  return { result: result as unknown as Json, figures };
}
