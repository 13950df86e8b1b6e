import { quantileSorted } from '@goldstone/core';

/** The q-quantile of sorted values (type 7), from @goldstone/core. */
export { quantileSorted };
import type { Rng } from '@goldstone/plugin-api';
import { sampleCumulants } from '@goldstone/task-clt';

/** Binomial coefficient C(n, k) for small n (exact in float64 up to n ≈ 50). */
export function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

/**
 * Raw moments m₁…m_K from cumulants κ₁…κ_K (index i holds order i + 1):
 * mₙ = Σ_{k=1}^{n} C(n−1, k−1) κₖ mₙ₋ₖ, m₀ = 1.
 */
export function momentsFromCumulants(kappa: readonly number[]): number[] {
  const m = [1];
  for (let n = 1; n <= kappa.length; n++) {
    let s = 0;
    for (let k = 1; k <= n; k++) s += binomial(n - 1, k - 1) * kappa[k - 1] * m[n - k];
    m.push(s);
  }
  return m.slice(1);
}

/** Cumulants κ₁…κ_K from raw moments m₁…m_K (the inverse of `momentsFromCumulants`). */
export function cumulantsFromMoments(moments: readonly number[]): number[] {
  const m = [1, ...moments];
  const kappa: number[] = [];
  for (let n = 1; n < m.length; n++) {
    let s = m[n];
    for (let k = 1; k < n; k++) s -= binomial(n - 1, k - 1) * kappa[k - 1] * m[n - k];
    kappa.push(s);
  }
  return kappa;
}

/**
 * Plug-in cumulants κ₁…κ_K of a sample (from its mean and central moments, float64): consistent,
 * not unbiased (for orders ≤ 4 use the k-statistics, `sampleCumulants`). Orders above 4 feed the
 * exact propagation through a quadratic layer, which needs input cumulants up to order 8.
 */
export function plugInCumulants(values: ArrayLike<number>, order: number): number[] {
  const n = values.length;
  if (n < 1) throw new RangeError('plugInCumulants needs at least one value');
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  const central = new Array<number>(order).fill(0);
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    let p = d;
    for (let k = 0; k < order; k++) {
      central[k] += p;
      p *= d;
    }
  }
  for (let k = 0; k < order; k++) central[k] /= n;
  central[0] = 0;
  const kappa = cumulantsFromMoments(central);
  kappa[0] = mean;
  return kappa;
}


/** Percentile interval of bootstrap replicates at the given coverage. */
export function percentileInterval(replicates: readonly number[], confidence: number): [number, number] {
  const s = Float64Array.from(replicates.filter((v) => Number.isFinite(v))).sort();
  const a = (1 - confidence) / 2;
  return [quantileSorted(s, a), quantileSorted(s, 1 - a)];
}

/** Bootstrap row indices: `n` draws with replacement from 0…n−1. */
export function resampleRows(n: number, rng: Rng): Int32Array {
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = rng.int(n);
  return rows;
}

/** The values of the given rows (each `width` wide) of a row-major array, concatenated, into `out`. */
export function gatherRows(values: ArrayLike<number>, width: number, rows: Int32Array, out: Float64Array): Float64Array {
  for (let r = 0; r < rows.length; r++) {
    const src = rows[r] * width;
    const dst = r * width;
    for (let j = 0; j < width; j++) out[dst + j] = values[src + j];
  }
  return out;
}

/** k-statistics k₁…k₄ of all values of the given rows (pooled). */
export function rowKStatistics(values: ArrayLike<number>, width: number, rows: Int32Array, scratch?: Float64Array): [number, number, number, number] {
  const buf = scratch && scratch.length === rows.length * width ? scratch : new Float64Array(rows.length * width);
  return sampleCumulants(gatherRows(values, width, rows, buf));
}

/** An estimate with its percentile bootstrap interval. */
export interface Estimate {
  value: number;
  interval: [number, number];
}

export function estimate(value: number, replicates: readonly number[], confidence: number): Estimate {
  return { value, interval: percentileInterval(replicates, confidence) };
}

/** Whether an interval contains 0, or comes within `tolerance` of it (float32 rounding of the outputs). */
export function coversZero(interval: readonly [number, number], tolerance = 0): boolean {
  return interval[0] <= tolerance && interval[1] >= -tolerance;
}

/**
 * The float32 rounding scale of an order-n cumulant difference: 1e-5 of the larger of |κₙ| and
 * κ₂^(n/2) (outputs and targets are float32, so identical maps differ at about 1e-7 relative).
 */
export function roundingTolerance(kappa: readonly number[], order: number): number {
  return 1e-5 * Math.max(Math.abs(kappa[order - 1]), Math.pow(Math.max(kappa[1], 0), order / 2));
}
