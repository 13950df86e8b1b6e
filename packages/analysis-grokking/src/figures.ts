import type { Figure } from '@goldstone/plugin-api';
import type { GrokkingOptions } from './options';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

interface Trajectory {
  step: number[];
  trainAccuracy: (number | null)[];
  testAccuracy: (number | null)[];
  rqi: (number | null)[];
  effectiveLoss: (number | null)[];
}

/** One run: train and test accuracy and RQI against step (the effective dynamics' RQI dashed), and ℓ_eff of both on a log axis. */
export function trainingFigure(t: Trajectory, eff: { step: number[]; effectiveLoss: (number | null)[]; rqi: (number | null)[] } | null, o: GrokkingOptions): Figure {
  const rows: { step: number; value: number; series: string }[] = [];
  const add = (steps: number[], values: (number | null)[], series: string) => steps.forEach((s, i) => values[i] !== null && rows.push({ step: s, value: values[i] as number, series }));
  add(t.step, t.trainAccuracy, `train ${o.metric}`);
  add(t.step, t.testAccuracy, `test ${o.metric}`);
  add(t.step, t.rqi, 'RQI (trained)');
  if (eff) add(eff.step, eff.rqi, 'RQI (effective dynamics)');
  const loss: { step: number; value: number; series: string }[] = [];
  const addLoss = (steps: number[], values: (number | null)[], series: string) => steps.forEach((s, i) => values[i] !== null && (values[i] as number) > 0 && loss.push({ step: s, value: values[i] as number, series }));
  addLoss(t.step, t.effectiveLoss, 'ℓ_eff (trained)');
  if (eff) addLoss(eff.step, eff.effectiveLoss, 'ℓ_eff (effective dynamics)');
  const x = { field: 'step', type: 'quantitative', title: 'step' };
  const dash = { field: 'series', type: 'nominal', legend: null, scale: { domain: [`train ${o.metric}`, `test ${o.metric}`, 'RQI (trained)', 'RQI (effective dynamics)', 'ℓ_eff (trained)', 'ℓ_eff (effective dynamics)'], range: [[1, 0], [1, 0], [1, 0], [6, 3], [1, 0], [6, 3]] } };
  const panels: Record<string, unknown>[] = [
    {
      title: { text: `${o.metric} and RQI`, subtitle: `threshold ${o.threshold} (dotted); RQI target ${o.rqiTarget}` },
      width: 320,
      height: 220,
      layer: [
        { data: { values: rows }, mark: { type: 'line' }, encoding: { x, y: { field: 'value', type: 'quantitative', title: 'value', scale: { domain: [0, 1] } }, color: { field: 'series', type: 'nominal', title: null }, strokeDash: dash } },
        { data: { values: [{ y: o.threshold }] }, mark: { type: 'rule', strokeDash: [2, 2], color: '#888888' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
      ],
    },
  ];
  if (loss.length) {
    panels.push({
      title: { text: 'effective loss ℓ_eff', subtitle: 'standardised embedding, over the parallelograms of the training set' },
      width: 320,
      height: 220,
      data: { values: loss },
      mark: { type: 'line' },
      encoding: { x, y: { field: 'value', type: 'quantitative', title: 'ℓ_eff (log scale)', scale: { type: 'log' } }, color: { field: 'series', type: 'nominal', title: null }, strokeDash: dash },
    });
  }
  return { name: 'grokking-training', title: 'Accuracy, RQI and effective loss over training', spec: { $schema: SCHEMA, hconcat: panels, resolve: { scale: { color: 'independent' } } } };
}
