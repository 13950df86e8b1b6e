import type { HeadlineNumber } from '@goldstone/plugin-api';
import type { Estimate } from './stats';

interface Row {
  n: number;
  predicted: Estimate;
  error: Estimate;
  theory: number;
}

/** What the declared headline of `cumulants` is read from: fields of its result. */
export interface CumulantsHeadlineSource {
  confidence: number;
  resamples: number;
  /** The split the per-order numbers are read on (test when there is one). */
  split: string;
  orders: Row[];
  mse: number | null;
  examples: number;
  meanOodMse: number | null;
  oodSplits: number;
  flow: { iterable: boolean; reason: string | null; steps: { k: number; orders: Row[] }[] };
}

/** A bootstrap estimate as a headline interval; a percentile interval that misses its point (a map exact to rounding) is widened to it, and the note says so. */
function bootstrapped(key: string, label: string, e: Estimate, r: CumulantsHeadlineSource): HeadlineNumber {
  const how = `percentile bootstrap over examples, ${r.resamples} resamples`;
  const [lo, hi] = e.interval;
  const holds = lo <= e.value && e.value <= hi;
  return {
    key,
    label,
    value: e.value,
    interval: holds ? [lo, hi] : [Math.min(lo, e.value), Math.max(hi, e.value)],
    level: r.confidence,
    note: holds ? how : `${how}; widened to hold the point estimate (outside [${lo.toPrecision(3)}, ${hi.toPrecision(3)}])`,
  };
}

/**
 * The numbers of a cumulants analysis to quote first, in order: the mean OOD MSE, κ₄ of the learned
 * map and its error against the target on the test split (paired bootstrap intervals), the
 * κ₄ error after the last RG-flow step, and the test MSE. Each value is the result's own field.
 */
export function cumulantsHeadline(r: CumulantsHeadlineSource): HeadlineNumber[] {
  const k4 = r.orders.find((o) => o.n === 4)!;
  const last = r.flow.steps[r.flow.steps.length - 1];
  const flowK4 = last?.orders.find((o) => o.n === 4);
  const fixed = (n: number) => `on the fixed ${n} examples, not resampled`;
  return [
    r.meanOodMse === null
      ? { key: 'meanOodMse', label: 'mean MSE over the OOD splits', value: null, note: r.oodSplits === 0 ? 'the task has no ood* splits among those analysed' : 'an OOD split has targets of another width' }
      : { key: 'meanOodMse', label: `mean MSE over the ${r.oodSplits} OOD splits`, value: r.meanOodMse, exact: true, better: 'lower', note: 'mean of the splits’ MSEs on their fixed subsets, not resampled' },
    bootstrapped('kappa4', `κ₄ of the learned map (${r.split}; theory ${k4.theory.toPrecision(3)})`, k4.predicted, r),
    bootstrapped('kappa4Error', `κ₄ error, learned − target (${r.split})`, k4.error, r),
    flowK4
      ? bootstrapped('flowKappa4Error', `κ₄ error after ${last.k} RG-flow steps, learned − exact map`, flowK4.error, r)
      : { key: 'flowKappa4Error', label: 'κ₄ error after the RG flow', value: null, note: r.flow.reason ?? 'no flow step ran' },
    r.mse === null
      ? { key: 'mse', label: `MSE (${r.split})`, value: null, note: 'outputs and targets differ in width' }
      : { key: 'mse', label: `MSE (${r.split})`, value: r.mse, exact: true, better: 'lower', note: fixed(r.examples) },
  ];
}
