import type { Rng } from '@goldstone/plugin-api';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { quantile, sampleRankCorrelation } from 'simple-statistics';

/** An embedding table: `n` rows of `d` values, row-major (E[i·d + c] is coordinate c of node i). */
export interface Embedding {
  values: ArrayLike<number>;
  n: number;
  d: number;
}

/** Spearman ρ (ties at average ranks), clamped to [−1, 1]; null for fewer than 3 values or a constant side. */
export function rankCorrelation(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new Error(`rankCorrelation: ${x.length} x values against ${y.length} y values`);
  if (x.length < 3) return null;
  const r = sampleRankCorrelation(x as number[], y as number[]);
  return Number.isFinite(r) ? Math.max(-1, Math.min(1, r)) : null;
}

/** ρ with its percentile bootstrap interval over the paired items (nodes, or node pairs). */
export interface RankEstimate {
  rho: number | null;
  /** |ρ|: sign-free, since a principal axis has no sign. */
  absRho: number | null;
  /** Percentile bootstrap interval of ρ (null when fewer than half the resamples define ρ). */
  lo: number | null;
  hi: number | null;
  items: number;
  resamples: number;
}

/**
 * Spearman ρ of (x, y) with a percentile bootstrap interval: the items are drawn with replacement
 * `resamples` times, ρ of each draw, the (1 − c)/2 and (1 + c)/2 quantiles of those.
 */
export function rankCorrelationInterval(x: readonly number[], y: readonly number[], resamples: number, confidence: number, rng: Rng): RankEstimate {
  const n = x.length;
  const rho = rankCorrelation(x, y);
  const none = { rho, absRho: rho === null ? null : Math.abs(rho), lo: null, hi: null, items: n, resamples };
  if (rho === null) return none;
  const draws: number[] = [];
  const bx = new Array<number>(n);
  const by = new Array<number>(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) {
      const k = rng.int(n);
      bx[i] = x[k];
      by[i] = y[k];
    }
    const v = rankCorrelation(bx, by);
    if (v !== null) draws.push(v);
  }
  if (draws.length < resamples / 2) return none;
  const a = (1 - confidence) / 2;
  return { ...none, lo: quantile(draws, a), hi: quantile(draws, 1 - a) };
}

/** The embedding with each coordinate's mean over the nodes removed (float64). */
export function centred(e: Embedding): Float64Array {
  const out = Float64Array.from(e.values as ArrayLike<number>);
  for (let c = 0; c < e.d; c++) {
    let m = 0;
    for (let i = 0; i < e.n; i++) m += out[i * e.d + c];
    m /= e.n;
    for (let i = 0; i < e.n; i++) out[i * e.d + c] -= m;
  }
  return out;
}

/**
 * The first principal coordinate of the nodes: the centred embedding projected on the top
 * eigenvector of its d×d covariance (ml-matrix's symmetric eigendecomposition), signed so that the
 * largest loading is positive. Also the fraction of the total variance on that axis.
 */
export function firstPrincipalCoordinate(e: Embedding): { coordinate: number[]; varianceFraction: number } {
  const { n, d } = e;
  const x = centred(e);
  const cov = Matrix.zeros(d, d);
  for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov.set(a, b, cov.get(a, b) + x[i * d + a] * x[i * d + b]);
  const total = cov.trace();
  if (total === 0) return { coordinate: new Array<number>(n).fill(0), varianceFraction: 0 };
  const evd = new EigenvalueDecomposition(cov, { assumeSymmetric: true });
  const lambdas = evd.realEigenvalues;
  const top = lambdas.indexOf(Math.max(...lambdas));
  const v = evd.eigenvectorMatrix.getColumn(top);
  let big = 0;
  for (let a = 0; a < d; a++) if (Math.abs(v[a]) > Math.abs(v[big])) big = a;
  const sign = v[big] < 0 ? -1 : 1;
  const coordinate = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let a = 0; a < d; a++) s += x[i * d + a] * v[a];
    return sign * s;
  });
  return { coordinate, varianceFraction: lambdas[top] / total };
}

/** ‖E_a − E_b‖² (float64). */
export function squaredDistance(e: Embedding, a: number, b: number): number {
  let s = 0;
  for (let c = 0; c < e.d; c++) s += (Number(e.values[a * e.d + c]) - Number(e.values[b * e.d + c])) ** 2;
  return s;
}

/** Mean ‖E_a − E_b‖² over the unordered node pairs a < b. */
export function meanSquaredDistance(e: Embedding): number {
  let s = 0;
  let m = 0;
  for (let a = 0; a < e.n; a++) {
    for (let b = a + 1; b < e.n; b++) {
      s += squaredDistance(e, a, b);
      m++;
    }
  }
  return m ? s / m : 0;
}

/**
 * Parallelogram residual of an equivalence mod k: over every unordered pair of translations
 * (i, i + k), (j, j + k) with i < j and j + k < n, the mean of ‖(E_{i+k} − E_i) − (E_{j+k} − E_j)‖²,
 * divided by the mean squared distance between two nodes (mean ‖E_a − E_b‖² over a < b). 0 when
 * the step by k is the same vector everywhere (a periodic embedding, or one periodic plus a linear
 * drift); about 2 for unstructured (i.i.d.) embeddings, since then each difference of differences
 * has twice the variance of a difference.
 */
export function parallelogramResidual(e: Embedding, k: number): { residual: number; parallelograms: number } {
  const { n, d } = e;
  const steps = Math.max(0, n - k);
  const diff = new Float64Array(steps * d);
  for (let i = 0; i < steps; i++) for (let c = 0; c < d; c++) diff[i * d + c] = Number(e.values[(i + k) * d + c]) - Number(e.values[i * d + c]);
  let s = 0;
  let m = 0;
  for (let i = 0; i < steps; i++) {
    for (let j = i + 1; j < steps; j++) {
      for (let c = 0; c < d; c++) s += (diff[i * d + c] - diff[j * d + c]) ** 2;
      m++;
    }
  }
  const scale = meanSquaredDistance(e);
  return { residual: m === 0 || scale === 0 ? 0 : s / m / scale, parallelograms: m };
}

/**
 * Within-class over between-class spread of an equivalence mod k: the mean ‖E_a − E_b‖² over pairs
 * a < b in the same class (a ≡ b mod k), divided by the mean over pairs in different classes. 0 when
 * each class collapses to a point, about 1 when the embedding ignores the classes.
 */
export function classDistanceRatio(e: Embedding, k: number): number | null {
  let within = 0;
  let nw = 0;
  let between = 0;
  let nb = 0;
  for (let a = 0; a < e.n; a++) {
    for (let b = a + 1; b < e.n; b++) {
      const s = squaredDistance(e, a, b);
      if (a % k === b % k) {
        within += s;
        nw++;
      } else {
        between += s;
        nb++;
      }
    }
  }
  if (nw === 0 || nb === 0 || between === 0) return null;
  return within / nw / (between / nb);
}

/** Graph distance between nodes a and b: |a − b| on the order's line, around the n-cycle, or Manhattan on the open L×L lattice. */
export function graphDistance(relation: 'order' | 'cycle' | 'lattice', n: number, a: number, b: number): number {
  if (relation === 'order') return Math.abs(a - b);
  if (relation === 'cycle') {
    const g = Math.abs(a - b);
    return Math.min(g, n - g);
  }
  const L = Math.round(Math.sqrt(n));
  return Math.abs(Math.floor(a / L) - Math.floor(b / L)) + Math.abs((a % L) - (b % L));
}

/** Spearman ρ, over the unordered node pairs a < b, of the embedding distance ‖E_a − E_b‖ with the graph distance, with a bootstrap interval over pairs. */
export function distanceCorrelation(e: Embedding, relation: 'order' | 'cycle' | 'lattice', resamples: number, confidence: number, rng: Rng): RankEstimate {
  const emb: number[] = [];
  const graph: number[] = [];
  for (let a = 0; a < e.n; a++) {
    for (let b = a + 1; b < e.n; b++) {
      emb.push(Math.sqrt(squaredDistance(e, a, b)));
      graph.push(graphDistance(relation, e.n, a, b));
    }
  }
  return rankCorrelationInterval(emb, graph, resamples, confidence, rng);
}
