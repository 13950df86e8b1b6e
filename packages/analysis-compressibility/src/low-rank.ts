import { Matrix, SingularValueDecomposition } from 'ml-matrix';

/** The singular value decomposition of a row-major `rows × cols` matrix (ml-matrix, float64). */
export function svdOf(values: ArrayLike<number>, rows: number, cols: number): { u: Matrix; s: number[]; v: Matrix } {
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, values[i * cols + j]);
  const svd = new SingularValueDecomposition(m, { autoTranspose: true });
  return { u: svd.leftSingularVectors, s: svd.diagonal, v: svd.rightSingularVectors };
}

/**
 * The best rank-`rank` approximation (Eckart–Young) of a row-major `rows × cols` matrix from its
 * SVD: Σ_{k<rank} s_k u_k v_kᵀ, as a float32 row-major array.
 */
export function truncateRank(svd: { u: Matrix; s: number[]; v: Matrix }, rows: number, cols: number, rank: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const r = Math.min(rank, svd.s.length);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let acc = 0;
      for (let k = 0; k < r; k++) acc += svd.u.get(i, k) * svd.s[k] * svd.v.get(j, k);
      out[i * cols + j] = acc;
    }
  }
  return out;
}

/** The ranks swept for a matrix of full rank `full` under `auto`: 1, 2, 4, … below `full`, then `full`. */
export function autoRanks(full: number): number[] {
  const out: number[] = [];
  for (let r = 1; r < full; r *= 2) out.push(r);
  out.push(full);
  return out;
}
