import type { HeadlineNumber } from '@goldstone/plugin-api';

/** What the declared headline of `grokking` is read from: fields of its result. */
export interface GrokkingHeadlineSource {
  metric: string;
  threshold: number;
  every: number;
  phase: string;
  testSplit: string;
  trainSplit: string;
  /** Examples of the test and train splits the metric was read on. */
  testExamples: number;
  trainExamples: number;
  reach: { train: number | null; test: number | null };
  final: { trainAccuracy: number | null; testAccuracy: number | null; rqi: number | null };
  ideal: { testAccuracy: number } | null;
}

/**
 * The numbers of a grokking run to quote first, in order: the final test metric, the steps at
 * which test and train reached the threshold, the final RQI of the embedding and the test
 * accuracy the training set implies. Each value is the result's own field.
 */
export function grokkingHeadline(r: GrokkingHeadlineSource): HeadlineNumber[] {
  const metricOf = (key: string, label: string, value: number | null, n: number): HeadlineNumber =>
    value === null
      ? { key, label, value: null, note: `the task gave no finite ${r.metric} at the last step` }
      : r.metric === 'accuracy'
      ? { key, label, value, stderr: Math.sqrt(Math.max(0, value * (1 - value)) / n), better: 'higher', note: `binomial over the ${n} examples (a pair in both orientations counts twice)` }
      : { key, label, value, exact: true, note: `task metric on the whole split of ${n} examples, not resampled` };
  const reached = (key: string, label: string, step: number | null, split: string): HeadlineNumber =>
    step === null
      ? { key, label, value: null, note: `${split} ${r.metric} never reached ${r.threshold} (phase: ${r.phase})` }
      : { key, label, value: step, exact: true, better: 'lower', note: `first recorded step (every ${r.every}), phase: ${r.phase}` };
  return [
    metricOf('testAccuracy', `final ${r.testSplit} ${r.metric}`, r.final.testAccuracy, r.testExamples),
    reached('stepsToTest', `steps until ${r.testSplit} ${r.metric} ≥ ${r.threshold}`, r.reach.test, r.testSplit),
    reached('stepsToTrain', `steps until ${r.trainSplit} ${r.metric} ≥ ${r.threshold}`, r.reach.train, r.trainSplit),
    r.final.rqi === null
      ? { key: 'rqi', label: 'final RQI of the embedding', value: null, note: 'no embedding geometry for this task or model' }
      : { key: 'rqi', label: 'final RQI of the embedding (fraction of ideal parallelograms)', value: r.final.rqi, exact: true, better: 'higher', note: 'a count over the ideal parallelograms' },
    r.ideal === null
      ? { key: 'idealTestAccuracy', label: 'test accuracy the training set implies', value: null, note: 'the ideal accuracy is defined for an addition table only' }
      : { key: 'idealTestAccuracy', label: 'test accuracy the training set implies (ideal representation)', value: r.ideal.testAccuracy, exact: true, note: 'combinatorial, from the train pairs' },
  ];
}
