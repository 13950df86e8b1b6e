import { yieldToEventLoop } from '@goldstone/core';
import { applyBlock, blockSizeOf, type LinearOperator } from './linear-operator';
import { symmetricEigenDecompositionAsync } from './symmetric-eigen';

/**
 * Largest operator dimension `method: auto` treats exactly (dense matrix + full
 * eigendecomposition). The eigenvalues of a 2,000 × 2,000 matrix take seconds (`symmetricEigenDecomposition`,
 * ~(4/3)n³ flops); the 2,000 HVPs that build the matrix cost about as much. The cost grows as n³.
 */
export const EXACT_MAX_PARAMS = 2000;

export interface DenseMatrix {
  n: number;
  /** Row-major n×n values, symmetrised ((A + Aᵀ)/2). */
  values: Float64Array;
  /** max |A_ij − A_ji| / max |A_ij| before symmetrisation (rounding of the products; ~1e-7 in float32). */
  asymmetry: number;
  products: number;
}

/**
 * The dense matrix of an operator, one product per column (A eⱼ), symmetrised. For a Hessian
 * operator this is the exact Hessian up to float32 rounding of the HVPs. The columns are taken in
 * blocks of `blockSizeOf(op)` unit vectors (one block product each: the same columns as one at a
 * time, to round-off); `onColumn` is called for every column, in order, and the event loop turns
 * between blocks (`yieldToEventLoop`), so a signal is handled during the n products.
 */
export async function denseMatrix(op: LinearOperator, onColumn?: (j: number) => void): Promise<DenseMatrix> {
  const n = op.dim;
  const before = op.products;
  const a = new Float64Array(n * n);
  const k = blockSizeOf(op, n);
  for (let j0 = 0; j0 < n; j0 += k) {
    const m = Math.min(k, n - j0);
    const units = Array.from({ length: m }, (_, t) => {
      const e = new Float64Array(n);
      e[j0 + t] = 1;
      return e;
    });
    const cols = m === 1 ? [op.apply(units[0])] : applyBlock(op, units);
    for (let t = 0; t < m; t++) {
      const j = j0 + t;
      const col = cols[t];
      for (let i = 0; i < n; i++) a[i * n + j] = col[i];
      onColumn?.(j);
    }
    await yieldToEventLoop();
  }
  let maxAbs = 0;
  let maxAsym = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const x = a[i * n + j];
      const y = a[j * n + i];
      maxAbs = Math.max(maxAbs, Math.abs(x), Math.abs(y));
      maxAsym = Math.max(maxAsym, Math.abs(x - y));
      const m = 0.5 * (x + y);
      a[i * n + j] = m;
      a[j * n + i] = m;
    }
  }
  return { n, values: a, asymmetry: maxAbs > 0 ? maxAsym / maxAbs : 0, products: op.products - before };
}

export interface SymmetricEigen {
  /** All eigenvalues, ascending. */
  values: number[];
  /** The unit eigenvector of `values[i]`. */
  vector(i: number): Float64Array;
}

/**
 * Full eigendecomposition of a dense symmetric matrix: every eigenvalue (Householder
 * tridiagonalisation + implicit QL, ~(4/3)n³ flops), eigenvectors computed on first request by
 * inverse iteration and back-transformation (O(n²) each) — see `symmetricEigenDecomposition`. The
 * event loop turns between the steps of the reduction.
 */
export async function symmetricEigen(m: { n: number; values: Float64Array }): Promise<SymmetricEigen> {
  const evd = await symmetricEigenDecompositionAsync(m.values, m.n);
  return {
    values: Array.from(evd.values),
    vector: (i: number) => evd.vector(i),
  };
}

/** The dense matrix of an operator and its full spectrum: the reference every estimator is tested against. */
export async function exactSpectrum(op: LinearOperator, onColumn?: (j: number) => void): Promise<{ matrix: DenseMatrix; eigen: SymmetricEigen }> {
  const matrix = await denseMatrix(op, onColumn);
  return { matrix, eigen: await symmetricEigen(matrix) };
}
