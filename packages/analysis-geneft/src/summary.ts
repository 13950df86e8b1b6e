import { Rng } from '@goldstone/core';
import { isObject, settingOf, type Figure, type Json, type SummaryInput } from '@goldstone/plugin-api';
import { byValue, fitTransitionWithInterval, goldilocks, meanSpread, transitionCurve, type GoldilocksTest, type TransitionEstimate } from './fit';
import type { GeneftOptions } from './options';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** What the summary reads of one run's geneft result. */
export interface GeneftRow {
  run: string;
  part: string | null;
  settings: Record<string, Json>;
  /** `order`, `equivalence mod 3`, `cycle`, …: the relation with its modulus. */
  relation: string;
  testAccuracy: number;
  chance: number | null;
  pcInfo: number | null;
  bits: number | null;
  absRho: number | null;
  distanceRho: number | null;
  parallelogram: number | null;
  classRatio: number | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const get = (o: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (isObject(v) ? v[k] : undefined), o);

/** A run's row, or undefined when its stored result is not a geneft result with a test accuracy. */
export function geneftRow(input: SummaryInput): GeneftRow | undefined {
  const r = input.result?.result;
  const test = num(get(r, 'accuracy', 'test'));
  const relation = get(r, 'relation');
  if (!isObject(r) || test === null || typeof relation !== 'string') return undefined;
  const k = num(r.k);
  const part = input.part;
  return {
    run: input.run,
    part: typeof part === 'string' ? part : null,
    settings: input.settings ?? {},
    relation: relation === 'equivalence' && k !== null ? `equivalence mod ${k}` : relation,
    testAccuracy: test,
    chance: num(get(r, 'chance', 'test')),
    pcInfo: num(get(r, 'information', 'pcInfo')),
    bits: num(get(r, 'information', 'bits')),
    absRho: num(get(r, 'geometry', 'principal', 'absRho')),
    distanceRho: num(get(r, 'geometry', 'distance', 'rho')),
    parallelogram: num(get(r, 'geometry', 'parallelogram', 'residual')),
    classRatio: num(get(r, 'geometry', 'classRatio')),
  };
}

const fmt = (v: number | null, digits = 3): string => (v === null ? '—' : Number(v.toPrecision(digits)).toString());

/** Rows grouped by relation, in order of first appearance. */
function byRelation(rows: GeneftRow[]): [string, GeneftRow[]][] {
  const m = new Map<string, GeneftRow[]>();
  for (const r of rows) m.set(r.relation, [...(m.get(r.relation) ?? []), r]);
  return [...m.entries()];
}

const firstOf = (rows: GeneftRow[], f: (r: GeneftRow) => number | null): number | null => rows.map(f).find((v) => v !== null) ?? null;

/** The p_c fit of one relation, as the summary records it. */
export interface TransitionRow {
  relation: string;
  runs: number;
  /** Distinct values of p. */
  points: number;
  pMin: number;
  pMax: number;
  chance: number;
  halfway: number;
  pc: number | null;
  pcLo: number | null;
  pcHi: number | null;
  width: number | null;
  rmse: number | null;
  inRange: boolean;
  pcInfo: number | null;
  bits: number | null;
  /** The fit as text: `0.21 [0.17, 0.25]`. */
  estimate: string;
}

function transitionRow(relation: string, rows: GeneftRow[], p: (r: GeneftRow) => number, opts: GeneftOptions, notes: string[]): { row: TransitionRow; fit: TransitionEstimate } {
  const chances = rows.map((r) => r.chance).filter((c): c is number => c !== null);
  const chance = chances.length ? meanSpread(chances).mean : 0.5;
  if (!chances.length) notes.push(`${relation}: no run recorded its chance accuracy; 0.5 used`);
  const points = rows.map((r) => ({ p: p(r), accuracy: r.testAccuracy }));
  const rng = new Rng(opts.summarySeed).split(`pc:${relation}`);
  const fit = fitTransitionWithInterval(points, chance, opts.summaryResamples, opts.confidence, rng);
  const ps = points.map((q) => q.p);
  const estimate = fit.pc === null ? '—' : fit.lo === null || fit.hi === null ? fmt(fit.pc) : `${fmt(fit.pc)} [${fmt(fit.lo)}, ${fmt(fit.hi)}]`;
  return {
    fit,
    row: {
      relation,
      runs: rows.length,
      points: new Set(ps).size,
      pMin: Math.min(...ps),
      pMax: Math.max(...ps),
      chance,
      halfway: (chance + 1) / 2,
      pc: fit.pc,
      pcLo: fit.lo,
      pcHi: fit.hi,
      width: fit.width,
      rmse: fit.rmse,
      inRange: fit.inRange,
      pcInfo: firstOf(rows, (r) => r.pcInfo),
      bits: firstOf(rows, (r) => r.bits),
      estimate,
    },
  };
}

/** Test accuracy against p per relation: mean ± s.d. over seeds, the fitted curve, p_c with its interval band, p_c^info dashed. */
export function transitionFigure(rows: TransitionRow[], means: { relation: string; p: number; mean: number; sd: number }[]): Figure {
  const curve = rows.flatMap((t) => {
    if (t.pc === null || t.width === null) return [];
    const lo = Math.log(t.pMin);
    const hi = Math.log(t.pMax);
    return Array.from({ length: 80 }, (_, i) => {
      const p = Math.exp(lo + ((hi - lo) * i) / 79);
      return { relation: t.relation, p, accuracy: transitionCurve(p, t.pc!, t.width!, t.chance) };
    });
  });
  const x = { field: 'p', type: 'quantitative', title: 'train fraction p (log axis)', scale: { type: 'log' }, axis: { format: '~g' } };
  const color = { field: 'relation', type: 'nominal', title: 'relation' };
  const y = { type: 'quantitative', title: 'test accuracy (mean ± s.d. over seeds)', scale: { domain: [0, 1] } };
  const pts = means.map((m) => ({ ...m, lo: Math.max(0, m.mean - m.sd), hi: Math.min(1, m.mean + m.sd) }));
  const bands = rows.filter((t) => t.pcLo !== null && t.pcHi !== null).map((t) => ({ relation: t.relation, p: t.pcLo, p2: t.pcHi }));
  const pcs = rows.filter((t) => t.pc !== null).map((t) => ({ relation: t.relation, p: t.pc, label: `p_c ${t.estimate}` }));
  const infos = rows.filter((t) => t.pcInfo !== null).map((t) => ({ relation: t.relation, p: t.pcInfo, label: `p_c^info ${fmt(t.pcInfo)}` }));
  return {
    name: 'geneft-transition',
    title: 'Test accuracy against the train fraction p, with the fitted p_c and the information bound',
    spec: {
      $schema: SCHEMA,
      title: {
        text: 'Test accuracy against the train fraction p',
        subtitle: [
          'points: mean ± s.d. over seeds; line: fit acc = c + (1 − c)·σ((ln p − ln p_c)/w), c = chance (majority label)',
          'solid rule: p_c (accuracy halfway between chance and 1) with its bootstrap band; dashed rule: p_c^info = b / (pairs · H)',
        ],
      },
      width: 420,
      height: 280,
      layer: [
        { data: { values: bands }, mark: { type: 'rect', opacity: 0.15 }, encoding: { x, x2: { field: 'p2' }, color } },
        { data: { values: pcs }, mark: { type: 'rule', strokeWidth: 2 }, encoding: { x, color, tooltip: { field: 'label' } } },
        { data: { values: infos }, mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5 }, encoding: { x, color, tooltip: { field: 'label' } } },
        { data: { values: curve }, mark: { type: 'line' }, encoding: { x, y: { ...y, field: 'accuracy' }, color } },
        { data: { values: pts }, mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color } },
        { data: { values: pts }, mark: { type: 'point', filled: true }, encoding: { x, y: { ...y, field: 'mean' }, color } },
      ],
    },
  };
}

/** One cell of the width/depth scan. */
export interface WidthCell {
  relation: string;
  depth: number;
  width: number;
  mean: number;
  sd: number;
  count: number;
}

/** Test accuracy against decoder width (log axis), one line per depth (and relation). */
export function goldilocksFigure(cells: WidthCell[]): Figure {
  const relations = new Set(cells.map((c) => c.relation));
  const values = cells.map((c) => ({ ...c, line: relations.size > 1 ? `${c.relation}, depth ${c.depth}` : `depth ${c.depth}`, lo: Math.max(0, c.mean - c.sd), hi: Math.min(1, c.mean + c.sd) }));
  return lineFigure({
    name: 'geneft-goldilocks',
    title: 'Test accuracy against decoder width and depth (the Goldilocks zone)',
    text: 'Test accuracy against decoder width',
    subtitle: 'mean ± s.d. over seeds, one line per depth (hidden layers)',
    values,
    x: { field: 'width', title: 'decoder width (units per hidden layer, log axis)' },
    lines: 'decoder',
    y: { title: 'test accuracy (mean ± s.d. over seeds)', scale: { zero: false } },
  });
}

/** Mean ± s.d. lines against a log x axis, one per value of `line`, with error bars. */
function lineFigure(f: { name: string; title: string; text: string; subtitle: string; values: Record<string, unknown>[]; x: { field: string; title: string }; lines: string; y: Record<string, unknown> }): Figure {
  const x = { ...f.x, type: 'quantitative', scale: { type: 'log' }, axis: { format: '~g' } };
  const color = { field: 'line', type: 'nominal', title: f.lines, legend: { labelLimit: 320 } };
  const y = { type: 'quantitative', ...f.y };
  const layer = [
    { mark: { type: 'line', point: true }, encoding: { x, y: { ...y, field: 'mean' }, color } },
    { mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color } },
  ];
  return { name: f.name, title: f.title, spec: { $schema: SCHEMA, title: { text: f.text, subtitle: f.subtitle }, width: 420, height: 260, data: { values: f.values }, layer } };
}

/** One point of the geometry summary: a measure's mean ± s.d. over seeds at one p. */
export interface GeometryPoint {
  relation: string;
  measure: string;
  p: number;
  mean: number;
  sd: number;
  count: number;
}

const GEOMETRY: { measure: string; pick: (r: GeneftRow) => number | null; applies: (relation: string) => boolean }[] = [
  { measure: '|ρ| PC1 vs node order', pick: (r) => r.absRho, applies: (rel) => rel === 'order' },
  { measure: 'ρ embedding vs graph distance', pick: (r) => r.distanceRho, applies: (rel) => rel === 'order' || rel === 'cycle' || rel === 'lattice' },
  { measure: 'parallelogram residual', pick: (r) => r.parallelogram, applies: (rel) => rel.startsWith('equivalence') },
  { measure: 'within/between class distance²', pick: (r) => r.classRatio, applies: (rel) => rel.startsWith('equivalence') },
];

/** Geometry measures against p, one line per (relation, measure). */
export function geometryFigure(points: GeometryPoint[]): Figure {
  const values = points.map((q) => ({ ...q, line: `${q.relation}: ${q.measure}`, lo: q.mean - q.sd, hi: q.mean + q.sd }));
  return lineFigure({
    name: 'geneft-geometry',
    title: 'Representation geometry of the trained embeddings against the train fraction p',
    text: 'Representation geometry against p',
    subtitle: 'order: |Spearman ρ| of the first principal coordinate with the node order; equivalence: parallelogram residual and within/between class distance² (0 = ideal)',
    values,
    x: { field: 'p', title: 'train fraction p (log axis)' },
    lines: 'relation: measure',
    y: { title: 'value (mean ± s.d. over seeds)' },
  });
}

/** A claim and its verdict, in the shape the sweep report states first. */
export interface ClaimRow {
  claim: string;
  verdict: 'reproduced' | 'partly' | 'not reproduced' | 'not measured';
  reason: string;
}

type Unit = 'for' | 'partly' | 'against';

/** All units for: reproduced; some for or partly: partly; none measured: not measured; else not reproduced. */
export function verdictOf(units: Unit[]): ClaimRow['verdict'] {
  if (units.length === 0) return 'not measured';
  if (units.every((u) => u === 'for')) return 'reproduced';
  if (units.some((u) => u !== 'against')) return 'partly';
  return 'not reproduced';
}

const interval = (lo: number | null, hi: number | null) => (lo === null || hi === null ? 'no interval' : `[${fmt(lo)}, ${fmt(hi)}]`);

/**
 * The sweep summary of docs/geneft-graphs.md: (a) test accuracy against p per relation with the
 * fitted p_c (bootstrap over seeds within each p) beside p_c^info; (b) the Goldilocks zone in
 * decoder width per depth; (c) the embedding geometry against p; (d) the claims with verdicts.
 */
export function summarizeGeneft(inputs: SummaryInput[], opts: GeneftOptions): { result: Json; figures: Figure[] } {
  const notes: string[] = [];
  const rows: GeneftRow[] = [];
  for (const i of inputs) {
    const row = geneftRow(i);
    if (row) rows.push(row);
    else notes.push(`run ${i.run}: its result is not a geneft result (relation, accuracy.test); left out`);
  }
  const pOf = (r: GeneftRow) => num(settingOf(r.settings, opts.trainFraction));
  const hiddenOf = (r: GeneftRow): number[] | null => {
    const h = settingOf(r.settings, opts.hidden);
    return Array.isArray(h) && h.length > 0 && h.every((v) => typeof v === 'number' && v > 0) ? (h as number[]) : null;
  };
  const figures: Figure[] = [];

  // (a) the p scan: runs with a swept p and no swept decoder (a width scan at a fixed p sweeps both)
  const scan = rows.filter((r) => pOf(r) !== null && hiddenOf(r) === null);
  const transition: TransitionRow[] = [];
  const accuracyByP: { relation: string; p: number; mean: number; sd: number; count: number }[] = [];
  const geometry: GeometryPoint[] = [];
  for (const [relation, rs] of byRelation(scan)) {
    const t = transitionRow(relation, rs, (r) => pOf(r)!, opts, notes);
    transition.push(t.row);
    if (!t.row.inRange && t.row.pc !== null) notes.push(`${relation}: the fitted p_c ${fmt(t.row.pc)} lies outside the scanned p ∈ [${fmt(t.row.pMin)}, ${fmt(t.row.pMax)}] (an extrapolation)`);
    for (const g of byValue(rs, (r) => pOf(r)!)) {
      accuracyByP.push({ relation, p: g.value, ...meanSpread(g.items.map((r) => r.testAccuracy)) });
      for (const m of GEOMETRY) {
        if (!m.applies(relation)) continue;
        const v = g.items.map(m.pick).filter((x): x is number => x !== null);
        if (v.length) geometry.push({ relation, measure: m.measure, p: g.value, ...meanSpread(v) });
      }
    }
  }
  if (transition.length) figures.push(transitionFigure(transition, accuracyByP));
  else notes.push(`no run has the setting "${opts.trainFraction}" (sweep it to scan the train fraction)`);

  // (b) the width/depth scan
  const widthRuns = rows.filter((r) => hiddenOf(r) !== null);
  const widthCells: WidthCell[] = [];
  const goldilocksTests: (GoldilocksTest & { relation: string })[] = [];
  for (const [relation, rs] of byRelation(widthRuns)) {
    const points = rs.map((r) => ({ width: hiddenOf(r)![0], depth: hiddenOf(r)!.length, accuracy: r.testAccuracy }));
    const uneven = rs.filter((r) => new Set(hiddenOf(r)).size > 1).length;
    if (uneven) notes.push(`${relation}: ${uneven} run(s) have hidden layers of different widths; their first layer's width is used`);
    for (const depth of [...new Set(points.map((q) => q.depth))].sort((a, b) => a - b)) {
      for (const g of byValue(points.filter((q) => q.depth === depth), (q) => q.width)) widthCells.push({ relation, depth, width: g.value, ...meanSpread(g.items.map((q) => q.accuracy)) });
    }
    const rng = new Rng(opts.summarySeed).split(`goldilocks:${relation}`);
    goldilocksTests.push(...goldilocks(points, opts.summaryResamples, opts.confidence, rng).map((t) => ({ relation, ...t })));
  }
  if (widthCells.length) figures.push(goldilocksFigure(widthCells));
  else notes.push(`no run has the setting "${opts.hidden}" (sweep the decoder widths to find the Goldilocks zone)`);

  if (geometry.length) figures.push(geometryFigure(geometry));

  // (d) claims
  const claims: ClaimRow[] = [];
  {
    const units: Unit[] = transition.filter((t) => t.pc !== null).map((t) => (t.inRange && t.pcLo !== null && t.pcHi !== null && t.pcLo >= t.pMin && t.pcHi <= t.pMax ? 'for' : t.inRange ? 'partly' : 'against'));
    claims.push({
      claim: 'A generalisation transition in the train fraction: test accuracy rises from chance to 1 with p, with a critical fraction p_c inside the scanned range',
      verdict: verdictOf(units),
      reason: transition.length
        ? transition.map((t) => `${t.relation}: p_c = ${t.estimate} over p ∈ [${fmt(t.pMin)}, ${fmt(t.pMax)}] (${t.runs} runs, chance ${fmt(t.chance)})`).join('; ') + '; for: the bootstrap interval of p_c inside the scan, partly: only the estimate'
        : 'no p scan',
    });
  }
  {
    const measured = transition.filter((t) => t.pc !== null && t.pcInfo !== null);
    const units: Unit[] = measured.map((t) => {
      if (t.pcLo !== null && t.pcHi !== null && t.pcLo <= t.pcInfo! && t.pcInfo! <= t.pcHi) return 'for';
      const ratio = t.pc! / t.pcInfo!;
      return ratio >= 0.5 && ratio <= 2 ? 'partly' : 'against';
    });
    claims.push({
      claim: 'The critical fraction matches the information bound: p_c ≈ p_c^info = b / (pairs · label entropy), b = log₂(n!/|Aut G|)',
      verdict: verdictOf(units),
      reason: measured.length
        ? measured.map((t) => `${t.relation}: p_c = ${t.estimate}, p_c^info = ${fmt(t.pcInfo)} (ratio ${fmt(t.pc! / t.pcInfo!)})`).join('; ') + '; for: p_c^info inside the interval, partly: within a factor 2'
        : 'no p scan with the task information',
    });
  }
  {
    const tested = goldilocksTests.filter((t) => t.margin !== null);
    const units: Unit[] = tested.map((t) => (t.interiorMaximum ? 'for' : t.margin! > 0 ? 'partly' : 'against'));
    claims.push({
      claim: 'A Goldilocks zone of decoder capacity: test accuracy is highest at an intermediate decoder width',
      verdict: verdictOf(units),
      reason: tested.length
        ? tested.map((t) => `${t.relation} depth ${t.depth}: best width ${t.argmax}, best interior − best end = ${fmt(t.margin)} ${interval(t.lo, t.hi)}, interior argmax in ${fmt((t.interiorArgmaxFraction ?? 0) * 100)} % of resamples`).join('; ') + '; for: the interval above 0, partly: the estimate above 0'
        : 'no width scan with 3 or more widths',
    });
  }
  {
    const order = scan.filter((r) => r.relation === 'order' && r.absRho !== null && r.testAccuracy >= opts.generalised);
    const units: Unit[] = order.map((r) => (r.absRho! >= opts.orderedRho ? 'for' : 'against'));
    const mean = order.length ? meanSpread(order.map((r) => r.absRho!)) : null;
    const share = order.length ? units.filter((u) => u === 'for').length / order.length : 0;
    claims.push({
      claim: `Generalising embeddings of the order are ordered: the first principal coordinate ranks the nodes (|ρ| ≥ ${opts.orderedRho} with the true order)`,
      verdict: order.length === 0 ? 'not measured' : share === 1 ? 'reproduced' : share >= 0.5 ? 'partly' : 'not reproduced',
      reason: mean
        ? `${order.length} order run(s) of the p scan with test accuracy ≥ ${opts.generalised}: |ρ| = ${fmt(mean.mean)} ± ${fmt(mean.sd)}; ${fmt(share * 100)} % reach ${opts.orderedRho} (all: reproduced, at least half: partly)`
        : `no order run of the p scan reached test accuracy ${opts.generalised}`,
    });
  }

  const parts = [...new Set(rows.map((r) => r.part).filter((p): p is string => p !== null))];
  const result = {
    method: [
      "p_c: least-squares fit of acc = c + (1 − c)·σ((ln p − ln p_c)/w) to the runs' test accuracy, c = the chance accuracy (the test split's majority-label share, mean over runs) held fixed, so p_c is where accuracy is halfway between chance and 1;",
      `interval: percentile bootstrap (${opts.summaryResamples} resamples, ${opts.confidence} coverage) resampling the seeds within each p.`,
      'Goldilocks: per depth, best interior mean − max(end means) over widths, bootstrap over seeds within each width.',
    ].join(' '),
    runs: rows.length,
    parts,
    confidence: opts.confidence,
    resamples: opts.summaryResamples,
    seed: opts.summarySeed,
    claims,
    transition,
    accuracyByP,
    goldilocks: goldilocksTests.map((t) => ({ relation: t.relation, depth: t.depth, widths: t.widths.join(', '), argmax: t.argmax, margin: t.margin, lo: t.lo, hi: t.hi, interiorArgmaxFraction: t.interiorArgmaxFraction, interiorMaximum: t.interiorMaximum })),
    widthScan: widthCells,
    geometry,
    notes,
  };
  return { result: result as unknown as Json, figures };
}
