// Helpers shared by curvature's tests: matrices with known spectra.
import { Rng as SeededRng } from '@goldstone/core';
import type { Rng } from '@goldstone/plugin-api';
import type { Estimator } from './estimator';
import { denseOperator, dot, norm, type LinearOperator } from './linear-operator';

/** n random orthonormal vectors (Gram–Schmidt, twice, of Gaussian vectors). */
export function orthonormal(n: number, rng: Rng): Float64Array[] {
  const q: Float64Array[] = [];
  while (q.length < n) {
    const v = Float64Array.from(rng.normalArray(n));
    for (let p = 0; p < 2; p++) for (const u of q) { const c = dot(u, v); for (let i = 0; i < n; i++) v[i] -= c * u[i]; }
    const nv = norm(v);
    for (let i = 0; i < n; i++) v[i] /= nv;
    q.push(v);
  }
  return q;
}

/** Σₖ λₖ qₖqₖᵀ, row-major. */
export function compose(q: Float64Array[], lambdas: number[]): Float64Array {
  const n = lambdas.length;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += q[k][i] * lambdas[k] * q[k][j];
    a[i * n + j] = s;
  }
  return a;
}

/** Q diag(λ) Qᵀ with Q a random orthogonal matrix, row-major. */
export function matrixWithSpectrum(lambdas: number[], rng: Rng): Float64Array {
  return compose(orthonormal(lambdas.length, rng), lambdas);
}

/**
 * A 48×48 operator with a known, Hessian-like spectrum: five separated outliers (20 … 6), a bulk in
 * [0.2, 3], exact and near zeros, and three negative eigenvalues. `lambdas` descending.
 */
export function knownSpectrum(seed = 7): { op: LinearOperator; matrix: Float64Array; lambdas: number[]; trace: number } {
  const bulk = Array.from({ length: 37 }, (_, i) => 0.2 + (2.8 * i) / 36);
  const lambdas = [20, 15, 11, 8, 6, ...bulk.reverse(), 1e-8, 0, 0, -0.5, -1.5, -2.5];
  const matrix = matrixWithSpectrum(lambdas, new SeededRng(seed));
  return { op: denseOperator(matrix, lambdas.length), matrix, lambdas, trace: lambdas.reduce((s, v) => s + v, 0) };
}

/** max |A v − λ v| for an estimated eigenpair. */
export function eigenResidual(op: LinearOperator, value: number, v: Float64Array): number {
  const av = op.apply(v);
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(av[i] - value * v[i]));
  return m;
}

/** ‖A v − λ v‖₂ for an estimated eigenpair (the quantity a Ritz residual estimates). */
export function trueResidual(op: LinearOperator, value: number, v: Float64Array): number {
  const av = op.apply(v);
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (av[i] - value * v[i]) ** 2;
  return Math.sqrt(s);
}

/**
 * Run a trace estimator over `seeds` seeds on `knownSpectrum()`: how often the truth lies within
 * 3 reported standard errors, and the spread of the estimates over the mean reported error bar.
 */
export async function traceCoverage(
  e: Estimator,
  settings: { probes: number },
  seeds: number,
): Promise<{ within3: number; spreadOverStderr: number; meanStderr: number; hvps: number[] }> {
  const { op, trace } = knownSpectrum();
  const values: number[] = [];
  const stderrs: number[] = [];
  const hvps: number[] = [];
  let within3 = 0;
  for (let s = 0; s < seeds; s++) {
    const out = await e.run(op, { trace: settings }, new SeededRng(1000 + s));
    const t = out.trace!;
    values.push(t.value);
    stderrs.push(t.stderr);
    hvps.push(out.provenance.hvps);
    if (Math.abs(t.value - trace) <= 3 * t.stderr) within3++;
  }
  const mean = values.reduce((a, b) => a + b, 0) / seeds;
  const spread = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (seeds - 1));
  const meanStderr = stderrs.reduce((a, b) => a + b, 0) / seeds;
  return { within3, spreadOverStderr: spread / meanStderr, meanStderr, hvps };
}

/**
 * Spectra with known eigenvalues: Hessian-like, PSD (GGN-like), clustered with repeats. (Zeros
 * are 1e-10 and 1e-9: an eigenvalue exactly at the 0 threshold of the negative indicator would be
 * decided by rounding, which no bracket can.)
 */
export const SPECTRA: Record<string, (n: number, rng: Rng) => number[]> = {
  hessian: (n, rng) =>
    Array.from({ length: n }, (_, i) => (i < 4 ? 30 / (i + 1) : i < n * 0.3 ? -0.02 * rng.uniform() ** 2 : (rng.uniform() < 0.5 ? 1 : -1) * 10 ** (-7 * rng.uniform()))),
  ggn: (n, rng) => Array.from({ length: n }, (_, i) => (i < 6 ? 10 / (i + 1) : i < n * 0.6 ? 10 ** (-6 * rng.uniform()) : 1e-10)),
  clustered: (n, rng) => Array.from({ length: n }, (_, i) => [5, 5, 5, 1, 1e-3, 1e-3, 1e-9, -0.5][i % 8] * (1 + (i % 3 === 0 ? 1e-9 * rng.uniform() : 0))),
};

