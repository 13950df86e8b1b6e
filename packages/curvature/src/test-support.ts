// Helpers shared by curvature's tests: matrices with known spectra.
import type { Rng } from '@goldstone/plugin-api';
import { dot, norm } from './linear-operator';

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
