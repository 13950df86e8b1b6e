import type { Rng } from '@goldstone/plugin-api';
import { mean, quantile, sampleStandardDeviation } from 'simple-statistics';

/** One run's point: the train fraction p and the test accuracy reached. */
export interface AccuracyPoint {
  p: number;
  accuracy: number;
}

/** σ(z) = 1 / (1 + e^(−z)). */
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/**
 * The transition curve: acc(p) = c + (1 − c) · σ((ln p − ln p_c) / w), with c the chance accuracy
 * (held fixed), so that acc(p_c) = (c + 1) / 2, halfway between chance and 1; w is the width in
 * ln p (acc goes from 27 % to 73 % of the way up over ln p_c ± w).
 */
export function transitionCurve(p: number, pc: number, width: number, chance: number): number {
  return chance + (1 - chance) * sigmoid((Math.log(p) - Math.log(pc)) / width);
}

function sse(points: readonly AccuracyPoint[], u: number, w: number, chance: number): number {
  let s = 0;
  for (const q of points) s += (q.accuracy - (chance + (1 - chance) * sigmoid((Math.log(q.p) - u) / w))) ** 2;
  return s;
}

/**
 * Pattern search from (u, ln w) with halving steps down to 1e-6 in ln p_c and ln w (at most 2,000
 * rounds: a long narrow valley would otherwise take many small moves): a local least-squares minimum.
 */
function refine(points: readonly AccuracyPoint[], u0: number, lw0: number, chance: number, lo: number, hi: number): { u: number; lw: number; sse: number } {
  let u = u0;
  let lw = lw0;
  let best = sse(points, u, Math.exp(lw), chance);
  let su = 0.25;
  let sw = 0.25;
  for (let round = 0; round < 2000 && (su > 1e-6 || sw > 1e-6); round++) {
    let moved = false;
    for (const [du, dw] of [[su, 0], [-su, 0], [0, sw], [0, -sw]]) {
      const nu = Math.min(hi, Math.max(lo, u + du));
      const nw = Math.min(Math.log(20), Math.max(Math.log(1e-3), lw + dw));
      const s = sse(points, nu, Math.exp(nw), chance);
      if (s < best - 1e-15) {
        best = s;
        u = nu;
        lw = nw;
        moved = true;
      }
    }
    if (!moved) {
      su /= 2;
      sw /= 2;
    }
  }
  return { u, lw, sse: best };
}

export interface TransitionFit {
  /** The fitted p_c (acc halfway between chance and 1), or null with fewer than 2 distinct p. */
  pc: number | null;
  /** Width of the transition in ln p. */
  width: number | null;
  chance: number;
  /** Root mean squared residual of the fit over the runs. */
  rmse: number | null;
  /** Whether p_c lies inside the scanned range of p (outside it the fit extrapolates). */
  inRange: boolean;
  runs: number;
}

/**
 * Least-squares fit of `transitionCurve` to the runs' (p, accuracy), chance fixed: a grid over
 * ln p_c (the scanned range of ln p widened by 1 on each side) × ln w (w from 0.01 to 10), then a
 * pattern search from the best grid point.
 */
export function fitTransition(points: readonly AccuracyPoint[], chance: number, start?: { pc: number; width: number }): TransitionFit {
  const ps = points.map((q) => q.p);
  const distinct = new Set(ps).size;
  if (distinct < 2) return { pc: null, width: null, chance, rmse: null, inRange: false, runs: points.length };
  const lmin = Math.log(Math.min(...ps));
  const lmax = Math.log(Math.max(...ps));
  const lo = lmin - 1;
  const hi = lmax + 1;
  let u0 = 0;
  let lw0 = 0;
  if (start) {
    u0 = Math.log(start.pc);
    lw0 = Math.log(start.width);
  } else {
    let best = Infinity;
    for (let i = 0; i <= 60; i++) {
      const u = lo + ((hi - lo) * i) / 60;
      for (let j = 0; j <= 30; j++) {
        const lw = Math.log(0.01) + ((Math.log(10) - Math.log(0.01)) * j) / 30;
        const s = sse(points, u, Math.exp(lw), chance);
        if (s < best) {
          best = s;
          u0 = u;
          lw0 = lw;
        }
      }
    }
  }
  const r = refine(points, u0, lw0, chance, lo, hi);
  return { pc: Math.exp(r.u), width: Math.exp(r.lw), chance, rmse: Math.sqrt(r.sse / points.length), inRange: r.u >= lmin && r.u <= lmax, runs: points.length };
}

/** Runs grouped by their value of p, in increasing p. */
export function byValue<T>(items: readonly T[], key: (t: T) => number): { value: number; items: T[] }[] {
  const groups = new Map<number, T[]>();
  for (const t of items) groups.set(key(t), [...(groups.get(key(t)) ?? []), t]);
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([value, its]) => ({ value, items: its }));
}

/** Draw each group's items with replacement (as many as it has): a bootstrap over seeds within each setting. */
export function resampleWithin<T>(groups: readonly { value: number; items: T[] }[], rng: Rng): { value: number; items: T[] }[] {
  return groups.map((g) => ({ value: g.value, items: g.items.map(() => g.items[rng.int(g.items.length)]) }));
}

export interface TransitionEstimate extends TransitionFit {
  /** Percentile bootstrap interval of p_c (runs resampled within each p); null when too few resamples gave a fit. */
  lo: number | null;
  hi: number | null;
  resamples: number;
}

/** `fitTransition` with a bootstrap interval of p_c: resample the runs (seeds) within each p, refit (grid and pattern search), percentile interval. */
export function fitTransitionWithInterval(points: readonly AccuracyPoint[], chance: number, resamples: number, confidence: number, rng: Rng): TransitionEstimate {
  const fit = fitTransition(points, chance);
  if (fit.pc === null || fit.width === null) return { ...fit, lo: null, hi: null, resamples };
  const groups = byValue(points, (q) => q.p);
  const draws: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const sample = resampleWithin(groups, rng).flatMap((g) => g.items);
    const f = fitTransition(sample, chance);
    if (f.pc !== null) draws.push(f.pc);
  }
  if (draws.length < resamples / 2) return { ...fit, lo: null, hi: null, resamples };
  const a = (1 - confidence) / 2;
  return { ...fit, lo: quantile(draws, a), hi: quantile(draws, 1 - a), resamples };
}

/** Mean and sample standard deviation (0 for one value). */
export function meanSpread(values: readonly number[]): { mean: number; sd: number; count: number } {
  return { mean: mean(values as number[]), sd: values.length < 2 ? 0 : sampleStandardDeviation(values as number[]), count: values.length };
}

/** One run of a width scan: decoder width, depth (hidden layers) and test accuracy. */
export interface WidthPoint {
  width: number;
  depth: number;
  accuracy: number;
}

/** The Goldilocks test of one depth. */
export interface GoldilocksTest {
  depth: number;
  widths: number[];
  /** The width with the largest mean test accuracy. */
  argmax: number;
  /** Best mean over the interior widths minus the larger of the two end means. */
  margin: number | null;
  lo: number | null;
  hi: number | null;
  /** Fraction of bootstrap resamples whose argmax is an interior width. */
  interiorArgmaxFraction: number | null;
  /** margin's interval lies above 0: an interior maximum. */
  interiorMaximum: boolean;
}

/**
 * Whether test accuracy has an interior maximum in width, per depth: margin = max over interior
 * widths of the mean accuracy − max(mean at the smallest width, mean at the largest), with a
 * percentile bootstrap interval over seeds (runs resampled within each width) and the fraction of
 * resamples whose argmax width is interior. Needs at least 3 widths.
 */
export function goldilocks(points: readonly WidthPoint[], resamples: number, confidence: number, rng: Rng): GoldilocksTest[] {
  const depths = [...new Set(points.map((q) => q.depth))].sort((a, b) => a - b);
  return depths.map((depth) => {
    const groups = byValue(points.filter((q) => q.depth === depth), (q) => q.width);
    const widths = groups.map((g) => g.value);
    const means = (gs: { items: WidthPoint[] }[]) => gs.map((g) => mean(g.items.map((q) => q.accuracy)));
    const m = means(groups);
    const argmaxOf = (v: number[]) => v.reduce((best, x, i) => (x > v[best] ? i : best), 0);
    const argmax = widths[argmaxOf(m)];
    if (widths.length < 3) return { depth, widths, argmax, margin: null, lo: null, hi: null, interiorArgmaxFraction: null, interiorMaximum: false };
    const marginOf = (v: number[]) => Math.max(...v.slice(1, -1)) - Math.max(v[0], v[v.length - 1]);
    const margin = marginOf(m);
    const draws: number[] = [];
    let interior = 0;
    for (let r = 0; r < resamples; r++) {
      const v = means(resampleWithin(groups, rng));
      draws.push(marginOf(v));
      const k = argmaxOf(v);
      if (k > 0 && k < v.length - 1) interior++;
    }
    const a = (1 - confidence) / 2;
    const lo = quantile(draws, a);
    const hi = quantile(draws, 1 - a);
    return { depth, widths, argmax, margin, lo, hi, interiorArgmaxFraction: interior / resamples, interiorMaximum: lo > 0 };
  });
}
