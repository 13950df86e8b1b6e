import { symmetricEigenDecomposition } from '@goldstone/curvature';

export type PcaMethod = 'auto' | 'gram' | 'covariance';

export interface TrajectoryPca {
  /** Number of snapshots T and of coordinates N. */
  snapshots: number;
  dimension: number;
  /** Which dense eigenproblem was solved: the T×T Gram matrix or the N×N covariance. */
  method: 'gram' | 'covariance';
  /** The mean ⟨w⟩ over the snapshots. */
  mean: Float64Array;
  /** σᵢ² = mean over snapshots of θᵢ², in decreasing order (all min(T, N) of them, ≥ 0). */
  variances: Float64Array;
  /** Unit principal directions pᵢ for i < `components` (same order as `variances`). */
  components: Float64Array[];
  /** Σᵢ σᵢ²: the total variance (trace of the covariance). */
  totalVariance: number;
}

/**
 * PCA of a trajectory w(t) = ⟨w⟩ + Σᵢ θᵢ(t) pᵢ from its T snapshots (each a vector of N numbers),
 * in float64. With the centred snapshots as rows of X (T×N), the covariance is C = XᵀX/T. When
 * T ≤ N (`method: 'auto'`) the T×T Gram matrix G = XXᵀ is diagonalised instead, G = UΛUᵀ, and
 * pᵢ = Xᵀuᵢ/√λᵢ, σᵢ² = λᵢ/T: the same spectrum without forming the N×N matrix, so memory is
 * O(T² + TN) and time O(T²N + T³). Otherwise C itself is diagonalised. `components` directions are
 * returned (default 10, at most the number of positive variances).
 */
export function trajectoryPca(
  snapshots: ArrayLike<number>[],
  options: { components?: number; method?: PcaMethod } = {},
): TrajectoryPca {
  const T = snapshots.length;
  if (T < 2) throw new Error(`trajectoryPca: need at least 2 snapshots, got ${T}`);
  const N = snapshots[0].length;
  for (const s of snapshots) if (s.length !== N) throw new Error('trajectoryPca: snapshots differ in length');
  const method = options.method === 'auto' || options.method === undefined ? (T <= N ? 'gram' : 'covariance') : options.method;

  const mean = new Float64Array(N);
  for (const s of snapshots) for (let j = 0; j < N; j++) mean[j] += s[j];
  for (let j = 0; j < N; j++) mean[j] /= T;
  const X = snapshots.map((s) => {
    const row = new Float64Array(N);
    for (let j = 0; j < N; j++) row[j] = s[j] - mean[j];
    return row;
  });
  let totalVariance = 0;
  for (const row of X) for (let j = 0; j < N; j++) totalVariance += row[j] * row[j];
  totalVariance /= T;

  const want = Math.max(0, options.components ?? 10);
  let variances: Float64Array;
  const components: Float64Array[] = [];
  if (method === 'gram') {
    const G = new Float64Array(T * T);
    for (let a = 0; a < T; a++) {
      const ra = X[a];
      for (let b = a; b < T; b++) {
        const rb = X[b];
        let s = 0;
        for (let j = 0; j < N; j++) s += ra[j] * rb[j];
        G[a * T + b] = s;
        G[b * T + a] = s;
      }
    }
    const { values, vector } = sortedEigen(G, T);
    const m = Math.min(T, N);
    variances = new Float64Array(m);
    for (let i = 0; i < m; i++) variances[i] = Math.max(0, values[i]) / T;
    const tiny = (values[0] || 0) * 1e-12;
    for (let i = 0; i < Math.min(want, m) && values[i] > tiny; i++) {
      const u = vector(i);
      const p = new Float64Array(N);
      for (let a = 0; a < T; a++) {
        if (u[a] === 0) continue;
        const ra = X[a];
        for (let j = 0; j < N; j++) p[j] += u[a] * ra[j];
      }
      components.push(normalise(p));
    }
  } else {
    const C = new Float64Array(N * N);
    for (const row of X) {
      for (let a = 0; a < N; a++) {
        const ra = row[a];
        if (ra === 0) continue;
        for (let b = a; b < N; b++) C[a * N + b] += ra * row[b];
      }
    }
    for (let a = 0; a < N; a++) {
      for (let b = a; b < N; b++) {
        const v = C[a * N + b] / T;
        C[a * N + b] = v;
        C[b * N + a] = v;
      }
    }
    const { values, vector } = sortedEigen(C, N);
    const m = Math.min(T, N);
    variances = new Float64Array(m);
    for (let i = 0; i < m; i++) variances[i] = Math.max(0, values[i]);
    const tiny = (values[0] || 0) * 1e-12;
    for (let i = 0; i < Math.min(want, m) && values[i] > tiny; i++) components.push(normalise(Float64Array.from(vector(i))));
  }
  return { snapshots: T, dimension: N, method, mean, variances, components, totalVariance };
}

/** Eigenvalues of a symmetric n×n row-major matrix in descending order, eigenvectors on demand (core's solver). */
function sortedEigen(S: Float64Array, n: number): { values: number[]; vector: (i: number) => Float64Array } {
  const evd = symmetricEigenDecomposition(S, n);
  const values = Array.from(evd.values).reverse();
  return { values, vector: (i: number) => evd.vector(n - 1 - i) };
}

/** v/‖v‖ with a fixed sign: the largest-magnitude coordinate is positive (deterministic output). */
function normalise(v: Float64Array): Float64Array {
  let n = 0;
  let big = 0;
  for (let j = 0; j < v.length; j++) {
    n += v[j] * v[j];
    if (Math.abs(v[j]) > Math.abs(v[big])) big = j;
  }
  const s = (v[big] < 0 ? -1 : 1) / Math.sqrt(n);
  for (let j = 0; j < v.length; j++) v[j] *= s;
  return v;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j] * b[j];
  return s;
}

/** cos of the angle between a and b (0 if either is zero). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const na = Math.sqrt(dot(a, a));
  const nb = Math.sqrt(dot(b, b));
  return na > 0 && nb > 0 ? dot(a, b) / (na * nb) : 0;
}
