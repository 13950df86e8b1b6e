import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { axpy, dot, norm, orthogonalize, scale, type LinearOperator } from './linear-operator';
import { yieldToEventLoop } from '@goldstone/core';
import type { Rng } from '@goldstone/plugin-api';

/** Eigen-decomposition of a symmetric tridiagonal matrix (diagonal `alpha`, off-diagonal `beta`), ascending. */
export function tridiagonalEigen(alpha: readonly number[], beta: readonly number[]): { values: number[]; vectors: number[][] } {
  const m = alpha.length;
  if (m === 0) return { values: [], vectors: [] };
  const T = Matrix.zeros(m, m);
  for (let i = 0; i < m; i++) {
    T.set(i, i, alpha[i]);
    if (i + 1 < m) {
      T.set(i, i + 1, beta[i]);
      T.set(i + 1, i, beta[i]);
    }
  }
  const e = new EigenvalueDecomposition(T, { assumeSymmetric: true });
  const values = e.realEigenvalues;
  const V = e.eigenvectorMatrix;
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  // vectors[j] = the j-th eigenvector (ascending eigenvalue), as a column of T's eigenbasis
  return { values: order.map((i) => values[i]), vectors: order.map((i) => V.getColumn(i)) };
}

/** The Krylov basis and tridiagonal matrix of an m-step Lanczos run. */
export interface LanczosDecomposition {
  /** Diagonal of T. */
  alpha: number[];
  /** Off-diagonal of T (length m − 1); a zero marks a restart after an invariant subspace. */
  beta: number[];
  /** β_m, the norm of the last residual (0 at an invariant subspace). */
  betaLast: number;
  /** The orthonormal Lanczos vectors (only when `keepBasis`). */
  basis: Float64Array[];
  /** Products used. */
  products: number;
}

export interface LanczosRunOptions {
  /** Maximum number of steps (Krylov dimension); capped at the operator's dimension. */
  steps: number;
  /** Start vector (normalised inside); a Gaussian one from `rng` if absent. */
  start?: Float64Array;
  rng: Rng;
  /** Full reorthogonalisation against every earlier vector (default true; needed for accurate Ritz pairs). */
  reorthogonalize?: boolean;
  /** Called after each step with the decomposition so far; return true to stop. */
  onStep?: (d: LanczosDecomposition) => boolean;
}

function randomUnit(n: number, rng: Rng, basis: readonly Float64Array[]): Float64Array | null {
  for (let attempt = 0; attempt < 3; attempt++) {
    const v = Float64Array.from(rng.normalArray(n));
    orthogonalize(v, basis);
    const nv = norm(v);
    if (nv > 1e-8) {
      scale(v, 1 / nv);
      return v;
    }
  }
  return null;
}

/**
 * The Lanczos process with full reorthogonalisation: builds an orthonormal basis Q of the Krylov
 * space and the tridiagonal T = QᵀAQ, one operator product per step. When the residual vanishes
 * (an invariant subspace: repeated eigenvalues, or a start vector in few eigenvectors' span) the
 * process restarts with a random vector orthogonal to Q, so multiplicities are not lost. The event
 * loop turns between steps (`yieldToEventLoop`).
 */
export async function lanczosDecomposition(op: LinearOperator, opts: LanczosRunOptions): Promise<LanczosDecomposition> {
  const n = op.dim;
  const m = Math.min(opts.steps, n);
  const reorth = opts.reorthogonalize ?? true;
  const basis: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  const before = op.products;
  let q: Float64Array | null;
  if (opts.start) {
    q = Float64Array.from(opts.start);
    const nq = norm(q);
    if (!(nq > 0)) throw new Error('lanczos: the start vector is zero');
    scale(q, 1 / nq);
  } else q = randomUnit(n, opts.rng, []);
  let betaLast = 0;
  let prevBeta = 0;
  let scaleT = 0;
  for (let j = 0; j < m && q; j++) {
    basis.push(q);
    const w = op.apply(q);
    await yieldToEventLoop();
    const a = dot(q, w);
    alpha.push(a);
    axpy(w, -a, q);
    if (j > 0) axpy(w, -prevBeta, basis[j - 1]);
    if (reorth) orthogonalize(w, basis);
    const b = norm(w);
    scaleT = Math.max(scaleT, Math.abs(a), b);
    const d: LanczosDecomposition = { alpha, beta, betaLast: b, basis, products: op.products - before };
    if (j === m - 1 || (opts.onStep && opts.onStep(d))) {
      betaLast = b;
      break;
    }
    if (b <= 1e-10 * Math.max(scaleT, 1e-300)) {
      // invariant subspace: continue in a fresh direction, T decouples (β = 0)
      beta.push(0);
      prevBeta = 0;
      q = randomUnit(n, opts.rng, basis);
      if (!q) {
        beta.pop();
        break;
      }
    } else {
      beta.push(b);
      prevBeta = b;
      scale(w, 1 / b);
      q = w;
    }
  }
  return { alpha, beta, betaLast, basis, products: op.products - before };
}

export interface EigenPair {
  value: number;
  /** Unit eigenvector (host, length n), when requested. */
  vector?: Float64Array;
  /** Ritz residual ‖A y − θ y‖ = |β_m s_m| (exact up to rounding with full reorthogonalisation). */
  residual: number;
  /** Whether this pair met the stopping test (residual ≤ tol · max|θ|) at the end of the run. */
  converged: boolean;
}

export interface LanczosOptions {
  /** Number of largest (algebraic) eigenpairs wanted. */
  topK?: number;
  /** Number of smallest (algebraic) eigenpairs wanted. */
  bottomK?: number;
  /** Maximum Krylov dimension (default min(n, max(4·(topK+bottomK), 30) + 20)). */
  maxSteps?: number;
  /**
   * The bottom's own budget: the Krylov dimension up to which unconverged bottom pairs keep the run
   * going once the top has converged (default `maxSteps`: run until both ends converge). With a
   * smaller budget the run stops as soon as the top has converged and this many steps are done;
   * the bottom Ritz values it has then are upper bounds (θ_j ≥ λ_j, Cauchy interlacing), flagged
   * not converged. 0: the bottom never extends the run.
   */
  bottomSteps?: number;
  /**
   * Stop when every wanted Ritz residual is below tol · max|θ| (default 1e-6). A single Krylov
   * space holds one copy of each distinct eigenvalue; further copies of a repeated eigenvalue are
   * found only after a restart, so with tol > 0 a multiplicity can be under-counted.
   */
  tol?: number;
  /** Return the Ritz vectors (default false: they cost n·k memory). */
  vectors?: boolean;
  rng: Rng;
  start?: Float64Array;
  /** Check convergence every this many steps (default 1; each check solves an m×m tridiagonal problem). */
  checkEvery?: number;
}

/** Why the Krylov run ended. */
export type LanczosStop = 'converged' | 'top converged, bottom budget spent' | 'maxSteps' | 'dimension';

export interface LanczosResult {
  /** The largest eigenpairs, descending. */
  top: EigenPair[];
  /** The smallest eigenpairs, ascending. */
  bottom: EigenPair[];
  steps: number;
  products: number;
  /** Every wanted pair converged (`topConverged && bottomConverged`). */
  converged: boolean;
  /** Every wanted top pair converged at the end (true when none was asked for). */
  topConverged: boolean;
  /** Every wanted bottom pair converged at the end (true when none was asked for). */
  bottomConverged: boolean;
  /** The Krylov dimension at which the top (bottom) pairs first all passed the test; null if never. */
  topConvergedAt: number | null;
  bottomConvergedAt: number | null;
  stopped: LanczosStop;
  /** All Ritz values of the final T, ascending. */
  ritzValues: number[];
}

function ritzPairs(d: LanczosDecomposition): { values: number[]; residuals: number[]; vectors: number[][] } {
  const { values, vectors } = tridiagonalEigen(d.alpha, d.beta);
  const m = d.alpha.length;
  return { values, vectors, residuals: vectors.map((s) => Math.abs(d.betaLast * s[m - 1])) };
}

/**
 * Extreme eigenpairs of a symmetric operator by Lanczos with full reorthogonalisation. The
 * stopping test is the Ritz residual |β_m s_{m,i}| of every wanted pair relative to the largest
 * Ritz value in magnitude, checked for the top and the bottom separately: the run stops as soon
 * as the top has converged and the bottom has converged or spent its budget (`bottomSteps`), or at
 * `maxSteps`. The tridiagonal eigenproblem is solved on the host (ml-matrix).
 */
export async function lanczos(op: LinearOperator, opts: LanczosOptions): Promise<LanczosResult> {
  const topK = opts.topK ?? 0;
  const bottomK = opts.bottomK ?? 0;
  const n = op.dim;
  if (topK + bottomK === 0) throw new Error('lanczos: ask for topK and/or bottomK eigenpairs');
  const maxSteps = Math.min(n, opts.maxSteps ?? Math.max(4 * (topK + bottomK), 30) + 20);
  const bottomSteps = Math.min(maxSteps, opts.bottomSteps ?? maxSteps);
  const tol = opts.tol ?? 1e-6;
  const every = Math.max(1, opts.checkEvery ?? 1);
  let topConvergedAt: number | null = null;
  let bottomConvergedAt: number | null = null;
  let stopped: LanczosStop | null = null;
  const ends = (m: number, values: number[], residuals: number[]) => {
    const scaleV = Math.max(...values.map(Math.abs), 1e-300);
    const ok = (i: number) => residuals[i] <= tol * scaleV;
    const topIdx = Array.from({ length: Math.min(topK, m) }, (_, i) => m - 1 - i);
    const bottomIdx = Array.from({ length: Math.min(bottomK, m) }, (_, i) => i);
    return { ok, top: topIdx.every(ok), bottom: bottomIdx.every(ok) };
  };
  const check = (d: LanczosDecomposition): boolean => {
    const m = d.alpha.length;
    // the top and bottom pairs are distinct Ritz values only from topK + bottomK steps on
    if (m < Math.min(n, topK + bottomK) || m % every !== 0) return false;
    const { values, residuals } = ritzPairs(d);
    const e = ends(m, values, residuals);
    if (e.top && topConvergedAt === null) topConvergedAt = m;
    if (e.bottom && bottomConvergedAt === null) bottomConvergedAt = m;
    if (e.top && e.bottom) stopped = 'converged';
    else if (e.top && m >= bottomSteps) stopped = 'top converged, bottom budget spent';
    return stopped !== null;
  };
  const d = await lanczosDecomposition(op, { steps: maxSteps, start: opts.start, rng: opts.rng, onStep: check });
  const m = d.alpha.length;
  const { values, residuals, vectors } = ritzPairs(d);
  // at m = n (or an exhausted space) the Ritz values are the eigenvalues
  const full = m === n || m < maxSteps && stopped === null;
  const e = ends(m, values, residuals);
  const topConverged = full || e.top;
  const bottomConverged = full || e.bottom;
  if (topConverged && topConvergedAt === null) topConvergedAt = m;
  if (bottomConverged && bottomConvergedAt === null) bottomConvergedAt = m;
  if (stopped === null) stopped = full ? 'dimension' : 'maxSteps';
  const pair = (i: number): EigenPair => {
    const p: EigenPair = { value: values[i], residual: residuals[i], converged: full || e.ok(i) };
    if (opts.vectors) {
      const y = new Float64Array(n);
      for (let j = 0; j < m; j++) axpy(y, vectors[i][j], d.basis[j]);
      scale(y, 1 / norm(y));
      p.vector = y;
    }
    return p;
  };
  return {
    top: Array.from({ length: Math.min(topK, m) }, (_, i) => pair(m - 1 - i)),
    bottom: Array.from({ length: Math.min(bottomK, m) }, (_, i) => pair(i)),
    steps: m,
    products: d.products,
    converged: topConverged && bottomConverged,
    topConverged,
    bottomConverged,
    topConvergedAt,
    bottomConvergedAt,
    stopped,
    ritzValues: values,
  };
}
