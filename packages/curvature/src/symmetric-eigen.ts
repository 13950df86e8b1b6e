/**
 * Eigendecomposition of a dense real symmetric matrix stored as a flat row-major Float64Array.
 *
 * 1. Householder reduction to tridiagonal form T = Qᵀ A Q, working on the lower triangle in place
 *    (rows are contiguous, so every inner loop is a unit-stride sweep of one row). The rank-2 update
 *    of step i and the matrix-vector product of step i − 1 are fused into one pass over the active
 *    block, so the matrix is streamed through the cache once per step instead of twice.
 * 2. All eigenvalues of T by the implicit QL algorithm with Wilkinson shifts (EISPACK tql1/tql2
 *    without the eigenvector accumulation): O(n²).
 * 3. Eigenvectors only on demand: inverse iteration on T (LU with partial pivoting of T − λI), with
 *    modified Gram–Schmidt against the other members of the eigenvalue's cluster (consecutive gaps
 *    below 10⁻³‖T‖, as LAPACK's dstein), then back-transformation z ↦ Q z with the stored
 *    Householder vectors: O(n²) per vector (plus O(m²·n) for a cluster of m close eigenvalues).
 *
 * The cost is dominated by step 1, about (4/3)·n³ flops, with no eigenvector accumulation (which
 * would add ~6n³ more); callers that need every eigenvector can still ask for all of them.
 */

import { yieldToEventLoop } from '@goldstone/core';

const EPS = 2 ** -52;

/** A symmetric tridiagonal matrix: `diagonal[i]`, and `offDiagonal[i]` coupling i − 1 and i (`offDiagonal[0]` = 0). */
export interface SymmetricTridiagonal {
  n: number;
  diagonal: Float64Array;
  offDiagonal: Float64Array;
}

/** T = Qᵀ A Q with Q kept as its Householder reflectors. */
export interface HouseholderTridiagonal extends SymmetricTridiagonal {
  /** z ↦ Q z in place (maps an eigenvector of T to one of A). */
  applyQ(z: Float64Array): void;
}

/**
 * Householder tridiagonalisation of the symmetric n×n row-major matrix `a` (only its lower triangle
 * is read; `a` is not modified).
 */
export function householderTridiagonalize(a: Float64Array, n: number): HouseholderTridiagonal {
  const steps = householderSteps(a, n);
  for (;;) {
    const s = steps.next();
    if (s.done) return s.value;
  }
}

/** `householderTridiagonalize`, letting the event loop turn between its steps. */
async function householderTridiagonalizeAsync(a: Float64Array, n: number): Promise<HouseholderTridiagonal> {
  const steps = householderSteps(a, n);
  for (;;) {
    const s = steps.next();
    if (s.done) return s.value;
    await yieldToEventLoop();
  }
}

/**
 * The reduction as a generator that pauses after each step (one row, O(i²) work; n − 2 steps) and
 * returns the result: one implementation for the plain and the event-loop-friendly drivers.
 */
function* householderSteps(a: Float64Array, n: number): Generator<void, HouseholderTridiagonal, void> {
  if (a.length < n * n) throw new RangeError(`householderTridiagonalize: need ${n * n} values, got ${a.length}`);
  const w = Float64Array.from(a.subarray(0, n * n));
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const hs = new Float64Array(n); // hs[i] = vᵢᵀvᵢ/2 of the reflector stored in row i (0: none)
  if (n === 0) return { n, diagonal: d, offDiagonal: e, applyQ: () => {} };
  let p = new Float64Array(n);
  let pn = new Float64Array(n);
  const q = new Float64Array(n);
  const vv = new Float64Array(n); // this step's reflector (row i), copied for locality
  const ww = new Float64Array(n); // the next step's reflector (row i − 1)

  // Turn row i's entries 0..i−1 (x) into the reflector v with H x = β e_{i−1}, H = I − v vᵀ/h.
  const house = (i: number): boolean => {
    const o = i * n;
    const l = i - 1;
    let scale = 0;
    for (let k = 0; k < i; k++) scale = Math.max(scale, Math.abs(w[o + k]));
    let sigma = 0;
    if (scale > 0) for (let k = 0; k < l; k++) sigma += (w[o + k] / scale) ** 2;
    if (sigma === 0) {
      e[i] = w[o + l];
      hs[i] = 0;
      return false;
    }
    const inv = 1 / scale;
    for (let k = 0; k < i; k++) w[o + k] *= inv;
    const alpha = w[o + l];
    const norm = Math.sqrt(sigma + alpha * alpha);
    const beta = alpha >= 0 ? -norm : norm;
    w[o + l] = alpha - beta;
    hs[i] = norm * norm - alpha * beta;
    e[i] = beta * scale;
    return true;
  };

  // p[0..i−1] = A_block v / h with the block rows 0..i−1 (lower triangle) and v in row i.
  const matvec = (i: number, out: Float64Array) => {
    const vo = i * n;
    out.fill(0, 0, i);
    for (let j = 0; j < i; j++) {
      const ro = j * n;
      const vj = w[vo + j];
      let s = 0;
      for (let k = 0; k < j; k++) {
        const x = w[ro + k];
        s += x * w[vo + k];
        out[k] += x * vj;
      }
      out[j] += s + w[ro + j] * vj;
    }
    const invH = 1 / hs[i];
    for (let j = 0; j < i; j++) out[j] *= invH;
  };

  if (n >= 3 && house(n - 1)) matvec(n - 1, p);
  for (let i = n - 1; i >= 2; i--) {
    const vo = i * n;
    const h = hs[i];
    d[i] = w[vo + i];
    if (h !== 0) {
      let K = 0;
      for (let k = 0; k < i; k++) K += w[vo + k] * p[k];
      K /= 2 * h;
      for (let k = 0; k < i; k++) q[k] = p[k] - K * w[vo + k];
      // row i − 1 first: the next reflector is built from it
      const ro = (i - 1) * n;
      const vj = w[vo + i - 1];
      const qj = q[i - 1];
      for (let k = 0; k < i; k++) w[ro + k] -= vj * q[k] + qj * w[vo + k];
    }
    const m = i - 1; // next step's row; its block is rows 0..m−1
    const next = m >= 2 && house(m);
    if (m < 2) e[1] = w[n];
    const wo = m * n;
    if (h !== 0 && next) {
      // two rows at a time: q, v, v′ and p′ are loaded once for both
      vv.set(w.subarray(vo, vo + m));
      ww.set(w.subarray(wo, wo + m));
      pn.fill(0, 0, m);
      let j = 0;
      for (; j + 1 < m; j += 2) {
        const r0 = j * n;
        const r1 = r0 + n;
        const v0 = vv[j];
        const q0 = q[j];
        const w0 = ww[j];
        const v1 = vv[j + 1];
        const q1 = q[j + 1];
        const w1 = ww[j + 1];
        let s0 = 0;
        let s1 = 0;
        for (let k = 0; k < j; k++) {
          const vk = vv[k];
          const qk = q[k];
          const wk = ww[k];
          const x0 = w[r0 + k] - (v0 * qk + q0 * vk);
          const x1 = w[r1 + k] - (v1 * qk + q1 * vk);
          w[r0 + k] = x0;
          w[r1 + k] = x1;
          s0 += x0 * wk;
          s1 += x1 * wk;
          pn[k] += x0 * w0 + x1 * w1;
        }
        const d0 = w[r0 + j] - 2 * v0 * q0;
        w[r0 + j] = d0;
        const x1 = w[r1 + j] - (v1 * q0 + q1 * v0);
        w[r1 + j] = x1;
        s1 += x1 * w0;
        pn[j] += s0 + d0 * w0 + x1 * w1;
        const d1 = w[r1 + j + 1] - 2 * v1 * q1;
        w[r1 + j + 1] = d1;
        pn[j + 1] += s1 + d1 * w1;
      }
      if (j < m) {
        const ro = j * n;
        const vj = vv[j];
        const qj = q[j];
        const wj = ww[j];
        let s = 0;
        for (let k = 0; k < j; k++) {
          const x = w[ro + k] - (vj * q[k] + qj * vv[k]);
          w[ro + k] = x;
          s += x * ww[k];
          pn[k] += x * wj;
        }
        const xd = w[ro + j] - 2 * vj * qj;
        w[ro + j] = xd;
        pn[j] += s + xd * wj;
      }
      const invH = 1 / hs[m];
      for (let j = 0; j < m; j++) pn[j] *= invH;
    } else if (h !== 0) {
      for (let j = 0; j < m; j++) {
        const ro = j * n;
        const vj = w[vo + j];
        const qj = q[j];
        for (let k = 0; k <= j; k++) w[ro + k] -= vj * q[k] + qj * w[vo + k];
      }
    } else if (next) {
      matvec(m, pn);
    }
    const t = p;
    p = pn;
    pn = t;
    yield;
  }
  d[0] = w[0];
  if (n >= 2) {
    d[1] = w[n + 1];
    e[1] = w[n];
  }

  const applyQ = (z: Float64Array) => {
    // Q = H_{n−1} ⋯ H_2: apply H_2 first
    for (let i = 2; i < n; i++) {
      const h = hs[i];
      if (h === 0) continue;
      const vo = i * n;
      let s = 0;
      for (let k = 0; k < i; k++) s += w[vo + k] * z[k];
      s /= h;
      if (s === 0) continue;
      for (let k = 0; k < i; k++) z[k] -= s * w[vo + k];
    }
  };
  return { n, diagonal: d, offDiagonal: e, applyQ };
}

function hypot(a: number, b: number): number {
  const x = Math.abs(a);
  const y = Math.abs(b);
  const big = x > y ? x : y;
  if (big === 0) return 0;
  if (big < 1e150 && big > 1e-150) return Math.sqrt(a * a + b * b);
  const small = x > y ? y : x;
  const r = small / big;
  return big * Math.sqrt(1 + r * r);
}

/**
 * Eigenvalues of an unreduced-or-not symmetric tridiagonal matrix by implicit QL (tql1), ascending.
 * `offDiagonal[i]` couples i − 1 and i; the inputs are not modified.
 */
export function tridiagonalEigenvalues(diagonal: Float64Array, offDiagonal: Float64Array): Float64Array {
  const n = diagonal.length;
  const d = Float64Array.from(diagonal);
  const e = new Float64Array(n);
  for (let i = 1; i < n; i++) e[i - 1] = offDiagonal[i];
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > EPS * tst1) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error('tridiagonalEigenvalues: QL did not converge');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
        }
        p = -s * s2 * c3 * el1 * (e[l] / dl1); // (e[l]/dl1 first: el1·e[l] underflows for tiny matrices)
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  return d.sort();
}

/** Deterministic start vectors for inverse iteration (a fixed-seed xorshift, as LAPACK's dlarnv). */
function startVector(m: number, seed: number): Float64Array {
  let s = (seed * 2654435761 + 0x9e3779b9) >>> 0 || 1;
  const z = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    z[k] = s / 2 ** 31 - 1;
  }
  return z;
}

/**
 * Eigenvectors (unit, in the block's coordinates) of the eigenvalues `w[from..to]` of the unreduced
 * tridiagonal block (diagonal dd, off-diagonal ee[k] coupling k and k + 1), by inverse iteration
 * with modified Gram–Schmidt against the earlier vectors of the range.
 */
function inverseIteration(dd: Float64Array, ee: Float64Array, w: Float64Array, from: number, to: number, norm: number): Float64Array[] {
  const m = dd.length;
  const tiny = EPS * norm || Number.MIN_VALUE;
  const pertol = 10 * EPS * norm;
  const u0 = new Float64Array(m);
  const u1 = new Float64Array(m);
  const u2 = new Float64Array(m);
  const mult = new Float64Array(m);
  const swap = new Uint8Array(m);
  const out: Float64Array[] = [];
  let prev = -Infinity;
  for (let j = from; j <= to; j++) {
    let x = w[j];
    if (j > from && x - prev < pertol) x = prev + pertol;
    prev = x;
    // LU of T − xI with partial pivoting: U has bands u0 (diagonal), u1, u2
    let r0 = dd[0] - x;
    let r1 = m > 1 ? ee[0] : 0;
    for (let k = 0; k < m - 1; k++) {
      const s0 = ee[k];
      const s1 = dd[k + 1] - x;
      const s2 = k + 2 < m ? ee[k + 1] : 0;
      let o1: number;
      let o2: number;
      let o0: number;
      if (Math.abs(s0) > Math.abs(r0)) {
        swap[k] = 1;
        u0[k] = s0;
        u1[k] = s1;
        u2[k] = s2;
        o0 = r0;
        o1 = r1;
        o2 = 0;
      } else {
        swap[k] = 0;
        u0[k] = r0;
        u1[k] = r1;
        u2[k] = 0;
        o0 = s0;
        o1 = s1;
        o2 = s2;
      }
      if (Math.abs(u0[k]) < tiny) u0[k] = u0[k] < 0 ? -tiny : tiny;
      const mk = o0 / u0[k];
      mult[k] = mk;
      r0 = o1 - mk * u1[k];
      r1 = o2 - mk * u2[k];
    }
    u0[m - 1] = Math.abs(r0) < tiny ? (r0 < 0 ? -tiny : tiny) : r0;
    const z = startVector(m, j + 1);
    for (let it = 0; it < 3; it++) {
      // normalise (∞-norm) before the solve to keep the growth in range
      let big = 0;
      for (let k = 0; k < m; k++) big = Math.max(big, Math.abs(z[k]));
      if (big > 0) for (let k = 0; k < m; k++) z[k] /= big;
      // forward: apply the row swaps and multipliers
      for (let k = 0; k < m - 1; k++) {
        if (swap[k]) {
          const t = z[k];
          z[k] = z[k + 1];
          z[k + 1] = t;
        }
        z[k + 1] -= mult[k] * z[k];
      }
      // back substitution with U
      z[m - 1] /= u0[m - 1];
      if (m > 1) z[m - 2] = (z[m - 2] - u1[m - 2] * z[m - 1]) / u0[m - 2];
      for (let k = m - 3; k >= 0; k--) z[k] = (z[k] - u1[k] * z[k + 1] - u2[k] * z[k + 2]) / u0[k];
      // rescale before the dot products (the solve grows z by up to 1/(ε‖T‖))
      big = 0;
      for (let k = 0; k < m; k++) big = Math.max(big, Math.abs(z[k]));
      for (let k = 0; k < m; k++) z[k] /= big;
      for (const v of out) {
        let s = 0;
        for (let k = 0; k < m; k++) s += v[k] * z[k];
        for (let k = 0; k < m; k++) z[k] -= s * v[k];
      }
      let nrm = 0;
      for (let k = 0; k < m; k++) nrm += z[k] * z[k];
      nrm = Math.sqrt(nrm);
      for (let k = 0; k < m; k++) z[k] /= nrm;
    }
    // fix the sign: largest-magnitude component positive (deterministic output)
    let arg = 0;
    for (let k = 1; k < m; k++) if (Math.abs(z[k]) > Math.abs(z[arg]) + 1e-12) arg = k;
    if (z[arg] < 0) for (let k = 0; k < m; k++) z[k] = -z[k];
    out.push(z);
  }
  return out;
}

export interface SymmetricEigenDecomposition {
  n: number;
  /** All eigenvalues, ascending. */
  values: Float64Array;
  /** The unit eigenvector of `values[i]` (a fresh array; computed on first request, O(n²)). */
  vector(i: number): Float64Array;
  /** All eigenvectors as the columns of a row-major n×n matrix (O(n³): n back-transformations). */
  vectors(): Float64Array;
}

/** Relative cluster width of inverse iteration (LAPACK dstein's ortol). */
const CLUSTER = 1e-3;

/**
 * Eigendecomposition of the symmetric n×n matrix `a` (flat row-major; the lower triangle is read,
 * `a` is not modified): all eigenvalues at once, eigenvectors on demand.
 */
export function symmetricEigenDecomposition(a: Float64Array, n: number): SymmetricEigenDecomposition {
  return decomposition(householderTridiagonalize(a, n), n);
}

/**
 * `symmetricEigenDecomposition`, letting the event loop turn (signals, timers, I/O) between the
 * steps of the O(n³) reduction: the same numbers, but a Ctrl-C or a timer is not held up for the
 * seconds a large matrix takes.
 */
export async function symmetricEigenDecompositionAsync(a: Float64Array, n: number): Promise<SymmetricEigenDecomposition> {
  return decomposition(await householderTridiagonalizeAsync(a, n), n);
}

/** Eigenvalues (implicit QL) and on-demand eigenvectors of A from its tridiagonal form. */
function decomposition(tri: HouseholderTridiagonal, n: number): SymmetricEigenDecomposition {
  const d = tri.diagonal;
  const e = tri.offDiagonal;
  // split T into unreduced blocks where an off-diagonal is negligible
  const blocks: { start: number; dd: Float64Array; ee: Float64Array; w: Float64Array; norm: number }[] = [];
  let start = 0;
  for (let i = 1; i <= n; i++) {
    if (i === n || Math.abs(e[i]) <= EPS * (Math.abs(d[i - 1]) + Math.abs(d[i]))) {
      const dd = d.slice(start, i);
      const ee = e.slice(start + 1, i); // ee[k] couples k and k + 1 of the block
      const off = new Float64Array(dd.length);
      off.set(ee, 1);
      let norm = 0;
      for (let k = 0; k < dd.length; k++) {
        norm = Math.max(norm, Math.abs(dd[k]) + (k > 0 ? Math.abs(ee[k - 1]) : 0) + (k < ee.length ? Math.abs(ee[k]) : 0));
      }
      blocks.push({ start, dd, ee, w: dd.length === 1 ? dd.slice() : tridiagonalEigenvalues(dd, off), norm });
      start = i;
    }
  }
  const entries: { value: number; block: number; index: number }[] = [];
  blocks.forEach((b, bi) => b.w.forEach((value, index) => entries.push({ value, block: bi, index })));
  entries.sort((x, y) => x.value - y.value || x.block - y.block || x.index - y.index);
  const values = Float64Array.from(entries, (x) => x.value);
  const cache = new Map<string, Float64Array>();

  const blockVector = (bi: number, index: number): Float64Array => {
    const key = `${bi}:${index}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const b = blocks[bi];
    const m = b.dd.length;
    if (m === 1) {
      const z = new Float64Array([1]);
      cache.set(key, z);
      return z;
    }
    const ortol = CLUSTER * b.norm;
    let lo = index;
    while (lo > 0 && b.w[lo] - b.w[lo - 1] < ortol) lo--;
    let hi = index;
    while (hi < m - 1 && b.w[hi + 1] - b.w[hi] < ortol) hi++;
    const vs = inverseIteration(b.dd, b.ee, b.w, lo, hi, b.norm);
    vs.forEach((z, k) => cache.set(`${bi}:${lo + k}`, z));
    return vs[index - lo];
  };

  const vector = (i: number): Float64Array => {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`symmetricEigenDecomposition: no eigenvalue ${i} (n = ${n})`);
    const { block, index } = entries[i];
    const z = new Float64Array(n);
    z.set(blockVector(block, index), blocks[block].start);
    tri.applyQ(z);
    // renormalise (Q is orthogonal up to rounding)
    let s = 0;
    for (let k = 0; k < n; k++) s += z[k] * z[k];
    s = 1 / Math.sqrt(s);
    for (let k = 0; k < n; k++) z[k] *= s;
    return z;
  };

  const vectors = (): Float64Array => {
    const out = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      const v = vector(i);
      for (let k = 0; k < n; k++) out[k * n + i] = v[k];
    }
    return out;
  };
  return { n, values, vector, vectors };
}
