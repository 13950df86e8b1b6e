import { z } from 'zod';
import { PATH_PATTERN } from './paths';

const path = z.string().regex(PATH_PATTERN, 'expected a path analysis.key["key"][0][field=value] (an analysis id, then keys, indices and selectors)');
const name = z.string().min(1);

/**
 * Where the complexity measures are read by default: the hessian analysis' `headline` (its README
 * lists the paths it keeps stable), which holds only numbers fit to quote: converged eigenvalues and
 * the SLQ-derived numbers whose interval is narrow enough (`reliable`); a run whose number was left
 * out of the headline counts as missing for that measure, with the reason in its notes. The
 * effective dimension and log-determinant are the scale-free ones (z relative to λ_max), comparable
 * across runs. An experiment names its own measures
 * (`complexity: { generatorCurvature: 'hessian.result.generators[name=rotation].relativeToLambdaMax' }`).
 */
export const DEFAULT_COMPLEXITY: Record<string, string> = {
  lambdaMax: 'hessian.result.headline.topEigenvalues[0].value',
  trace: 'hessian.result.headline.trace.value',
  effectiveDimension: 'hessian.result.headline.effectiveDimensionRelative.value',
  logDet: 'hessian.result.headline.logDetRelative.value',
  nearZeroModes: 'hessian.result.headline.nearZeroModes.value',
};

export const trendOptions = z.strictObject({
  /** The swept setting on the x axis (a sweep path: `train.symmetryPenalty.lambda`). */
  x: name.describe('The swept setting on the x axis (a sweep path, e.g. train.symmetryPenalty.lambda)'),
  /** One line per value of this setting (a sweep path); none: one line. */
  lines: name.optional().describe('One line per value of this swept setting (a sweep path); none: a single line'),
  /** The complexity measures (or outcomes) to plot, one figure each; default every complexity measure. */
  metrics: z.array(name).min(1).optional().describe('Complexity measures or outcomes to plot, one figure each (default: every complexity measure)'),
});

/**
 * A claim to test across the sweep: the sign of Spearman's ρ between `x` and `y`, each a measure
 * (complexity or outcome) by name or a swept setting by path (`train.symmetryPenalty.lambda`).
 */
export const claimOptions = z.strictObject({
  /** The claim in words, as the report states it. */
  claim: z.string().min(1).describe('The claim in words (shown with its verdict)'),
  x: name.describe('A measure (complexity or outcome) by name, or a swept setting by path'),
  y: name.describe('A measure (complexity or outcome) by name, or a swept setting by path'),
  /** The sign of ρ the claim predicts. */
  expect: z.enum(['positive', 'negative']).describe('The sign of ρ(x, y) the claim predicts'),
  /** Only runs whose settings have these values (`{ "train.symmetryPenalty.form": "generator" }`). */
  where: z.record(name, z.unknown()).optional().describe('Only runs whose swept settings have these values'),
});

export const correlationsOptions = z.strictObject({
  /** Complexity measures: name → path into an earlier analysis' result. */
  complexity: z.record(name, path).default(DEFAULT_COMPLEXITY).describe('Complexity measures: name → path into an earlier analysis result (hessian.result.topEigenvalues[0])'),
  /** Outcomes read from earlier analyses: name → path (`robustness.result.headline.pgdDrop`). */
  outcomes: z.record(name, path).default({}).describe('Outcomes read from earlier analyses: name → path (robustness.result.headline.pgdDrop)'),
  /** Also measure the run's own outcomes: the primary metric on test and each out-of-distribution split, and the generalisation gap. */
  performance: z.boolean().default(true).describe("Also measure the run's primary metric on test and each OOD split, and the generalisation gap"),
  /** At most this many examples of each split are scored (a seeded random subset when larger). */
  maxExamples: z.number().int().positive().default(4096).describe('At most this many examples of each split are scored (a seeded subset when larger)'),
  /** Bootstrap resamples of the runs for each interval. */
  resamples: z.number().int().min(100).max(100000).default(2000).describe('Bootstrap resamples of the runs for each interval'),
  /** Coverage of the percentile bootstrap interval. */
  confidence: z.number().gt(0).lt(1).default(0.95).describe('Coverage of the percentile bootstrap interval'),
  /** Seed of the bootstrap (the summary has no run seed; the same seed gives the same intervals). */
  seed: z.number().int().min(0).default(0).describe('Seed of the bootstrap resampling'),
  /** A sweep setting (`model.name`) to compute the table per group of, beside the pooled one. */
  groupBy: name.optional().describe('A sweep setting (e.g. model.name) to compute the table per group of, beside the pooled table'),
  /** Trend figures: measures against one swept setting, one line per value of another, mean ± s.d. over the rest. */
  trend: trendOptions.optional().describe('Trend figures: measures against a swept setting, one line per value of another, mean ± s.d. over seeds'),
  /**
   * Claims tested across the sweep, each with a verdict taken within each `groupBy` group (or over
   * all runs without groups): reproduced (in every group the interval of ρ excludes 0 on the
   * predicted side), partly (some groups do, or every ρ has the predicted sign), contradicted (no
   * group does and some exclude 0 on the other side), not reproduced (otherwise).
   */
  claims: z.array(claimOptions).default([]).describe('Claims tested across the sweep (the sign of ρ between two measures or a setting and a measure), each with a verdict'),
});

export type CorrelationsOptions = z.output<typeof correlationsOptions>;
export type TrendOptions = z.output<typeof trendOptions>;
export type ClaimOptions = z.output<typeof claimOptions>;
