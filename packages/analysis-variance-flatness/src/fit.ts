import { logGamma, quantileSorted, regularizedBeta, studentTCdf, studentTQuantile } from '@goldstone/core';

/** The q-quantile of sorted values (type 7) and Student's t, from @goldstone/core. */
export { logGamma, quantileSorted, regularizedBeta, studentTCdf, studentTQuantile };
export interface LinearFit {
  slope: number;
  intercept: number;
  /** Standard error of the slope (ordinary least squares, residual variance with n − 2 d.o.f.). */
  slopeStdErr: number;
  /** Two-sided confidence interval of the slope at `level`, from Student's t with n − 2 d.o.f. */
  slopeCi: [number, number];
  level: number;
  r2: number;
  n: number;
}

/** Ordinary least squares y ≈ intercept + slope·x, with the slope's standard error and t-interval. */
export function linearFit(x: ArrayLike<number>, y: ArrayLike<number>, level = 0.95): LinearFit {
  const n = x.length;
  if (n !== y.length) throw new Error('linearFit: x and y differ in length');
  if (n < 3) throw new Error(`linearFit: need at least 3 points, got ${n}`);
  const { sxx, sxy, syy, mx, my } = moments(x, y);
  if (!(sxx > 0)) throw new Error('linearFit: all x values are equal');
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const r = y[i] - intercept - slope * x[i];
    sse += r * r;
  }
  const slopeStdErr = Math.sqrt(sse / (n - 2) / sxx);
  const t = studentTQuantile(0.5 + level / 2, n - 2);
  return {
    slope,
    intercept,
    slopeStdErr,
    slopeCi: [slope - t * slopeStdErr, slope + t * slopeStdErr],
    level,
    r2: syy > 0 ? 1 - sse / syy : 1,
    n,
  };
}

export interface PowerLawFit {
  /** The exponent e of y ∝ x^e, its standard error and confidence interval. */
  exponent: number;
  stdErr: number;
  ci: [number, number];
  /** y ≈ prefactor · x^exponent. */
  prefactor: number;
  r2: number;
  n: number;
  level: number;
}

/** Fit y ∝ x^e by least squares on log–log axes (all x, y must be > 0). */
export function powerLawFit(x: ArrayLike<number>, y: ArrayLike<number>, level = 0.95): PowerLawFit {
  const lx = Array.from(x, (v) => Math.log(v));
  const ly = Array.from(y, (v) => Math.log(v));
  for (let i = 0; i < lx.length; i++) {
    if (!Number.isFinite(lx[i]) || !Number.isFinite(ly[i])) throw new Error(`powerLawFit: point ${i} (${x[i]}, ${y[i]}) is not positive`);
  }
  const f = linearFit(lx, ly, level);
  return { exponent: f.slope, stdErr: f.slopeStdErr, ci: f.slopeCi, prefactor: Math.exp(f.intercept), r2: f.r2, n: f.n, level };
}

/** The three estimators of the slope of y on x that the ψ fit reports side by side. */
export type SlopeEstimator = 'ols' | 'reverse' | 'rma';
export const SLOPE_ESTIMATORS: readonly SlopeEstimator[] = ['ols', 'reverse', 'rma'];

/** Centred second moments of (x, y): the sums Sxx, Syy, Sxy about the means. */
function moments(x: ArrayLike<number>, y: ArrayLike<number>, idx?: ArrayLike<number>): { sxx: number; syy: number; sxy: number; mx: number; my: number; n: number } {
  const n = idx ? idx.length : x.length;
  let mx = 0;
  let my = 0;
  for (let k = 0; k < n; k++) {
    const i = idx ? idx[k] : k;
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let k = 0; k < n; k++) {
    const i = idx ? idx[k] : k;
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  return { sxx, syy, sxy, mx, my, n };
}

/**
 * The slope of y against x by each estimator, from the centred sums: ordinary least squares of y
 * on x (Sxy/Sxx, biased towards 0 by noise in x), the reverse regression of x on y inverted
 * (Syy/Sxy, biased away from 0 by noise in y), and the reduced major axis, their geometric mean
 * sign(Sxy)·√(Syy/Sxx). NaN where the slope is undefined (Sxx = 0, or Sxy = 0 for reverse and RMA).
 */
export function slopes(x: ArrayLike<number>, y: ArrayLike<number>, idx?: ArrayLike<number>): Record<SlopeEstimator, number> & { r2: number } {
  const { sxx, syy, sxy } = moments(x, y, idx);
  const ok = sxx > 0;
  return {
    ols: ok ? sxy / sxx : NaN,
    reverse: ok && sxy !== 0 ? syy / sxy : NaN,
    rma: ok && sxy !== 0 ? Math.sign(sxy) * Math.sqrt(syy / sxx) : NaN,
    r2: ok && syy > 0 ? (sxy * sxy) / (sxx * syy) : NaN,
  };
}

/** One estimator's slope with its percentile bootstrap interval. */
export interface BootstrapSlope {
  slope: number;
  intercept: number;
  ci: [number, number];
  /** Resamples that gave a defined slope (the interval's quantiles are over these). */
  resamples: number;
}

export interface BootstrapFits {
  ols: BootstrapSlope;
  reverse: BootstrapSlope;
  rma: BootstrapSlope;
  r2: number;
  n: number;
  level: number;
  seed: number;
}


/** A small seeded generator (splitmix32) for resampling: deterministic per seed, independent of any other stream. */
export function resampler(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n: number) => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return Math.floor((z / 4294967296) * n);
  };
}

/**
 * OLS, reverse and reduced-major-axis slopes of y on x with percentile bootstrap intervals: the n
 * points are resampled with replacement `resamples` times (seeded: the same seed gives the same
 * intervals), each estimator's slope is recomputed on every resample, and the interval is the
 * (1 ∓ level)/2 quantiles of those slopes. Needs at least 3 points with distinct x.
 */
export function bootstrapFits(x: ArrayLike<number>, y: ArrayLike<number>, opts: { resamples?: number; level?: number; seed?: number } = {}): BootstrapFits {
  const n = x.length;
  if (n !== y.length) throw new Error('bootstrapFits: x and y differ in length');
  if (n < 3) throw new Error(`bootstrapFits: need at least 3 points, got ${n}`);
  const resamples = opts.resamples ?? 2000;
  const level = opts.level ?? 0.95;
  const seed = opts.seed ?? 1;
  const m = moments(x, y);
  const point = slopes(x, y);
  if (!Number.isFinite(point.ols)) throw new Error('bootstrapFits: all x values are equal');
  const draw = resampler(seed);
  const idx = new Int32Array(n);
  const samples: Record<SlopeEstimator, number[]> = { ols: [], reverse: [], rma: [] };
  for (let b = 0; b < resamples; b++) {
    for (let k = 0; k < n; k++) idx[k] = draw(n);
    const s = slopes(x, y, idx);
    for (const e of SLOPE_ESTIMATORS) if (Number.isFinite(s[e])) samples[e].push(s[e]);
  }
  const one = (e: SlopeEstimator): BootstrapSlope => {
    const sorted = Float64Array.from(samples[e]).sort();
    const slope = point[e];
    return {
      slope,
      intercept: m.my - slope * m.mx,
      ci: [quantileSorted(sorted, (1 - level) / 2), quantileSorted(sorted, (1 + level) / 2)],
      resamples: sorted.length,
    };
  };
  return { ols: one('ols'), reverse: one('reverse'), rma: one('rma'), r2: point.r2, n, level, seed };
}

/** Mean of values with a percentile bootstrap interval of the mean (resampling the values; seeded). */
export function bootstrapMean(values: readonly number[], opts: { resamples?: number; level?: number; seed?: number } = {}): { mean: number; ci: [number, number]; n: number; std: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  const resamples = opts.resamples ?? 2000;
  const level = opts.level ?? 0.95;
  const draw = resampler(opts.seed ?? 1);
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += values[draw(n)];
    means[b] = s / n;
  }
  means.sort();
  return { mean, ci: [quantileSorted(means, (1 - level) / 2), quantileSorted(means, (1 + level) / 2)], n, std };
}
