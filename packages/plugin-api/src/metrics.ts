import type { OutputKind } from './plugin';

/** The metric an analysis tracks: accuracy (classification), AUC (binary), MSE (regression). */
export type MetricName = 'accuracy' | 'auc' | 'mse';

/** The headline metric of an output kind. Tensor-free, so reports and readers share it with core. */
export function primaryMetric(kind: OutputKind): MetricName {
  return kind === 'classification' ? 'accuracy' : kind === 'binary' ? 'auc' : 'mse';
}

/** Whether larger values of the metric are better. */
export function higherIsBetter(metric: MetricName): boolean {
  return metric !== 'mse';
}
