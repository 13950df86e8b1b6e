import { describe, expect, it } from 'vitest';
import { blockAverage, finalEpochTable, orderSplits, splitMetricKey, stepsTrained, trainingCurveFigures } from './training-curves';
import type { MetricRow } from '@goldstone/run-store/format';

type Spec = { data: { values: Record<string, number | string>[] }; encoding: Record<string, any> };
const specOf = (f: { spec: Record<string, unknown> }) => f.spec as unknown as Spec;

function steps(n: number, loss: (s: number) => number | null, lr: (s: number) => number = () => 0.1): MetricRow[] {
  return Array.from({ length: n }, (_, s) => ({ kind: 'step', step: s, epoch: 0, loss: loss(s), lr: lr(s) }));
}

describe('trainingCurveFigures', () => {
  it('plots loss per step on a log scale when every loss is positive, linear otherwise', () => {
    const [pos] = trainingCurveFigures(steps(10, (s) => 1 / (s + 1)));
    expect(pos.name).toBe('loss-per-step');
    expect(specOf(pos).encoding.y.scale).toEqual({ type: 'log', nice: false });
    expect(specOf(pos).data.values).toEqual(Array.from({ length: 10 }, (_, s) => ({ step: s, loss: 1 / (s + 1) })));
    const [signed] = trainingCurveFigures(steps(10, (s) => s - 5));
    expect(specOf(signed).encoding.y.scale).toEqual({ zero: false });
  });

  it('leaves out non-finite losses and says so', () => {
    const [f] = trainingCurveFigures(steps(6, (s) => (s >= 4 ? null : 1 + s)));
    expect(specOf(f).data.values.map((v) => v.loss)).toEqual([1, 2, 3, 4]);
    expect(f.caption).toContain('2 non-finite values left out');
  });

  it('counts the steps trained, not the rows logged', () => {
    // 5,120 steps trained, a loss logged every 10th: 512 rows; the last epoch row carries the step count
    const rows: MetricRow[] = [
      ...Array.from({ length: 512 }, (_, i) => ({ kind: 'step', step: (i + 1) * 10 - 1, epoch: 0, loss: 1 })),
      { kind: 'epoch', epoch: 10, step: 5120, 'test.loss': 1 },
    ];
    expect(stepsTrained(rows)).toBe(5120);
    const [f] = trainingCurveFigures(rows);
    expect(f.caption).toContain('5,120 steps trained');
    expect(f.caption).toContain('512 logged (every 10 steps)');
    expect(f.caption).not.toMatch(/(^|[^,\d])512 steps/);
    expect(stepsTrained([])).toBeUndefined();
  });

  it('averages long step series in blocks', () => {
    const [f] = trainingCurveFigures(steps(1000, (s) => s + 1), { maxPoints: 100 });
    const values = specOf(f).data.values;
    expect(values).toHaveLength(100);
    // block of 10 steps s = 0..9: mean step 4.5, mean loss 5.5
    expect(values[0]).toEqual({ step: 4.5, loss: 5.5 });
    expect(values[99]).toEqual({ step: 994.5, loss: 995.5 });
    expect(f.caption).toContain('mean of 10 consecutive logged values');
  });

  it('plots the learning rate only when it changes', () => {
    expect(trainingCurveFigures(steps(5, () => 1)).map((f) => f.name)).toEqual(['loss-per-step']);
    const names = trainingCurveFigures(steps(5, () => 1, (s) => 0.1 / (s + 1))).map((f) => f.name);
    expect(names).toEqual(['loss-per-step', 'lr-per-step']);
  });

  it('makes one per-epoch figure per metric with a line per split, loss first, colours fixed per split', () => {
    const rows: MetricRow[] = [0, 1, 2].map((e) => ({
      kind: 'epoch',
      epoch: e,
      step: e * 10,
      time: 1.5 * e,
      'train.loss': 1 / (e + 1),
      'test.loss': 2 / (e + 1),
      'test.acc': 0.5 + e / 10,
      'ood.acc': 0.4 + e / 10,
      'ood.auc': 0.6,
    }));
    const figs = trainingCurveFigures(rows);
    expect(figs.map((f) => f.name)).toEqual(['epoch-loss', 'epoch-acc', 'epoch-auc']);
    const loss = specOf(figs[0]);
    expect(loss.encoding.y.scale.type).toBe('log');
    expect(loss.data.values).toContainEqual({ epoch: 2, split: 'test', loss: 2 / 3 });
    expect(loss.data.values).toHaveLength(6);
    // the colour of a split is the same in every figure
    const colour = (spec: Spec, split: string) => spec.encoding.color.scale.range[spec.encoding.color.scale.domain.indexOf(split)];
    expect(colour(specOf(figs[1]), 'test')).toBe(colour(loss, 'test'));
    expect(colour(specOf(figs[2]), 'ood')).toBe(colour(specOf(figs[1]), 'ood'));
    expect(colour(loss, 'train')).not.toBe(colour(loss, 'test'));
    // accuracy is not a loss: linear axis
    expect(specOf(figs[1]).encoding.y.scale).toEqual({ zero: false });
  });

  it('returns nothing for no metrics', () => {
    expect(trainingCurveFigures([])).toEqual([]);
  });
});

describe('helpers', () => {
  it('orders splits train, test, then by name', () => {
    expect(orderSplits(['ood-b', 'test', 'ood-a', 'train', 'test'])).toEqual(['train', 'test', 'ood-a', 'ood-b']);
  });

  it('splits flat metric keys at the first dot', () => {
    expect(splitMetricKey('ood-pt.auc')).toEqual(['ood-pt', 'auc']);
    expect(splitMetricKey('test.top.5')).toEqual(['test', 'top.5']);
    expect(splitMetricKey('time')).toBeUndefined();
    expect(splitMetricKey('loss')).toBeUndefined();
  });

  it('block-averages exactly', () => {
    const pts = [1, 2, 3, 4, 5].map((x) => ({ x, y: 10 * x }));
    expect(blockAverage(pts, 10)).toEqual({ points: pts, block: 1 });
    expect(blockAverage(pts, 2)).toEqual({ points: [{ x: 2, y: 20 }, { x: 4.5, y: 45 }], block: 3 });
  });

  it('tabulates the last epoch by split and metric', () => {
    const table = finalEpochTable([
      { kind: 'epoch', epoch: 0, 'train.loss': 9 },
      { kind: 'step', step: 5, loss: 1 },
      { kind: 'epoch', epoch: 1, 'test.acc': 0.9, 'train.loss': 0.5, 'test.loss': 0.7, 'ood.loss': null },
    ]);
    expect(table).toEqual({
      epoch: 1,
      metrics: ['loss', 'acc'],
      rows: [
        ['train', 0.5, null],
        ['test', 0.7, 0.9],
        ['ood', null, null],
      ],
    });
  });
});
