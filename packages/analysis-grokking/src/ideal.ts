import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { Pair } from './pairs';
import { quadResidual } from './geometry';

/**
 * The ideal accuracy the training set of an addition table implies (Liu et al. 2022, toy/train_add.py,
 * "Task 1", reimplemented): P0 holds every two distinct pairs with equal sums; P0(D) those with both
 * pairs in the training set D; P(D) adds every other parallelogram of P0 linearly dependent on P0(D)
 * (its row E_i + E_j − E_m − E_n does not raise the rank); D̄ is D plus every test pair that forms a
 * parallelogram of P(D) with a train pair. The ideal test accuracy is |D̄ \ D| / |test|.
 */

/** The toy's D0: all unordered pairs (i, j), i ≤ j < p, in lexicographic order. */
export function allPairs(p: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < p; i++) for (let j = i; j < p; j++) out.push([i, j]);
  return out;
}

/** P0 as pairs of D0 indices (a < b, equal sums), in the toy's order. */
export function allParallelograms(D0: readonly Pair[]): [number, number][] {
  const out: [number, number][] = [];
  for (let a = 0; a < D0.length; a++) for (let b = a + 1; b < D0.length; b++) if (D0[a][0] + D0[a][1] === D0[b][0] + D0[b][1]) out.push([a, b]);
  return out;
}

/** The row of A for a parallelogram: +1 at i and j, −1 at m and n (a diagonal pair adds twice). */
function rowOf(D0: readonly Pair[], [a, b]: readonly [number, number], p: number): number[] {
  const x = new Array<number>(p).fill(0);
  x[D0[a][0]] += 1;
  x[D0[a][1]] += 1;
  x[D0[b][0]] -= 1;
  x[D0[b][1]] -= 1;
  return x;
}

/**
 * Dimension of the null space of the rows (p columns), as the toy counts it: eigenvalues of AᵀA
 * below 1e-8 (symmetric eigendecomposition from ml-matrix); p for no rows.
 */
export function nullDimension(rows: readonly number[][], p: number): number {
  if (rows.length === 0) return p;
  const A = new Matrix(rows as number[][]);
  const AtA = A.transpose().mmul(A);
  const eig = new EigenvalueDecomposition(AtA, { assumeSymmetric: true }).realEigenvalues;
  return eig.filter((v) => v < 1e-8).length;
}

/** Whether parallelogram `pg` (two pair indices) joins pair `t` to one of `train` (the toy's calculate_Dbar). */
function dbar(train: readonly number[], test: readonly number[], pgrams: readonly [number, number][]): number[] {
  const key = (a: number, b: number) => (a < b ? `${a},${b}` : `${b},${a}`);
  const set = new Set(pgrams.map(([a, b]) => key(a, b)));
  const out = [...train];
  for (const t of test) if (train.some((u) => set.has(key(t, u)))) out.push(t);
  return out;
}

export interface IdealAccuracy {
  /** |D̄ \ D| / |test|: the test accuracy a representation with every parallelogram of P(D) would reach. */
  testAccuracy: number | null;
  /** |D̄| / |all pairs|. */
  accuracy: number;
  /** Null-space dimension of P0(D)'s rows, the toy's `dof` (2 of it are translation and scale). */
  nullDim: number;
  /** nullDim − 2: the freedom beyond translation and scaling (0: the linear representation is the only one). */
  dofBeyondAffine: number;
  /** Counts: all pairs, train and test pairs, |P0|, |P0(D)|, |P(D)|, |D̄|. */
  counts: { pairs: number; train: number; test: number; P0: number; P0D: number; PD: number; Dbar: number };
}

/** Index of each pair in D0. */
function indexer(p: number): (q: Pair) => number {
  return ([a, b]) => {
    const i = Math.min(a, b);
    const j = Math.max(a, b);
    // pairs (i', j') with i' < i come first: Σ_{i'<i} (p − i')
    return i * p - (i * (i - 1)) / 2 + (j - i);
  };
}

/** The ideal accuracy of training set `train` (unordered pairs) on p symbols; `test` defaults to every other pair. */
export function idealAccuracy(p: number, train: readonly Pair[], test?: readonly Pair[]): IdealAccuracy {
  const D0 = allPairs(p);
  const at = indexer(p);
  const trainIds = [...new Set(train.map(at))];
  const inTrain = new Set(trainIds);
  const testIds = test ? [...new Set(test.map(at))].filter((i) => !inTrain.has(i)) : D0.map((_, i) => i).filter((i) => !inTrain.has(i));
  const P0 = allParallelograms(D0);
  const A = P0.map((pg) => rowOf(D0, pg, p));
  const p0d = P0.map((_, k) => k).filter((k) => inTrain.has(P0[k][0]) && inTrain.has(P0[k][1]));
  const p0dSet = new Set(p0d);
  const base = p0d.map((k) => A[k]);
  const nullDim = nullDimension(base, p);
  const pd = [...p0d];
  for (let k = 0; k < P0.length; k++) {
    if (p0dSet.has(k)) continue;
    if (nullDimension([...base, A[k]], p) === nullDim) pd.push(k);
  }
  const D = dbar(trainIds, testIds, pd.map((k) => P0[k]));
  return {
    testAccuracy: testIds.length ? (D.length - trainIds.length) / testIds.length : null,
    accuracy: D.length / D0.length,
    nullDim,
    dofBeyondAffine: nullDim - 2,
    counts: { pairs: D0.length, train: trainIds.length, test: testIds.length, P0: P0.length, P0D: p0d.length, PD: pd.length, Dbar: D.length },
  };
}

/**
 * The toy's accuracy predicted from a learned representation: P(R) holds the parallelograms of P0
 * whose standardised residual mean_d (E_i + E_j − E_m − E_n)² is below `threshold`, and D̄(D, R) the
 * train pairs plus the test pairs joined to a train pair by one of them. `Es` is the standardised
 * embedding [p, d].
 */
export function predictedAccuracy(p: number, d: number, Es: ArrayLike<number>, train: readonly Pair[], threshold: number, test?: readonly Pair[]): { testAccuracy: number | null; accuracy: number; parallelograms: number } {
  const D0 = allPairs(p);
  const at = indexer(p);
  const trainIds = [...new Set(train.map(at))];
  const inTrain = new Set(trainIds);
  const testIds = test ? [...new Set(test.map(at))].filter((i) => !inTrain.has(i)) : D0.map((_, i) => i).filter((i) => !inTrain.has(i));
  const PR = allParallelograms(D0).filter(([a, b]) => quadResidual(Es, d, [D0[a][0], D0[a][1], D0[b][0], D0[b][1]]) < threshold);
  const D = dbar(trainIds, testIds, PR);
  const testAccuracy = testIds.length ? (D.length - trainIds.length) / testIds.length : null;
  return { testAccuracy, accuracy: ((testAccuracy ?? 0) * testIds.length + trainIds.length) / (trainIds.length + testIds.length), parallelograms: PR.length };
}
