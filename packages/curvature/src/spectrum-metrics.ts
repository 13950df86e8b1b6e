import { axpy, blockSizeOf, dot, norm, scale, type LinearOperator } from './linear-operator';
import { inBlocks } from './trace-estimators';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { boundedSpectralSum, combineBrackets, windowBracket, type BoundedEstimate, type MonotoneFunction } from './quadrature-bounds';
import { spectralSum, type Quadrature } from './spectral-density';

/**
 * Complexity metrics of a Hessian spectrum, computed from whichever spectrum is available: the
 * exact one (one quadrature, weights 1/n: the numbers are exact sums, stderr 0) or stochastic
 * Lanczos quadratures (n · mean over probes, with the standard error across probes, and an
 * interval that adds each probe's Chebyshev–Markov–Stieltjes quadrature bracket: `quadrature-bounds.ts`).
 */
export interface SpectrumSource {
  quadratures: readonly Quadrature[];
  /** Dimension n (number of parameters the operator acts on). */
  dim: number;
  /** The largest eigenvalue (exact, or the converged top Ritz value from Lanczos). */
  lambdaMax: number;
  /**
   * A value ≥ λ_max the quadrature brackets may use as θ_{m+1} (exact: λ_max; Lanczos: the top
   * Ritz value plus its residual). Absent: only bounded functions get a finite bracket (log det's
   * upper end is then unbounded and flagged).
   */
  lambdaMaxBound?: number;
  /** A value ≤ λ_min for θ₀ (absent: −∞; N_eff and log det vanish for λ ≤ 0 and do not need it). */
  lambdaMinBound?: number;
  /** Level of the intervals (default 0.9) and the reliability threshold (default 0.25 of |value|). */
  level?: number;
  maxRelativeBracket?: number;
}

export interface Estimate {
  value: number;
  stderr: number;
}

/** How an SLQ-derived number's interval and reliability are stated (see `BoundedEstimate`). */
export type IntervalEstimate = BoundedEstimate;

export interface NearZeroModes extends IntervalEstimate {
  epsilon: number;
  /** The threshold ε·λ_max. */
  threshold: number;
  /** The count at ε/2 and at 2ε: how sensitive the count is to the threshold. */
  range: [number, number];
}

/** A spectral sum at a curvature scale z, saying whether z was given absolutely or relative to λ_max. */
export interface ScaledEstimate extends IntervalEstimate {
  /** The absolute scale z (units of λ). */
  z: number;
  /** z / λ_max (`null` when λ_max ≤ 0). */
  zRelative: number | null;
  /** Which of the two was set: `relative` is comparable across models, the headline one. */
  scale: 'absolute' | 'relative';
}

const optsOf = (s: SpectrumSource, step = false) => ({
  level: s.level,
  maxRelativeBracket: s.maxRelativeBracket,
  bounds: { lower: s.lambdaMinBound, upper: s.lambdaMaxBound },
  step,
});

/** Count of |λ| < c over the quadratures (worst-case bracket of 1{t < c} − 1{t ≤ −c}), as an estimate with interval. */
function windowCount(s: SpectrumSource, c: number): IntervalEstimate {
  const per = s.quadratures.map((q) => windowBracket(q, -c, c));
  return combineBrackets(per, s.dim, [0, s.dim], s.quadratures.every((q) => q.exact === true), optsOf(s, true));
}

/**
 * Number of eigenvalues with |λ| < ε·λ_max, its standard error, an interval that includes the
 * quadrature's error (`interval`, `quadratureBracket`, `reliable`), and its sensitivity to ε.
 */
export function nearZeroModes(s: SpectrumSource, epsilon: number): NearZeroModes {
  const threshold = epsilon * s.lambdaMax;
  const c = windowCount(s, threshold);
  const count = (eps: number) => spectralSum(s.quadratures, s.dim, (t) => (Math.abs(t) < eps * s.lambdaMax ? 1 : 0)).value;
  return { ...c, epsilon, threshold, range: [count(epsilon / 2), count(epsilon * 2)] };
}

/** The fraction of the spectrum with λ < 0 (saddle directions), with its interval: a nonincreasing indicator. */
export function negativeFraction(s: SpectrumSource): IntervalEstimate {
  const fn: MonotoneFunction = { f: (t) => (t < 0 ? 1 : 0), increasing: false, atMinusInfinity: 1, atPlusInfinity: 0 };
  return boundedSpectralSum(s.quadratures, 1, fn, optsOf(s, true));
}

function scaled(s: SpectrumSource, z: number, scale: 'absolute' | 'relative', fn: MonotoneFunction): ScaledEstimate {
  return { ...boundedSpectralSum(s.quadratures, s.dim, fn, optsOf(s)), z, zRelative: s.lambdaMax > 0 ? z / s.lambdaMax : null, scale };
}

/**
 * Effective dimension N_eff(z) = Σ λ/(λ+z): the number of directions curved more than z.
 * Negative eigenvalues (saddle directions, or rounding around zero) count as 0. The function is
 * nondecreasing and bounded by 1, so its bracket needs no spectrum bound. `scale` records whether
 * z was set absolutely (default) or as zRelative·λ_max.
 */
export function effectiveDimension(s: SpectrumSource, z: number, scale: 'absolute' | 'relative' = 'absolute'): ScaledEstimate {
  if (!(z > 0)) throw new RangeError(`effectiveDimension: z must be > 0, got ${z}`);
  return scaled(s, z, scale, { f: (t) => (t > 0 ? t / (t + z) : 0), increasing: true, atMinusInfinity: 0, atPlusInfinity: 1 });
}

/**
 * log det(I + H/z) = Σ log(1 + λ/z), negative eigenvalues counted as 0. Nondecreasing and
 * unbounded: the upper end of its bracket needs `lambdaMaxBound`.
 */
export function logDet(s: SpectrumSource, z: number, scale: 'absolute' | 'relative' = 'absolute'): ScaledEstimate {
  if (!(z > 0)) throw new RangeError(`logDet: z must be > 0, got ${z}`);
  return scaled(s, z, scale, { f: (t) => (t > 0 ? Math.log1p(t / z) : 0), increasing: true, atMinusInfinity: 0, atPlusInfinity: Infinity });
}

/** The curvature vᵀHv/‖v‖² along a direction (one product), and its ratio to λ_max when given. */
export function directionalCurvature(op: LinearOperator, v: Float64Array, lambdaMax?: number): { value: number; relative: number | null } {
  const nv = norm(v);
  if (!(nv > 0)) throw new Error('directionalCurvature: the direction is zero');
  const u = Float64Array.from(v);
  scale(u, 1 / nv);
  const value = dot(u, op.apply(u));
  return { value, relative: lambdaMax ? value / lambdaMax : null };
}

export interface SymmetryModes {
  /** Predicted zero modes: the rank of the declared symmetry directions. */
  predicted: number;
  /** Measured: eigenvalues of H restricted to their span (QᵀHQ) with |λ| < ε·λ_max. */
  measured: number;
  /** Eigenvalues of QᵀHQ, ascending. */
  restrictedEigenvalues: number[];
  /** Curvature along each declared direction, in order. */
  curvatures: { value: number; relative: number | null }[];
  products: number;
  /** Block products made (the directions, then their orthonormal basis, in blocks of `blockSizeOf(op)`). */
  blocks: number;
}

/**
 * Predicted against measured zero modes for a model's declared parameter symmetries: a continuous
 * symmetry of the loss makes each of its tangent directions a zero mode of the Hessian at a
 * critical point. The directions are orthonormalised (rank = predicted count); H restricted to
 * their span is diagonalised (one product per direction); modes with |λ| < ε·λ_max are measured
 * zero modes. The products go in blocks of `blockSizeOf(op)`.
 */
export async function symmetryZeroModes(
  op: LinearOperator,
  directions: readonly Float64Array[],
  opts: { lambdaMax: number; epsilon: number },
): Promise<SymmetryModes> {
  const before = op.products;
  const width = blockSizeOf(op);
  const unit = directions.map((d, i) => {
    const nv = norm(d);
    if (!(nv > 0)) throw new Error(`symmetryZeroModes: direction ${i} is zero`);
    const u = Float64Array.from(d);
    scale(u, 1 / nv);
    return u;
  });
  const curvatures: { value: number; relative: number | null }[] = [];
  let blocks = await inBlocks(op, unit.length, width, (i) => unit[i], (_i, u, au) => {
    const value = dot(u, au);
    curvatures.push({ value, relative: opts.lambdaMax ? value / opts.lambdaMax : null });
  });
  const q: Float64Array[] = [];
  for (const d of directions) {
    const v = Float64Array.from(d);
    const n0 = norm(v);
    for (let pass = 0; pass < 2; pass++) for (const u of q) axpy(v, -dot(u, v), u);
    const nv = norm(v);
    if (nv > 1e-6 * n0) {
      scale(v, 1 / nv);
      q.push(v);
    }
  }
  const r = q.length;
  let restricted: number[] = [];
  if (r > 0) {
    const hq: Float64Array[] = [];
    blocks += await inBlocks(op, r, width, (i) => q[i], (_i, _u, hu) => hq.push(hu));
    const rows = q.map((a) => hq.map((hb) => dot(a, hb)));
    for (let i = 0; i < r; i++) for (let j = 0; j < i; j++) rows[i][j] = rows[j][i] = 0.5 * (rows[i][j] + rows[j][i]);
    restricted =
      r === 1
        ? [rows[0][0]]
        : [...new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true }).realEigenvalues].sort((a, b) => a - b);
  }
  const thr = opts.epsilon * opts.lambdaMax;
  return {
    predicted: r,
    measured: restricted.filter((t) => Math.abs(t) < thr).length,
    restrictedEigenvalues: restricted,
    curvatures,
    products: op.products - before,
    blocks,
  };
}
