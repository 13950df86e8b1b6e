import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { applyBlock, axpy, blockSizeOf, dot, norm, orthogonalize, scale, type LinearOperator } from './linear-operator';
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

/** A random unit vector orthogonal to `basis` (Gaussian, orthogonalised); null when the basis spans the space. */
export function randomUnit(n: number, rng: Rng, basis: readonly Float64Array[]): Float64Array | null {
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

/** qᵀv for float64 vectors, with four partial sums (one running sum is bound by the latency of an add). */
function dot64(q: Float64Array, v: Float64Array): number {
  const n = v.length;
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    a0 += q[i] * v[i];
    a1 += q[i + 1] * v[i + 1];
    a2 += q[i + 2] * v[i + 2];
    a3 += q[i + 3] * v[i + 3];
  }
  for (; i < n; i++) a0 += q[i] * v[i];
  return a0 + a1 + (a2 + a3);
}

/**
 * Reorthogonalise the float64 Lanczos vector `v` in place against the orthonormal `basis` by
 * classical Gram–Schmidt, repeated once when needed (CGS2): all coefficients c = Qᵀv first, then
 * v ← v − Qc, two basis vectors per sweep over v. Full reorthogonalisation is the host's main cost
 * at large n, and CGS reads the basis in two streaming passes with independent sums, about twice
 * as fast in JS as modified Gram–Schmidt's dependent dot-then-update per vector. A second pass is
 * made only when the first removed much of v (‖v‖ fell below 1/√2 of what it was: Kahan and
 * Parlett's "twice is enough" test, which holds for CGS as for MGS); otherwise one pass already
 * leaves v orthogonal to working precision. In Lanczos the recurrence has removed nearly
 * everything already, so the second pass is rarely needed.
 */
export function reorthogonalize(v: Float64Array, basis: readonly Float64Array[]): void {
  const n = v.length;
  const m = basis.length;
  if (m === 0) return;
  const c = new Float64Array(m);
  let before = dot64(v, v);
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < m; j++) c[j] = dot64(basis[j], v);
    let j = 0;
    for (; j + 1 < m; j += 2) {
      const q0 = basis[j];
      const q1 = basis[j + 1];
      const s0 = c[j];
      const s1 = c[j + 1];
      for (let i = 0; i < n; i++) v[i] -= s0 * q0[i] + s1 * q1[i];
    }
    if (j < m) {
      const q = basis[j];
      const s = c[j];
      for (let i = 0; i < n; i++) v[i] -= s * q[i];
    }
    const after = dot64(v, v);
    if (after >= 0.5 * before) return;
    before = after;
  }
}

/** A residual at most this fraction of the largest entry of T so far marks an invariant subspace. */
const INVARIANT = 1e-10;

/** One Lanczos recurrence in progress: its basis and T so far, and the vector whose product is due. */
interface Recurrence {
  basis: Float64Array[];
  alpha: number[];
  beta: number[];
  /** The next Lanczos vector (already in `basis` once its product is taken), null when done. */
  q: Float64Array | null;
  prevBeta: number;
  scaleT: number;
}

function recurrence(start: Float64Array | null): Recurrence {
  return { basis: [], alpha: [], beta: [], q: start, prevBeta: 0, scaleT: 0 };
}

/** `start` normalised (a copy); a zero start vector is an error. */
function unitStart(start: Float64Array): Float64Array {
  const q = Float64Array.from(start);
  const nq = norm(q);
  if (!(nq > 0)) throw new Error('lanczos: the start vector is zero');
  scale(q, 1 / nq);
  return q;
}

/**
 * One step of the three-term recurrence, given w = A q for the recurrence's current vector q:
 * α = qᵀw, w ← w − αq − β_prev q_prev, reorthogonalised against the whole basis when asked.
 * Pushes q onto the basis and α onto T; returns ‖w‖ (w is left unnormalised).
 */
function recurrenceStep(r: Recurrence, w: Float64Array, reorth: boolean): number {
  const q = r.q as Float64Array;
  const j = r.basis.length;
  r.basis.push(q);
  const a = dot(q, w);
  r.alpha.push(a);
  axpy(w, -a, q);
  if (j > 0) axpy(w, -r.prevBeta, r.basis[j - 1]);
  if (reorth) reorthogonalize(w, r.basis);
  const b = norm(w);
  r.scaleT = Math.max(r.scaleT, Math.abs(a), b);
  return b;
}

/** Whether a residual of norm `b` marks an invariant Krylov subspace. */
const invariant = (r: Recurrence, b: number) => b <= INVARIANT * Math.max(r.scaleT, 1e-300);

/** Continue with q = w/β (β = ‖w‖ > 0). */
function advance(r: Recurrence, w: Float64Array, b: number): void {
  r.beta.push(b);
  r.prevBeta = b;
  scale(w, 1 / b);
  r.q = w;
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
  const before = op.products;
  const r = recurrence(opts.start ? unitStart(opts.start) : randomUnit(n, opts.rng, []));
  let betaLast = 0;
  for (let j = 0; j < m && r.q; j++) {
    const w = op.apply(r.q);
    await yieldToEventLoop();
    const b = recurrenceStep(r, w, reorth);
    const d: LanczosDecomposition = { alpha: r.alpha, beta: r.beta, betaLast: b, basis: r.basis, products: op.products - before };
    if (j === m - 1 || (opts.onStep && opts.onStep(d))) {
      betaLast = b;
      break;
    }
    if (invariant(r, b)) {
      // invariant subspace: continue in a fresh direction, T decouples (β = 0)
      r.beta.push(0);
      r.prevBeta = 0;
      r.q = randomUnit(n, opts.rng, r.basis);
      if (!r.q) {
        r.beta.pop();
        break;
      }
    } else advance(r, w, b);
  }
  return { alpha: r.alpha, beta: r.beta, betaLast, basis: r.basis, products: op.products - before };
}

export interface LockstepLanczosOptions {
  /** Number of recurrences (start vectors). */
  count: number;
  /** The i-th start vector (normalised inside), asked for in order 0, 1, … as each recurrence starts. */
  start: (i: number) => Float64Array;
  /** Steps (Krylov dimension) of each recurrence; capped at the operator's dimension. */
  steps: number;
  /** Full reorthogonalisation (default true). */
  reorthogonalize?: boolean;
  /**
   * Most recurrences in one block product (default `blockSizeOf(op)`, and no more bases than fit in
   * `LOCKSTEP_BASIS_BYTES`). 1: one recurrence after another, one product per step.
   */
  blockSize?: number;
  /**
   * Called once per recurrence as it ends, in the order they end, with its decomposition (the
   * basis is released afterwards unless the callback keeps it).
   */
  done: (i: number, d: LanczosDecomposition) => void;
}

/** The float64 Lanczos bases lockstep runs hold at once, at most (1 GiB; at least one basis). */
export const LOCKSTEP_BASIS_BYTES = 2 ** 30;

/**
 * `count` independent Lanczos runs (full reorthogonalisation) in lockstep: each step takes one
 * block product (`applyBlock`) over the vectors of every recurrence still running, at most
 * `blockSize` of them; a recurrence that ends (its `steps`, or an invariant Krylov subspace, where
 * it stops instead of restarting: its T is then the start vector's measure exactly) drops out and
 * the next one starts in its place. Each recurrence does exactly the arithmetic of
 * `lanczosDecomposition` from its start vector, so with an operator whose block product equals its
 * one-vector product the results are the same numbers. The event loop turns after each block.
 * Returns the number of block products made.
 */
export async function lockstepLanczos(op: LinearOperator, opts: LockstepLanczosOptions): Promise<{ blocks: number }> {
  const n = op.dim;
  const m = Math.min(opts.steps, n);
  const reorth = opts.reorthogonalize ?? true;
  const fit = Math.max(1, Math.floor(LOCKSTEP_BASIS_BYTES / (8 * n * Math.max(m, 1))));
  const width = Math.max(1, Math.min(Math.floor(opts.blockSize ?? blockSizeOf(op)), fit));
  if (!(m >= 1)) throw new RangeError(`lockstepLanczos: steps must be ≥ 1, got ${opts.steps}`);
  const running: { i: number; r: Recurrence }[] = [];
  let next = 0;
  let blocks = 0;
  while (next < opts.count || running.length > 0) {
    while (running.length < width && next < opts.count) {
      running.push({ i: next, r: recurrence(unitStart(opts.start(next))) });
      next++;
    }
    const ws = applyBlock(op, running.map((x) => x.r.q as Float64Array));
    blocks++;
    await yieldToEventLoop();
    const still: typeof running = [];
    running.forEach(({ i, r }, k) => {
      const w = ws[k];
      const b = recurrenceStep(r, w, reorth);
      if (r.basis.length >= m || invariant(r, b)) {
        r.q = null;
        opts.done(i, { alpha: r.alpha, beta: r.beta, betaLast: b, basis: r.basis, products: r.basis.length });
      } else {
        advance(r, w, b);
        still.push({ i, r });
      }
    });
    running.splice(0, running.length, ...still);
  }
  return { blocks };
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
  /** Block products made (the single-vector Lanczos: one per product). */
  blocks: number;
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

/** What `ritzStopping` reports at the end of a run: the result's flags, and whether the i-th Ritz value (ascending) met the test (all do when `full`). */
export type RitzEnds = Pick<LanczosResult, 'converged' | 'topConverged' | 'bottomConverged' | 'topConvergedAt' | 'bottomConvergedAt' | 'stopped'> & {
  ok: (i: number) => boolean;
};

/** A Lanczos eigensolver's result from its m final Ritz values (ascending), its flags and its cost; `pair(i)` makes the i-th pair. */
export function lanczosResult(
  m: number,
  want: { topK: number; bottomK: number },
  values: number[],
  pair: (i: number) => EigenPair,
  ends: RitzEnds,
  cost: { steps: number; products: number; blocks: number },
): LanczosResult {
  const { ok: _ok, ...flags } = ends;
  return {
    top: Array.from({ length: Math.min(want.topK, m) }, (_, i) => pair(m - 1 - i)),
    bottom: Array.from({ length: Math.min(want.bottomK, m) }, (_, i) => pair(i)),
    ...cost,
    ...flags,
    ritzValues: values,
  };
}

/**
 * The stopping test of the Lanczos eigensolvers: every wanted Ritz residual ≤ tol · max|θ|, the
 * top and the bottom separately. `check` at Krylov dimension m (Ritz values ascending and their
 * residuals) says whether to stop: the top has converged and the bottom has converged or m has
 * reached `bottomSteps`. `finish` gives the flags of the final Ritz pairs (`full`: the Krylov space
 * is invariant or all of ℝⁿ, so they are eigenpairs).
 */
export function ritzStopping(o: { n: number; topK: number; bottomK: number; tol: number; bottomSteps: number }) {
  const { topK, bottomK, tol } = o;
  let topConvergedAt: number | null = null;
  let bottomConvergedAt: number | null = null;
  let stopped: LanczosStop | null = null;
  const ends = (m: number, values: readonly number[], residuals: readonly number[]) => {
    const scaleV = Math.max(...values.map(Math.abs), 1e-300);
    const ok = (i: number) => residuals[i] <= tol * scaleV;
    const topIdx = Array.from({ length: Math.min(topK, m) }, (_, i) => m - 1 - i);
    const bottomIdx = Array.from({ length: Math.min(bottomK, m) }, (_, i) => i);
    return { ok, top: topIdx.every(ok), bottom: bottomIdx.every(ok) };
  };
  return {
    /** Whether a check means anything at dimension m: the top and bottom pairs are distinct Ritz values only from topK + bottomK on. */
    due: (m: number) => m >= Math.min(o.n, topK + bottomK),
    /** The indices (into the ascending Ritz values of an m-dimensional space) of the wanted pairs. */
    wanted: (m: number) => [
      ...Array.from({ length: Math.min(topK, m) }, (_, i) => m - 1 - i),
      ...Array.from({ length: Math.min(bottomK, m) }, (_, i) => i),
    ],
    check(m: number, values: readonly number[], residuals: readonly number[]): boolean {
      const e = ends(m, values, residuals);
      if (e.top && topConvergedAt === null) topConvergedAt = m;
      if (e.bottom && bottomConvergedAt === null) bottomConvergedAt = m;
      if (e.top && e.bottom) stopped = 'converged';
      else if (e.top && m >= o.bottomSteps) stopped = 'top converged, bottom budget spent';
      return stopped !== null;
    },
    get stopped(): LanczosStop | null {
      return stopped;
    },
    finish(m: number, values: readonly number[], residuals: readonly number[], full: boolean): RitzEnds {
      const e = ends(m, values, residuals);
      const topConverged = full || e.top;
      const bottomConverged = full || e.bottom;
      if (topConverged && topConvergedAt === null) topConvergedAt = m;
      if (bottomConverged && bottomConvergedAt === null) bottomConvergedAt = m;
      if (stopped === null) stopped = full ? 'dimension' : 'maxSteps';
      const ok = (i: number) => full || e.ok(i);
      return { ok, converged: topConverged && bottomConverged, topConverged, bottomConverged, topConvergedAt, bottomConvergedAt, stopped };
    },
  };
}

/** The Krylov dimension cap of the Lanczos eigensolvers when none is given: max(4·(topK + bottomK), 30) + 20. */
export const defaultLanczosSteps = (topK: number, bottomK: number) => Math.max(4 * (topK + bottomK), 30) + 20;

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
  const maxSteps = Math.min(n, opts.maxSteps ?? defaultLanczosSteps(topK, bottomK));
  const bottomSteps = Math.min(maxSteps, opts.bottomSteps ?? maxSteps);
  const tol = opts.tol ?? 1e-6;
  const every = Math.max(1, opts.checkEvery ?? 1);
  const stopping = ritzStopping({ n, topK, bottomK, tol, bottomSteps });
  const check = (d: LanczosDecomposition): boolean => {
    const m = d.alpha.length;
    if (!stopping.due(m) || m % every !== 0) return false;
    const { values, residuals } = ritzPairs(d);
    return stopping.check(m, values, residuals);
  };
  const d = await lanczosDecomposition(op, { steps: maxSteps, start: opts.start, rng: opts.rng, onStep: check });
  const m = d.alpha.length;
  const { values, residuals, vectors } = ritzPairs(d);
  // at m = n (or an exhausted space) the Ritz values are the eigenvalues
  const full = m === n || (m < maxSteps && stopping.stopped === null);
  const e = stopping.finish(m, values, residuals, full);
  const pair = (i: number): EigenPair => {
    const p: EigenPair = { value: values[i], residual: residuals[i], converged: e.ok(i) };
    if (opts.vectors) p.vector = ritzVector(d.basis, vectors[i]);
    return p;
  };
  return lanczosResult(m, { topK, bottomK }, values, pair, e, { steps: m, products: d.products, blocks: d.products });
}

/** The unit Ritz vector Σⱼ sⱼ qⱼ of a basis and coefficients. */
export function ritzVector(basis: readonly Float64Array[], s: ArrayLike<number>): Float64Array {
  const y = new Float64Array(basis[0].length);
  for (let j = 0; j < basis.length; j++) axpy(y, s[j], basis[j]);
  scale(y, 1 / norm(y));
  return y;
}
