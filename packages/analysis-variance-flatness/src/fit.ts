import { quantileSorted } from '@goldstone/core';

/** The q-quantile of sorted values (type 7), from @goldstone/core. */
export { quantileSorted };
/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; ~15 significant digits). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let s = c[0];
  for (let i = 1; i < 9; i++) s += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 500; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b). */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with `df` degrees of freedom (bisection on the CDF). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`studentTQuantile: df must be > 0, got ${df}`);
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

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
