import { Rng } from '@goldstone/core';
import { mean, quantile, sampleRankCorrelation, sampleStandardDeviation } from 'simple-statistics';

/** Pairs where both values are finite numbers (missing values are excluded pairwise). */
export function completePairs(x: readonly (number | null)[], y: readonly (number | null)[]): { x: number[]; y: number[] } {
  const px: number[] = [];
  const py: number[] = [];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const a = x[i];
    const b = y[i];
    if (typeof a === 'number' && Number.isFinite(a) && typeof b === 'number' && Number.isFinite(b)) {
      px.push(a);
      py.push(b);
    }
  }
  return { x: px, y: py };
}

/**
 * Spearman's rank correlation ρ of paired samples (ties take their average rank), or null when it is
 * undefined: fewer than 3 pairs, or either side constant.
 */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new Error(`spearman: ${x.length} x values against ${y.length} y values`);
  if (x.length < 3) return null;
  const r = sampleRankCorrelation(x as number[], y as number[]);
  if (!Number.isFinite(r)) return null;
  return Math.max(-1, Math.min(1, r));
}

export interface BootstrapOptions {
  resamples: number;
  /** Two-sided coverage of the interval (0.95). */
  confidence: number;
  rng: Rng;
}

export interface CorrelationEstimate {
  /** ρ of the pairs as given (null when undefined). */
  rho: number | null;
  /** Percentile bootstrap interval of ρ (null when ρ is undefined or too few resamples defined ρ). */
  lo: number | null;
  hi: number | null;
  /** Complete pairs used. */
  pairs: number;
  /** Resamples in which ρ was defined (a resample of tied or repeated values may have no rank variance). */
  validResamples: number;
}

/**
 * ρ with a percentile bootstrap interval: resample the pairs with replacement `resamples` times,
 * compute ρ of each resample, and take the (1 − c)/2 and (1 + c)/2 quantiles of those ρ. Resamples
 * whose ρ is undefined are dropped; fewer than half defined gives no interval.
 */
export function bootstrapSpearman(x: readonly number[], y: readonly number[], opts: BootstrapOptions): CorrelationEstimate {
  const n = x.length;
  const rho = spearman(x, y);
  if (rho === null) return { rho, lo: null, hi: null, pairs: n, validResamples: 0 };
  const rhos: number[] = [];
  const bx = new Array<number>(n);
  const by = new Array<number>(n);
  for (let b = 0; b < opts.resamples; b++) {
    for (let i = 0; i < n; i++) {
      const j = opts.rng.int(n);
      bx[i] = x[j];
      by[i] = y[j];
    }
    const r = spearman(bx, by);
    if (r !== null) rhos.push(r);
  }
  if (rhos.length < opts.resamples / 2) return { rho, lo: null, hi: null, pairs: n, validResamples: rhos.length };
  const alpha = (1 - opts.confidence) / 2;
  return { rho, lo: quantile(rhos, alpha), hi: quantile(rhos, 1 - alpha), pairs: n, validResamples: rhos.length };
}

/** Mean and sample standard deviation (0 for a single value). */
export function meanSd(values: readonly number[]): { mean: number; sd: number } {
  return { mean: mean(values as number[]), sd: values.length < 2 ? 0 : sampleStandardDeviation(values as number[]) };
}
