import { studentTQuantile } from '@goldstone/core';
import type { Quadrature } from './spectral-density';

/**
 * A monotone spectral function, with what it tends to at ±∞ (used where no bound on the spectrum
 * is known: f(θ₀) with θ₀ = −∞ is `atMinusInfinity`, f(θ_{m+1}) with θ_{m+1} = +∞ is
 * `atPlusInfinity`; `Infinity` is allowed, and makes that side of the bracket unbounded).
 */
export interface MonotoneFunction {
  f: (t: number) => number;
  /** true: nondecreasing; false: nonincreasing. */
  increasing: boolean;
  atMinusInfinity: number;
  atPlusInfinity: number;
}

/** Bounds on the spectrum [λ_min, λ_max] a bracket may use (absent: ±∞). */
export interface SpectrumBounds {
  /** A value ≤ λ_min. */
  lower?: number;
  /** A value ≥ λ_max. */
  upper?: number;
}

/** One probe's Gauss estimate Σ τ f(θ) and its Chebyshev–Markov–Stieltjes bracket [lo, hi]. */
export interface ProbeBracket {
  value: number;
  lo: number;
  hi: number;
  /**
   * The largest weight among the nodes whose neighbours straddle a change of f (for a step
   * function: the nodes next to the threshold): below this mass the rule cannot resolve a count.
   */
  resolution: number;
}

/**
 * The bracket of ∫ f dμ from one Gauss rule of μ (nodes θ₁ < … < θ_m ascending, weights τ):
 * by the Chebyshev–Markov–Stieltjes inequalities Σ_{j<k} τ_j ≤ F(θ_k−) ≤ F(θ_k) ≤ Σ_{j≤k} τ_j, so for
 * a nondecreasing f (integrate by parts against F)
 *   Σ_k τ_k f(θ_{k−1}) ≤ ∫ f dμ ≤ Σ_k τ_k f(θ_{k+1}),   θ₀ ≤ λ_min, θ_{m+1} ≥ λ_max,
 * and the same with the sides swapped for a nonincreasing f. A rule flagged `exact` (the Krylov
 * space became invariant, or the exact spectrum) is the measure itself: lo = hi = value.
 */
export function probeBracket(q: Quadrature, fn: MonotoneFunction, bounds: SpectrumBounds = {}): ProbeBracket {
  const { nodes, weights } = q;
  const m = nodes.length;
  let value = 0;
  for (let k = 0; k < m; k++) if (weights[k] !== 0) value += weights[k] * fn.f(nodes[k]);
  if (q.exact) return { value, lo: value, hi: value, resolution: 0 };
  // the ends: a valid bound when known (never inside the nodes' range), else the limit of f
  const below = bounds.lower !== undefined ? fn.f(Math.min(bounds.lower, nodes[0])) : fn.atMinusInfinity;
  const above = bounds.upper !== undefined ? fn.f(Math.max(bounds.upper, nodes[m - 1])) : fn.atPlusInfinity;
  const at = (k: number) => (k < 0 ? below : k >= m ? above : fn.f(nodes[k]));
  let left = 0;
  let right = 0;
  let resolution = 0;
  for (let k = 0; k < m; k++) {
    const w = weights[k];
    if (w === 0) continue;
    const a = at(k - 1);
    const b = at(k + 1);
    left += w * a;
    right += w * b;
    if (a !== b) resolution = Math.max(resolution, w);
  }
  return fn.increasing ? { value, lo: left, hi: right, resolution } : { value, lo: right, hi: left, resolution };
}

/**
 * The p-quantile (p ≥ 0.5) of Student's t with an integer ν ≥ 1 degrees of freedom (core's
 * `studentTQuantile`, with the argument checks the intervals rely on).
 */
export function studentTUpperQuantile(p: number, nu: number): number {
  if (!(p >= 0.5 && p < 1)) throw new RangeError(`studentTUpperQuantile: p must be in [0.5, 1), got ${p}`);
  if (!(Number.isInteger(nu) && nu >= 1)) throw new RangeError(`studentTUpperQuantile: degrees of freedom must be an integer ≥ 1, got ${nu}`);
  return studentTQuantile(p, nu);
}

/** Default confidence level of SLQ intervals. */
export const DEFAULT_LEVEL = 0.9;
/** Default largest quadrature bracket, as a fraction of |value|, of a number called reliable. */
export const DEFAULT_MAX_RELATIVE_BRACKET = 0.25;

/** An SLQ-derived spectral sum with an interval that includes the quadrature's own error. */
export interface BoundedEstimate {
  /** n × mean over probes of the Gauss estimate Σ τ f(θ) (as before). */
  value: number;
  /** Standard error of `value` across probes (the Monte-Carlo part only). */
  stderr: number;
  /**
   * [n·(mean lo − t·se(lo)), n·(mean hi + t·se(hi))], t the (1+level)/2 quantile of Student's t with
   * probes − 1 d.o.f., clipped to the range f can give: covers tr f(A) at ≥ `level` (quadrature
   * bracket + Monte-Carlo error). One probe: the bracket alone (`reliable` false). `Infinity` where
   * no valid spectrum bound was given for an unbounded f.
   */
  interval: [number, number];
  level: number;
  /** n·(mean hi − mean lo): the width from the quadrature alone (0 for an exact spectrum). */
  quadratureBracket: number;
  /** n × mean largest weight next to a step of f (counts only): the quadrature's resolution. */
  resolution?: number;
  /** Whether the number may be quoted: see `reason` when not. */
  reliable: boolean;
  reason?: string;
  probes: number;
  /** Every rule was the measure itself (exact spectrum, or an invariant Krylov space): no quadrature error. */
  exact: boolean;
}

export interface BoundedSumOptions {
  /** Confidence level of the interval (default 0.9). */
  level?: number;
  /** Largest quadrature bracket, as a fraction of |value|, of a reliable number (default 0.25). */
  maxRelativeBracket?: number;
  /** Valid bounds on the spectrum (each probe's ends θ₀, θ_{m+1}). */
  bounds?: SpectrumBounds;
  /** A count or fraction (step functions): also unreliable when below the quadrature's resolution. */
  step?: boolean;
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const stderrOf = (xs: readonly number[]) => {
  if (xs.length < 2) return 0;
  const mu = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - mu) ** 2, 0) / (xs.length - 1) / xs.length);
};

/**
 * A spectral sum from per-probe brackets, each a list of terms combined with signs (a near-zero
 * count is the difference of two monotone indicators: its bracket is the worst case of theirs).
 * `scale` is n (a sum) or 1 (a fraction); `range` the values the true sum can take.
 */
export function combineBrackets(
  perProbe: readonly ProbeBracket[],
  scale: number,
  range: [number, number],
  exact: boolean,
  opts: BoundedSumOptions = {},
): BoundedEstimate {
  const level = opts.level ?? DEFAULT_LEVEL;
  if (!(level > 0 && level < 1)) throw new RangeError(`SLQ interval: level must be in (0, 1), got ${level}`);
  const maxRel = opts.maxRelativeBracket ?? DEFAULT_MAX_RELATIVE_BRACKET;
  const k = perProbe.length;
  const values = perProbe.map((p) => p.value);
  const los = perProbe.map((p) => p.lo);
  const his = perProbe.map((p) => p.hi);
  const value = scale * mean(values);
  const stderr = scale * stderrOf(values);
  const tq = k >= 2 ? studentTUpperQuantile((1 + level) / 2, k - 1) : 0;
  const clip = (x: number) => Math.min(range[1], Math.max(range[0], x));
  const lo = clip(scale * (mean(los) - tq * stderrOf(los)));
  const hi = clip(scale * (mean(his) + tq * stderrOf(his)));
  const quadratureBracket = scale * (mean(his) - mean(los));
  const resolution = opts.step ? scale * mean(perProbe.map((p) => p.resolution)) : undefined;
  const reasons: string[] = [];
  if (k < 2 && !exact) reasons.push('one probe: the interval is the quadrature bracket alone, with no Monte-Carlo error');
  if (!Number.isFinite(quadratureBracket)) reasons.push('no valid bound on the spectrum for an unbounded function: the bracket is unbounded');
  else if (quadratureBracket > maxRel * Math.abs(value)) {
    reasons.push(`quadrature bracket ${fmt(quadratureBracket)} wider than ${maxRel} × |value| (${fmt(value)})`);
  }
  if (resolution !== undefined && resolution > 0 && value < resolution) {
    reasons.push(`value ${fmt(value)} below the quadrature's resolution ${fmt(resolution)} (n × largest weight next to the threshold)`);
  }
  const out: BoundedEstimate = { value, stderr, interval: [lo, hi], level, quadratureBracket, reliable: reasons.length === 0, probes: k, exact };
  if (resolution !== undefined) out.resolution = resolution;
  if (reasons.length) out.reason = reasons.join('; ');
  return out;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : String(x);
}

/**
 * tr f(A) for a monotone f from quadrature rules, with an interval covering it at `level`:
 * n · mean over probes of Σ τ f(θ), its standard error across probes, the Chebyshev–Markov–Stieltjes
 * bracket of each probe (`probeBracket`) widened by the Monte-Carlo error (`combineBrackets`).
 */
export function boundedSpectralSum(quadratures: readonly Quadrature[], dim: number, fn: MonotoneFunction, opts: BoundedSumOptions = {}): BoundedEstimate {
  if (quadratures.length === 0) throw new RangeError('boundedSpectralSum: no quadrature rules');
  const per = quadratures.map((q) => probeBracket(q, fn, opts.bounds));
  const lo = Math.min(fn.atMinusInfinity, fn.atPlusInfinity);
  const hi = Math.max(fn.atMinusInfinity, fn.atPlusInfinity);
  return combineBrackets(per, dim, [dim * lo, dim * hi], quadratures.every((q) => q.exact === true), opts);
}

/**
 * μ(a < λ < b)-type mass of a window as the difference of two nonincreasing indicators,
 * 1{t < b} − 1{t ≤ a}: each bracketed, combined worst-case (lo = lo₁ − hi₂, hi = hi₁ − lo₂), clipped
 * to [0, 1] per probe (the true mass lies there). The resolution is the larger of the two ends'.
 */
export function windowBracket(q: Quadrature, a: number, b: number): ProbeBracket {
  const below = (strict: boolean, x: number): MonotoneFunction => ({
    f: strict ? (t) => (t < x ? 1 : 0) : (t) => (t <= x ? 1 : 0),
    increasing: false,
    atMinusInfinity: 1,
    atPlusInfinity: 0,
  });
  const upper = probeBracket(q, below(true, b));
  const lower = probeBracket(q, below(false, a));
  return {
    value: upper.value - lower.value,
    lo: Math.max(0, upper.lo - lower.hi),
    hi: Math.min(1, upper.hi - lower.lo),
    resolution: Math.max(upper.resolution, lower.resolution),
  };
}
