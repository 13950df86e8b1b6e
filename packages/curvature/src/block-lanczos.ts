import { yieldToEventLoop } from '@goldstone/core';
import { defaultLanczosSteps, lanczosResult, randomUnit, reorthogonalize, ritzStopping, ritzVector, type EigenPair, type LanczosOptions, type LanczosResult } from './lanczos';
import { applyBlock, axpy, blockSizeOf, dot, norm, scale, type LinearOperator } from './linear-operator';
import { symmetricEigenDecomposition } from './symmetric-eigen';

/** The block size of `blockLanczos` when none is given: the operator's, capped at this. */
export const BLOCK_LANCZOS_MAX_DEFAULT = 8;

export interface BlockLanczosOptions extends Omit<LanczosOptions, 'start' | 'maxSteps' | 'bottomSteps'> {
  /** Vectors per block b (default `blockSizeOf(op, 8)`; capped at n and at `maxSteps`). */
  blockSize?: number;
  /**
   * Maximum Krylov dimension, in vectors (= products; default min(n, b·(max(4·(topK+bottomK), 30) + 20))):
   * the run makes at most ⌊maxSteps / b⌋ block products.
   */
  maxSteps?: number;
  /** The bottom's own budget, a Krylov dimension in vectors (as `lanczos`; default `maxSteps`). */
  bottomSteps?: number;
  /** Start block (orthonormalised inside, random columns added or dropped to make b); Gaussian from `rng` if absent. */
  start?: readonly Float64Array[];
  /** Check convergence every this many block steps (default 1; each check solves a dense (jb)×(jb) eigenproblem). */
  checkEvery?: number;
}

export interface BlockLanczosResult extends LanczosResult {
  /** The block size used. */
  blockSize: number;
}

/** A column at most this fraction of the largest entry of T so far is numerically dependent. */
const DEFLATE = 1e-10;

/**
 * QR of a block by classical Gram–Schmidt, twice, against the earlier basis (coefficients
 * dropped: they are rounding) and the block's own columns (coefficients kept in R). A dependent
 * column is replaced by a random unit vector orthogonal to everything so far (its R column ends
 * at a zero diagonal), so the block keeps its size and repeated eigenvalues their copies; when no
 * such vector exists (the basis spans ℝⁿ) the column is dropped. Returns Q (k ≤ |W| columns) and
 * R (k × |W|, rows by Q's columns): W = Q R.
 */
function blockQr(
  ws: readonly Float64Array[],
  basis: readonly Float64Array[],
  threshold: number,
  rng: BlockLanczosOptions['rng'],
): { q: Float64Array[]; r: number[][] } {
  const q: Float64Array[] = [];
  const r: number[][] = [];
  ws.forEach((w, c) => {
    const v = Float64Array.from(w);
    const coeff = new Array<number>(q.length).fill(0);
    for (let pass = 0; pass < 2; pass++) {
      for (const u of basis) axpy(v, -dot(u, v), u);
      q.forEach((u, k) => {
        const t = dot(u, v);
        coeff[k] += t;
        axpy(v, -t, u);
      });
    }
    coeff.forEach((t, k) => (r[k][c] = t));
    const nv = norm(v);
    let unit: Float64Array | null;
    let diag = 0;
    if (nv > threshold) {
      scale(v, 1 / nv);
      unit = v;
      diag = nv;
    } else unit = randomUnit(v.length, rng, [...basis, ...q]);
    if (!unit) return;
    // the new column's row: zeros before c (R is upper triangular), its diagonal, filled in later
    r.push(Array.from({ length: ws.length }, (_, k) => (k === c ? diag : 0)));
    q.push(unit);
  });
  return { q, r };
}

/**
 * Extreme eigenpairs by block Lanczos with full reorthogonalisation: from a block of b orthonormal
 * vectors, each step takes one block product A·Q_j (`applyBlock`), its b×b projection A_j = Q_jᵀAQ_j,
 * the three-term residual W = AQ_j − Q_jA_j − Q_{j−1}B_{j−1}ᵀ reorthogonalised against every earlier
 * vector, and its QR W = Q_{j+1}B_j. The Ritz pairs come from the block tridiagonal (banded)
 * T = QᵀAQ by the dense symmetric eigensolver; the residual of a Ritz pair is ‖B_j s_last‖ (the
 * last block's part of its T eigenvector). A block Krylov space holds up to b copies of an
 * eigenvalue, so a repeated or tightly clustered top (or bottom) is found where a single-vector
 * Lanczos finds one copy. Stopping, flags and result shape are `lanczos()`'s (`ritzStopping`);
 * `steps` and `products` count vectors, `blocks` the block products. The event loop turns after
 * each block product.
 */
export async function blockLanczos(op: LinearOperator, opts: BlockLanczosOptions): Promise<BlockLanczosResult> {
  const topK = opts.topK ?? 0;
  const bottomK = opts.bottomK ?? 0;
  const n = op.dim;
  if (topK + bottomK === 0) throw new Error('blockLanczos: ask for topK and/or bottomK eigenpairs');
  const asked = opts.blockSize ?? blockSizeOf(op, BLOCK_LANCZOS_MAX_DEFAULT);
  if (!(Number.isInteger(asked) && asked >= 1)) throw new RangeError(`blockLanczos: blockSize must be an integer ≥ 1, got ${asked}`);
  const maxSteps = Math.min(n, opts.maxSteps ?? asked * defaultLanczosSteps(topK, bottomK));
  const b = Math.max(1, Math.min(asked, maxSteps));
  const bottomSteps = Math.min(maxSteps, opts.bottomSteps ?? maxSteps);
  const tol = opts.tol ?? 1e-6;
  const every = Math.max(1, opts.checkEvery ?? 1);
  const stopping = ritzStopping({ n, topK, bottomK, tol, bottomSteps });
  const before = op.products;

  const basis: Float64Array[] = [];
  /** Per block j: its offset in the basis, A_j (s_j × s_j) and B_j (s_{j+1} × s_j, rows by the next block's columns). */
  const diag: number[][][] = [];
  const off: number[][][] = [];
  const offsets: number[] = [];
  let scaleT = 0;
  const startCols = opts.start ? opts.start.map((v) => Float64Array.from(v)) : [];
  while (startCols.length < b) startCols.push(Float64Array.from(opts.rng.normalArray(n)));
  let block = blockQr(startCols.slice(0, b), [], 0, opts.rng).q;
  let prev: Float64Array[] = [];
  let blocks = 0;
  let full = false;

  /** T = QᵀAQ from the blocks so far (dense, row-major, dimension m). */
  const projected = (): Float64Array => {
    const m = basis.length;
    const t = new Float64Array(m * m);
    diag.forEach((a, j) => {
      const o = offsets[j];
      a.forEach((row, r) => row.forEach((x, c) => (t[(o + r) * m + o + c] = x)));
      if (j + 1 < diag.length) {
        const o2 = offsets[j + 1];
        off[j].forEach((row, r) =>
          row.forEach((x, c) => {
            t[(o2 + r) * m + o + c] = x;
            t[(o + c) * m + o2 + r] = x;
          }),
        );
      }
    });
    return t;
  };
  /** Ritz values (ascending), and for the wanted ones (and all, if `all`) their T eigenvectors and residuals ‖B_last s_last‖. */
  const ritz = (wanted: number[]) => {
    const m = basis.length;
    const evd = symmetricEigenDecomposition(projected(), m);
    const values = Array.from(evd.values);
    const residuals = new Array<number>(m).fill(Number.NaN);
    const vectors = new Map<number, Float64Array>();
    const last = off[off.length - 1];
    const o = offsets[offsets.length - 1];
    for (const i of wanted) {
      const s = evd.vector(i);
      vectors.set(i, s);
      let r2 = 0;
      for (const row of last) {
        let t = 0;
        row.forEach((x, c) => (t += x * s[o + c]));
        r2 += t * t;
      }
      residuals[i] = Math.sqrt(r2);
    }
    return { values, residuals, vectors };
  };

  for (let step = 1; block.length > 0; step++) {
    offsets.push(basis.length);
    basis.push(...block);
    const ws = applyBlock(op, block);
    blocks++;
    await yieldToEventLoop();
    const s = block.length;
    const a = block.map((u) => ws.map((w) => dot(u, w)));
    for (let r = 0; r < s; r++) for (let c = 0; c < r; c++) a[r][c] = a[c][r] = 0.5 * (a[r][c] + a[c][r]);
    diag.push(a);
    const bPrev = off[off.length - 1];
    ws.forEach((w, c) => {
      block.forEach((u, r) => axpy(w, -a[r][c], u));
      // A Q_j ∋ Q_{j−1} B_{j−1}ᵀ: column c of it is Σ_r q_{j−1,r} B_{j−1}[c][r]
      if (bPrev) prev.forEach((u, r) => axpy(w, -bPrev[c][r], u));
      reorthogonalize(w, basis);
      scaleT = Math.max(scaleT, norm(w));
    });
    for (const row of a) for (const x of row) scaleT = Math.max(scaleT, Math.abs(x));
    const qr = blockQr(ws, basis, DEFLATE * Math.max(scaleT, 1e-300), opts.rng);
    off.push(qr.r);
    const m = basis.length;
    // the basis spans ℝⁿ (no column left, or none that is not dependent): T is A in that basis
    if (m === n || qr.q.length === 0) {
      full = true;
      break;
    }
    // the next block must fit in the budget (near n the QR gives fewer columns: the rest of ℝⁿ)
    if (m + qr.q.length > maxSteps) break;
    if (step % every === 0 && stopping.due(m)) {
      const { values, residuals } = ritz(stopping.wanted(m));
      if (stopping.check(m, values, residuals)) break;
    }
    prev = block;
    block = qr.q;
  }

  const m = basis.length;
  const { values, residuals, vectors } = ritz(stopping.wanted(m));
  const e = stopping.finish(m, values, residuals, full);
  const pair = (i: number): EigenPair => {
    const p: EigenPair = { value: values[i], residual: residuals[i], converged: e.ok(i) };
    if (opts.vectors) p.vector = ritzVector(basis, vectors.get(i)!);
    return p;
  };
  return { ...lanczosResult(m, { topK, bottomK }, values, pair, e, { steps: m, products: op.products - before, blocks }), blockSize: b };
}
