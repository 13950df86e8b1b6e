import { describe, expect, it } from 'vitest';
import type { Json, SummaryInput } from '@goldstone/plugin-api';
import { grokkingOptions } from './options';
import type { Phase, PredictedPhase } from './phase';
import { cellEdges, summarizeGrokking } from './summary';

const X = 'train.groups.encoder.lr';
const Y = 'train.groups.decoder.lr';

/** A synthetic run: the fields of a grokking result the summary reads. */
function input(run: string, settings: Record<string, Json>, r: { phase: Phase; predicted?: PredictedPhase; test?: number; ideal?: number; pred?: number; train?: number | null; testStep?: number | null }, part?: string): SummaryInput {
  const measured = r.phase === 'comprehension' || r.phase === 'grokking' ? 'generalisation' : r.phase;
  const result = {
    phase: r.phase,
    steps: 1000,
    reach: { train: r.train ?? 100, test: r.testStep ?? null },
    final: { testAccuracy: r.test ?? null },
    ideal: r.ideal === undefined ? null : { testAccuracy: r.ideal, predictedTestAccuracy: r.pred ?? null },
    repon: r.predicted ? { predicted: r.predicted, measured, agree: r.predicted === measured } : null,
  };
  return { run, settings, result: { result: result as unknown as Json, provenance: { analysis: 'grokking', seed: 1, backend: 'cpu' } }, ...(part ? { part } : {}) } as SummaryInput;
}

describe('phase map summary', () => {
  // 2 × 2 cells × 3 seeds: (1e-4, 1e-4) comprehension ×3, (1e-3, 1e-4) grokking ×2 + memorisation,
  // (1e-4, 1e-3) memorisation ×3, (1e-3, 1e-3) confusion ×2 + comprehension; predictions agree except two runs
  const runs: SummaryInput[] = [];
  const cells: [number, number, Phase[], PredictedPhase[]][] = [
    [1e-4, 1e-4, ['comprehension', 'comprehension', 'comprehension'], ['generalisation', 'generalisation', 'generalisation']],
    [1e-3, 1e-4, ['grokking', 'grokking', 'memorisation'], ['generalisation', 'generalisation', 'generalisation']],
    [1e-4, 1e-3, ['memorisation', 'memorisation', 'memorisation'], ['memorisation', 'memorisation', 'generalisation']],
    [1e-3, 1e-3, ['confusion', 'confusion', 'comprehension'], ['confusion', 'confusion', 'generalisation']],
  ];
  for (const [x, y, phases, preds] of cells) phases.forEach((p, s) => runs.push(input(`x=${x}_y=${y}_seed=${s}`, { [X]: x, [Y]: y, seed: s + 1 }, { phase: p, predicted: preds[s] }, 'phase-map')));
  // runs of another part, without the map's settings, are left out of it
  runs.push(input('trainNum=20', { 'task.options.trainNum': 20, seed: 1 }, { phase: 'memorisation', test: 0.3, ideal: 0.4 }, 'train-num'));
  const o = grokkingOptions.parse({ phaseMaps: [{ x: X, y: Y }] });
  const { result, figures } = summarizeGrokking(runs, o) as { result: any; figures: any[] };

  it('takes the majority phase per cell over seeds, with its fraction and counts', () => {
    const map = result.maps[0];
    expect(map.runs).toBe(12);
    expect(map.cells).toHaveLength(4);
    const at = (x: number, y: number) => map.cells.find((c: any) => c.x === x && c.y === y);
    expect(at(1e-4, 1e-4)).toMatchObject({ phase: 'comprehension', fraction: 1, runs: 3, predicted: 'generalisation' });
    expect(at(1e-3, 1e-4)).toMatchObject({ phase: 'grokking', counts: { grokking: 2, memorisation: 1 } });
    expect(at(1e-3, 1e-4).fraction).toBeCloseTo(2 / 3, 12);
    expect(at(1e-4, 1e-3)).toMatchObject({ phase: 'memorisation', predicted: 'memorisation', agree: 2, compared: 3 });
    expect(at(1e-3, 1e-3)).toMatchObject({ phase: 'confusion', predicted: 'confusion' });
  });

  it('states the agreement between predicted and measured phases, and the claims with verdicts', () => {
    // disagreeing: (1e-3,1e-4) seed 3 (memorisation, predicted generalisation), (1e-4,1e-3) seed 3
    expect(result.maps[0].agreed).toBe(10);
    expect(result.maps[0].compared).toBe(12);
    expect(result.maps[0].agreement).toBeCloseTo(10 / 12, 12);
    const [four, theory] = result.claims;
    expect(four.verdict).toBe('reproduced');
    expect(four.reason).toContain('comprehension 1, grokking 1, memorisation 1, confusion 1');
    expect(theory.verdict).toBe('reproduced');
    expect(theory.reason).toContain('10/12');
    expect(result.headline[0]).toMatch(/agrees with the measured phase on 83 % of 12 runs/);
    expect(result.phases).toEqual({ comprehension: 4, grokking: 2, memorisation: 5, confusion: 2 });
  });

  it('draws the map on log axes at the real values, phase as a nominal colour, the prediction and its boundary over it', () => {
    expect(figures.map((f) => f.name)).toEqual(['grokking-phase-map']);
    const [rects, markers, boundary] = figures[0].spec.layer;
    expect(rects.mark.type).toBe('rect');
    expect(rects.encoding.x.scale.type).toBe('log');
    expect(rects.encoding.y.scale.type).toBe('log');
    expect(rects.encoding.color.type).toBe('nominal');
    expect(rects.encoding.color.scale.domain).toEqual(['comprehension', 'grokking', 'memorisation', 'confusion']);
    const cell = rects.data.values.find((v: any) => v.x === 1e-4 && v.y === 1e-4);
    expect(cell.x0).toBeCloseTo(10 ** -4.5, 12);
    expect(cell.x1).toBeCloseTo(10 ** -3.5, 12);
    expect(markers.data.values).toHaveLength(4);
    // prediction flips between (·, 1e-4) [generalisation] and (·, 1e-3) [memorisation, confusion]: one
    // horizontal edge per column at y = 10^-3.5; none between the two generalisation cells
    expect(boundary.mark.type).toBe('rule');
    expect(boundary.data.values).toHaveLength(2);
    for (const s of boundary.data.values) expect(s.y).toBeCloseTo(10 ** -3.5, 12);
    expect(figures[0].spec.title.subtitle[1]).toMatch(/^red markers: the effective theory's prediction/);
    // without predictions (repon off) the map says so instead of promising markers
    const bare = runs.map((r) => ({ ...r, result: { ...r.result, result: { ...(r.result.result as object), repon: null } } })) as SummaryInput[];
    const plain = summarizeGrokking(bare, o) as { figures: any[] };
    expect(plain.figures[0].spec.layer).toHaveLength(1);
    expect(plain.figures[0].spec.title.subtitle[1]).toBe('no effective-theory prediction (T_r and T_m were not both measured)');
  });

  it('a map restricted to a part, or a map whose settings no run has, is measured accordingly', () => {
    const other = summarizeGrokking(runs, grokkingOptions.parse({ phaseMaps: [{ x: X, y: Y, part: 'train-num' }, { x: 'model.options.dim', y: Y }] })) as { result: any; figures: any[] };
    expect(other.result.maps.map((m: any) => m.runs)).toEqual([0, 0]);
    expect(other.figures).toHaveLength(0);
    expect(other.result.claims.every((c: any) => c.verdict === 'not measured')).toBe(true);
    expect(other.result.notes.length).toBe(2);
  });
});

describe('accuracy curve summary', () => {
  const T = 'task.options.trainNum';
  const runs: SummaryInput[] = [];
  const data: [number, number[], number[], number[]][] = [
    [10, [0.0, 0.1, 0.05], [0.0, 0.1, 0.0], [0.0, 0.1, 0.05]],
    [30, [0.8, 0.9, 0.7], [0.8, 0.92, 0.84], [0.8, 0.9, 0.7]],
    [50, [1, 1, 0.6], [1, 1, 1], [1, 1, 1]],
  ];
  for (const [n, test, ideal, pred] of data) test.forEach((t, s) => runs.push(input(`n=${n}_s=${s}`, { [T]: n, seed: s + 1 }, { phase: t > 0.9 ? 'comprehension' : 'memorisation', test: t, ideal: ideal[s], pred: pred[s], train: 100 * (s + 1), testStep: t >= 0.9 ? 200 : null }, 'train-num')));
  const { result, figures } = summarizeGrokking(runs, grokkingOptions.parse({ curves: [{ x: T, part: 'train-num' }] })) as { result: any; figures: any[] };

  it('gives mean ± s.d. of measured and ideal test accuracy and the steps to threshold per setting', () => {
    const pts = result.curves[0].points;
    expect(pts.map((p: any) => p.x)).toEqual([10, 30, 50]);
    expect(pts[1].testAccuracy).toBeCloseTo(0.8, 12);
    expect(pts[1].testAccuracySd).toBeCloseTo(0.1, 12);
    expect(pts[1].idealTestAccuracy).toBeCloseTo((0.8 + 0.92 + 0.84) / 3, 12);
    expect(pts[2]).toMatchObject({ stepsTrain: 200, reachedTrain: 3, stepsTest: 200, reachedTest: 2 });
    expect(figures.map((f) => f.name)).toEqual(['grokking-accuracy']);
    const series = new Set(figures[0].spec.hconcat[0].data.values.map((v: any) => v.series));
    expect(series).toEqual(new Set(['measured', 'ideal (from the training set)', 'predicted (from the representation)']));
  });

  it('judges the ideal bound and the representation\'s prediction', () => {
    const [bound, predicted] = result.claims;
    expect(bound.verdict).toBe('reproduced'); // every run within 0.05 of its bound
    expect(bound.reason).toBe('9/9 runs (100 %)');
    // |pred − measured|: 0 everywhere but 0.4 in one run → 0.4/9 ≈ 0.044
    expect(predicted.verdict).toBe('reproduced');
    expect(predicted.reason).toContain('0.044');
  });
});

describe('cell edges', () => {
  it('are geometric midpoints on a log axis and arithmetic ones otherwise, the outer edges mirrored', () => {
    const e = cellEdges([1e-5, 1e-4, 1e-3], true);
    expect(e.map((v) => Math.log10(v))).toEqual([-5.5, -4.5, -3.5, -2.5].map((v) => expect.closeTo(v, 12)));
    expect(cellEdges([5, 10, 20], false)).toEqual([2.5, 7.5, 15, 25]);
    expect(cellEdges([3], false)).toEqual([2.5, 3.5]);
  });
});
