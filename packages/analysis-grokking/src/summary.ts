import { isObject, settingOf, type Figure, type Json, type SummaryClaim, type SummaryInput } from '@goldstone/plugin-api';
import type { GrokkingOptions } from './options';
import { PHASES, PREDICTED, type Phase, type PredictedPhase } from './phase';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** The toy's palette (Figure 5): comprehension green, grokking yellow, memorisation purple, confusion black. */
export const PHASE_COLOURS: Record<Phase, string> = { comprehension: '#a0da39', grokking: '#fde725', memorisation: '#46327e', confusion: '#1e1e1e' };

/** What the summary reads from one run's `grokking` result. */
export interface GrokkingRow {
  phase: Phase;
  reachTrain: number | null;
  reachTest: number | null;
  steps: number | null;
  testAccuracy: number | null;
  idealTestAccuracy: number | null;
  predictedTestAccuracy: number | null;
  predicted: PredictedPhase | null;
  agree: boolean | null;
}

/** A claim and its verdict (the contract's shape, which the sweep report states first). */
export type ClaimRow = SummaryClaim;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The row of a stored grokking result, or undefined when it is not one. */
export function grokkingRow(result: unknown): GrokkingRow | undefined {
  if (!isObject(result) || typeof result.phase !== 'string' || !(PHASES as readonly string[]).includes(result.phase)) return undefined;
  const reach = isObject(result.reach) ? result.reach : {};
  const final = isObject(result.final) ? result.final : {};
  const ideal = isObject(result.ideal) ? result.ideal : {};
  const repon = isObject(result.repon) ? result.repon : {};
  const predicted = typeof repon.predicted === 'string' && (PREDICTED as readonly string[]).includes(repon.predicted) ? (repon.predicted as PredictedPhase) : null;
  return {
    phase: result.phase as Phase,
    reachTrain: num(reach.train),
    reachTest: num(reach.test),
    steps: num(result.steps),
    testAccuracy: num(final.testAccuracy),
    idealTestAccuracy: num(ideal.testAccuracy),
    predictedTestAccuracy: num(ideal.predictedTestAccuracy),
    predicted,
    agree: typeof repon.agree === 'boolean' ? repon.agree : null,
  };
}

function meanSd(values: readonly (number | null)[]): { mean: number; sd: number; count: number } | null {
  const v = values.filter((x): x is number => x !== null);
  if (!v.length) return null;
  const mean = v.reduce((a, x) => a + x, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, sd, count: v.length };
}

/** The most frequent value (ties: the first in `order`) and its fraction. */
function majority<T extends string>(values: readonly T[], order: readonly T[]): { value: T; fraction: number } | null {
  if (!values.length) return null;
  let best: T | null = null;
  let bestCount = 0;
  for (const v of order) {
    const c = values.filter((x) => x === v).length;
    if (c > bestCount) {
      best = v;
      bestCount = c;
    }
  }
  return best === null ? null : { value: best, fraction: bestCount / values.length };
}

/** One cell of a phase map: the runs at (x, y). */
export interface PhaseCell {
  x: number;
  y: number;
  runs: number;
  phase: Phase;
  /** Fraction of the cell's runs in the majority phase. */
  fraction: number;
  counts: Record<Phase, number>;
  predicted: PredictedPhase | null;
  predictedFraction: number | null;
  /** Runs whose predicted phase agrees with the measured one, of those with a prediction. */
  agree: number;
  compared: number;
}

/** Cell edges around sorted distinct values: midpoints (geometric on a log axis), the outer ones mirrored. */
export function cellEdges(values: readonly number[], log: boolean): number[] {
  const f = (v: number) => (log ? Math.log10(v) : v);
  const g = (v: number) => (log ? 10 ** v : v);
  const t = values.map(f);
  if (t.length === 1) return [g(t[0] - 0.5), g(t[0] + 0.5)];
  const mids = t.slice(1).map((v, i) => (v + t[i]) / 2);
  return [g(2 * t[0] - mids[0]), ...mids.map(g), g(2 * t[t.length - 1] - mids[mids.length - 1])];
}

const partOf = (i: SummaryInput): string | undefined => i.part;

/** Runs with numeric values of every setting in `paths` (and of `part`, when given). */
function select(inputs: readonly { input: SummaryInput; row: GrokkingRow }[], paths: string[], part: string | undefined) {
  const out: { values: number[]; row: GrokkingRow; run: string }[] = [];
  for (const { input, row } of inputs) {
    if (part !== undefined && partOf(input) !== part) continue;
    const values = paths.map((p) => num(settingOf(input.settings ?? {}, p)));
    if (values.some((v) => v === null)) continue;
    out.push({ values: values as number[], row, run: input.run });
  }
  return out;
}

/** The phase map figure: majority phase per cell as colour (opacity: its fraction), the prediction as a marker, the predicted boundary as a red line. */
export function phaseMapFigure(cells: PhaseCell[], x: string, y: string, title: string, index: number): Figure {
  const xs = [...new Set(cells.map((c) => c.x))].sort((a, b) => a - b);
  const ys = [...new Set(cells.map((c) => c.y))].sort((a, b) => a - b);
  const logX = xs.every((v) => v > 0);
  const logY = ys.every((v) => v > 0);
  const ex = cellEdges(xs, logX);
  const ey = cellEdges(ys, logY);
  const rects = cells.map((c) => {
    const i = xs.indexOf(c.x);
    const j = ys.indexOf(c.y);
    return { ...c, x0: ex[i], x1: ex[i + 1], y0: ey[j], y1: ey[j + 1], label: `${c.phase} ${Math.round(c.fraction * c.runs)}/${c.runs}` };
  });
  const markers = cells.filter((c) => c.predicted !== null).map((c) => ({ x: c.x, y: c.y, predicted: c.predicted, fraction: c.predictedFraction }));
  // the predicted boundary: cell edges between neighbours of which one is predicted to generalise and the other not
  const gen = new Map(cells.map((c) => [`${c.x},${c.y}`, c.predicted === null ? null : c.predicted === 'generalisation']));
  const segments: { x: number; x2: number; y: number; y2: number }[] = [];
  for (let i = 0; i < xs.length; i++) {
    for (let j = 0; j < ys.length; j++) {
      const here = gen.get(`${xs[i]},${ys[j]}`);
      if (here === undefined || here === null) continue;
      const right = i + 1 < xs.length ? gen.get(`${xs[i + 1]},${ys[j]}`) : undefined;
      if (right !== undefined && right !== null && right !== here) segments.push({ x: ex[i + 1], x2: ex[i + 1], y: ey[j], y2: ey[j + 1] });
      const up = j + 1 < ys.length ? gen.get(`${xs[i]},${ys[j + 1]}`) : undefined;
      if (up !== undefined && up !== null && up !== here) segments.push({ x: ex[i], x2: ex[i + 1], y: ey[j + 1], y2: ey[j + 1] });
    }
  }
  const xScale = logX ? { type: 'log', domain: [ex[0], ex[ex.length - 1]], nice: false } : { domain: [ex[0], ex[ex.length - 1]], nice: false, zero: false };
  const yScale = logY ? { type: 'log', domain: [ey[0], ey[ey.length - 1]], nice: false } : { domain: [ey[0], ey[ey.length - 1]], nice: false, zero: false };
  // ticks at the swept values themselves (the cell centres)
  const xAxis = { field: 'x0', type: 'quantitative', title: logX ? `${x} (log scale)` : x, scale: xScale, axis: { values: xs, format: logX ? '.1e' : '~g', labelAngle: -45 } };
  const yAxis = { field: 'y0', type: 'quantitative', title: logY ? `${y} (log scale)` : y, scale: yScale, axis: { values: ys, format: logY ? '.1e' : '~g' } };
  const layer: Record<string, unknown>[] = [
    {
      data: { values: rects },
      mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 0.5 },
      encoding: {
        x: xAxis,
        x2: { field: 'x1' },
        y: yAxis,
        y2: { field: 'y1' },
        color: { field: 'phase', type: 'nominal', title: 'measured phase', legend: { labelLimit: 300 }, scale: { domain: [...PHASES], range: PHASES.map((p) => PHASE_COLOURS[p]) } },
        opacity: { field: 'fraction', type: 'quantitative', title: 'fraction of seeds', scale: { domain: [0, 1], range: [0.35, 1] } },
        tooltip: [{ field: 'x', title: x }, { field: 'y', title: y }, { field: 'label', title: 'phase' }, { field: 'predicted' }, { field: 'agree' }, { field: 'compared' }],
      },
    },
  ];
  if (markers.length) {
    layer.push({
      data: { values: markers },
      mark: { type: 'point', filled: false, size: 140, strokeWidth: 2, color: '#d62728' },
      encoding: {
        x: { field: 'x', type: 'quantitative', scale: xScale },
        y: { field: 'y', type: 'quantitative', scale: yScale },
        shape: { field: 'predicted', type: 'nominal', title: 'predicted', legend: { labelLimit: 300 }, scale: { domain: [...PREDICTED], range: ['circle', 'cross', 'square'] } },
      },
    });
  }
  if (segments.length) {
    layer.push({
      data: { values: segments },
      mark: { type: 'rule', color: '#d62728', strokeWidth: 3 },
      encoding: { x: { field: 'x', type: 'quantitative', scale: xScale }, x2: { field: 'x2' }, y: { field: 'y', type: 'quantitative', scale: yScale }, y2: { field: 'y2' } },
    });
  }
  return {
    name: index === 0 ? 'grokking-phase-map' : `grokking-phase-map-${index + 1}`,
    title,
    spec: {
      $schema: SCHEMA,
      title: {
        text: title,
        subtitle: [
          'colour: measured phase (majority over seeds, opacity its fraction)',
          ...(markers.length ? ["red markers: the effective theory's prediction; red line: where it flips between generalisation and not"] : ['no effective-theory prediction (T_r and T_m were not both measured)']),
        ],
      },
      width: 360,
      height: 320,
      layer,
      resolve: { scale: { shape: 'independent' } },
    },
  };
}

/** One point of an accuracy curve. */
export interface CurvePoint {
  x: number;
  runs: number;
  testAccuracy: number | null;
  testAccuracySd: number | null;
  idealTestAccuracy: number | null;
  idealTestAccuracySd: number | null;
  predictedTestAccuracy: number | null;
  stepsTrain: number | null;
  stepsTest: number | null;
  reachedTrain: number;
  reachedTest: number;
}

/** The accuracy-curve figure: measured test accuracy (mean ± s.d.) beside the ideal one, and the steps to threshold. */
export function curveFigure(points: CurvePoint[], x: string, title: string, threshold: number, index: number): Figure {
  const acc: Record<string, unknown>[] = [];
  for (const p of points) {
    if (p.testAccuracy !== null) acc.push({ x: p.x, series: 'measured', mean: p.testAccuracy, lo: p.testAccuracy - (p.testAccuracySd ?? 0), hi: p.testAccuracy + (p.testAccuracySd ?? 0) });
    if (p.idealTestAccuracy !== null) acc.push({ x: p.x, series: 'ideal (from the training set)', mean: p.idealTestAccuracy, lo: p.idealTestAccuracy - (p.idealTestAccuracySd ?? 0), hi: p.idealTestAccuracy + (p.idealTestAccuracySd ?? 0) });
    if (p.predictedTestAccuracy !== null) acc.push({ x: p.x, series: 'predicted (from the representation)', mean: p.predictedTestAccuracy, lo: p.predictedTestAccuracy, hi: p.predictedTestAccuracy });
  }
  const steps: Record<string, unknown>[] = [];
  for (const p of points) {
    if (p.stepsTrain !== null) steps.push({ x: p.x, series: 'train', steps: p.stepsTrain, reached: `${p.reachedTrain}/${p.runs}` });
    if (p.stepsTest !== null) steps.push({ x: p.x, series: 'test', steps: p.stepsTest, reached: `${p.reachedTest}/${p.runs}` });
  }
  const xEnc = { field: 'x', type: 'quantitative', title: x, scale: { zero: false } };
  const color = { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 300 } };
  return {
    name: index === 0 ? 'grokking-accuracy' : `grokking-accuracy-${index + 1}`,
    title,
    spec: {
      $schema: SCHEMA,
      title: { text: title, subtitle: 'mean ± s.d. over seeds' },
      hconcat: [
        {
          title: 'test accuracy',
          width: 320,
          height: 220,
          data: { values: acc },
          layer: [
            { mark: { type: 'line', point: true }, encoding: { x: xEnc, y: { field: 'mean', type: 'quantitative', title: 'test accuracy', scale: { domain: [0, 1] } }, color } },
            { mark: { type: 'errorbar', ticks: true }, encoding: { x: xEnc, y: { field: 'lo', type: 'quantitative', title: 'test accuracy' }, y2: { field: 'hi' }, color } },
          ],
        },
        {
          title: `steps to ${threshold} (mean over the seeds that reach it)`,
          width: 320,
          height: 220,
          data: { values: steps },
          mark: { type: 'line', point: true },
          encoding: { x: xEnc, y: { field: 'steps', type: 'quantitative', title: 'steps (log scale)', scale: { type: 'log' } }, color, tooltip: [{ field: 'x' }, { field: 'series' }, { field: 'steps' }, { field: 'reached' }] },
        },
      ],
      resolve: { scale: { color: 'independent' } },
    },
  };
}

const pct = (f: number) => `${Math.round(f * 100)} %`;

/** The sweep summary: phase maps (measured majority phase, predicted phase, agreement), accuracy curves, claims and a headline. */
export function summarizeGrokking(inputs: SummaryInput[], o: GrokkingOptions): { result: Json; figures: Figure[] } {
  const notes: string[] = [];
  const rows: { input: SummaryInput; row: GrokkingRow }[] = [];
  for (const i of inputs) {
    const row = grokkingRow(i.result?.result);
    if (!row) notes.push(`run ${i.run}: its result is not a grokking result; left out`);
    else rows.push({ input: i, row });
  }
  const figures: Figure[] = [];
  const claims: ClaimRow[] = [];
  const headline: string[] = [];
  const phaseCounts = Object.fromEntries(PHASES.map((p) => [p, rows.filter((r) => r.row.phase === p).length]));

  const maps = o.phaseMaps.map((m, index) => {
    const runs = select(rows, [m.x, m.y], m.part);
    const byCell = new Map<string, typeof runs>();
    for (const r of runs) byCell.set(`${r.values[0]},${r.values[1]}`, [...(byCell.get(`${r.values[0]},${r.values[1]}`) ?? []), r]);
    const cells: PhaseCell[] = [...byCell.values()].map((rs) => {
      const maj = majority(rs.map((r) => r.row.phase), PHASES)!;
      const preds = rs.map((r) => r.row.predicted).filter((p): p is PredictedPhase => p !== null);
      const pm = majority(preds, PREDICTED);
      const compared = rs.filter((r) => r.row.agree !== null);
      return {
        x: rs[0].values[0],
        y: rs[0].values[1],
        runs: rs.length,
        phase: maj.value,
        fraction: maj.fraction,
        counts: Object.fromEntries(PHASES.map((p) => [p, rs.filter((r) => r.row.phase === p).length])) as Record<Phase, number>,
        predicted: pm?.value ?? null,
        predictedFraction: pm?.fraction ?? null,
        agree: compared.filter((r) => r.row.agree).length,
        compared: compared.length,
      };
    });
    cells.sort((a, b) => a.y - b.y || a.x - b.x);
    const title = m.title ?? `Phase map: ${m.x} × ${m.y}`;
    const compared = cells.reduce((a, c) => a + c.compared, 0);
    const agreed = cells.reduce((a, c) => a + c.agree, 0);
    const agreement = compared ? agreed / compared : null;
    const present = PHASES.filter((p) => cells.some((c) => c.phase === p));
    if (cells.length) figures.push(phaseMapFigure(cells, m.x, m.y, title, index));
    else notes.push(`phase map ${m.x} × ${m.y}: no run has both settings${m.part ? ` in part ${m.part}` : ''}`);
    const generalising = present.includes('comprehension') || present.includes('grokking');
    claims.push({
      claim: `The ${m.x} × ${m.y} plane shows the four phases: comprehension, grokking, memorisation and confusion`,
      x: m.x,
      y: m.y,
      expect: 'all four phases among the cells\' majority phases',
      verdict: !cells.length ? 'not measured' : present.length === 4 ? 'reproduced' : generalising && present.includes('memorisation') ? 'partly' : 'not reproduced',
      reason: cells.length ? `${cells.length} cells (${runs.length} runs); majority phases: ${PHASES.map((p) => `${p} ${cells.filter((c) => c.phase === p).length}`).join(', ')}` : 'no runs with both settings',
    });
    claims.push({
      claim: `The effective (repon) theory predicts where the ${m.x} × ${m.y} plane generalises: generalisation when the effective dynamics reaches RQI ≥ target before the decoder alone memorises (T_r < T_m)`,
      x: m.x,
      y: m.y,
      expect: 'predicted and measured phase (generalisation, memorisation, confusion) agree on ≥ 80 % of runs (partly: ≥ 60 %)',
      verdict: agreement === null ? 'not measured' : agreement >= 0.8 ? 'reproduced' : agreement >= 0.6 ? 'partly' : 'not reproduced',
      reason: agreement === null ? 'no run has both T_r and T_m (the repon part was skipped or turned off)' : `agreement ${agreed}/${compared} runs (${pct(agreement)})`,
    });
    if (cells.length) headline.push(`${title}: ${cells.length} cells, majority phases ${PHASES.map((p) => `${p} ${cells.filter((c) => c.phase === p).length}`).join(', ')}${agreement === null ? '' : `; the effective theory agrees with the measured phase on ${pct(agreement)} of ${compared} runs`}`);
    return { x: m.x, y: m.y, title, part: m.part ?? null, runs: runs.length, agreement, agreed, compared, cells: cells.map((c) => ({ ...c, counts: c.counts as unknown as Json })) };
  });

  const curves = o.curves.map((c, index) => {
    const runs = select(rows, [c.x], c.part);
    const xs = [...new Set(runs.map((r) => r.values[0]))].sort((a, b) => a - b);
    const points: CurvePoint[] = xs.map((x) => {
      const rs = runs.filter((r) => r.values[0] === x).map((r) => r.row);
      const acc = meanSd(rs.map((r) => r.testAccuracy));
      const ideal = meanSd(rs.map((r) => r.idealTestAccuracy));
      const pred = meanSd(rs.map((r) => r.predictedTestAccuracy));
      const tr = meanSd(rs.map((r) => r.reachTrain));
      const te = meanSd(rs.map((r) => r.reachTest));
      return {
        x,
        runs: rs.length,
        testAccuracy: acc?.mean ?? null,
        testAccuracySd: acc?.sd ?? null,
        idealTestAccuracy: ideal?.mean ?? null,
        idealTestAccuracySd: ideal?.sd ?? null,
        predictedTestAccuracy: pred?.mean ?? null,
        stepsTrain: tr?.mean ?? null,
        stepsTest: te?.mean ?? null,
        reachedTrain: tr?.count ?? 0,
        reachedTest: te?.count ?? 0,
      };
    });
    const title = c.title ?? `Test accuracy against ${c.x}`;
    if (points.length) figures.push(curveFigure(points, c.x, title, o.threshold, index));
    else notes.push(`curve against ${c.x}: no run has the setting${c.part ? ` in part ${c.part}` : ''}`);
    const both = runs.filter((r) => r.row.testAccuracy !== null && r.row.idealTestAccuracy !== null);
    const within = both.filter((r) => (r.row.testAccuracy as number) <= (r.row.idealTestAccuracy as number) + o.idealTolerance).length;
    const f = both.length ? within / both.length : null;
    claims.push({
      claim: `Measured test accuracy does not exceed the ideal accuracy the training set implies (against ${c.x})`,
      x: c.x,
      y: 'test accuracy',
      expect: `measured ≤ ideal + ${o.idealTolerance} in ≥ 90 % of runs (partly: ≥ 70 %)`,
      verdict: f === null ? 'not measured' : f >= 0.9 ? 'reproduced' : f >= 0.7 ? 'partly' : 'not reproduced',
      reason: !runs.length ? `no run has the setting ${c.x}` : f === null ? 'no run has both a measured and an ideal test accuracy (the task is not an addition table)' : `${within}/${both.length} runs (${pct(f)})`,
    });
    const predPairs = runs.filter((r) => r.row.testAccuracy !== null && r.row.predictedTestAccuracy !== null);
    const mad = predPairs.length ? predPairs.reduce((a, r) => a + Math.abs((r.row.testAccuracy as number) - (r.row.predictedTestAccuracy as number)), 0) / predPairs.length : null;
    claims.push({
      claim: `The accuracy predicted from the learned representation's parallelograms matches the measured test accuracy (against ${c.x})`,
      x: c.x,
      y: 'test accuracy',
      expect: 'mean |predicted − measured| ≤ 0.05 (partly: ≤ 0.15)',
      verdict: mad === null ? 'not measured' : mad <= 0.05 ? 'reproduced' : mad <= 0.15 ? 'partly' : 'not reproduced',
      reason: !runs.length ? `no run has the setting ${c.x}` : mad === null ? 'no run has a predicted accuracy' : `mean |predicted − measured| = ${mad.toFixed(3)} over ${predPairs.length} runs`,
    });
    if (points.length) {
      const low = points[0];
      const high = points[points.length - 1];
      headline.push(`${title}: test accuracy ${low.testAccuracy?.toFixed(2) ?? '—'} (ideal ${low.idealTestAccuracy?.toFixed(2) ?? '—'}) at ${low.x} → ${high.testAccuracy?.toFixed(2) ?? '—'} (ideal ${high.idealTestAccuracy?.toFixed(2) ?? '—'}) at ${high.x}`);
    }
    return { x: c.x, title, part: c.part ?? null, runs: runs.length, points, withinIdeal: f, predictedMeanAbsError: mad };
  });

  const result = {
    method: 'phase per run from the first recorded steps with train and test accuracy ≥ threshold; per cell of a phase map the majority phase over seeds (ties: the order comprehension, grokking, memorisation, confusion) and its fraction; the prediction is the effective theory\'s (T_r < T_m: generalisation); curves: mean ± sample s.d. over seeds',
    runs: rows.length,
    threshold: o.threshold,
    lag: o.lag,
    phases: phaseCounts,
    headline,
    claims,
    maps,
    curves,
    notes,
  };
  return { result: JSON.parse(JSON.stringify(result)) as Json, figures };
}
