import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { householderTridiagonalize, symmetricEigenDecomposition, tridiagonalEigenvalues } from './symmetric-eigen';

/** Q diag(λ) Qᵀ with Q a random orthogonal matrix (Gram–Schmidt of a Gaussian one). */
function withSpectrum(rng: Rng, lambda: number[]): Float64Array {
  const n = lambda.length;
  const q = new Float64Array(n * n); // columns in rows: q[c*n + k]
  for (let c = 0; c < n; c++) {
    for (let k = 0; k < n; k++) q[c * n + k] = rng.normal();
    for (let pass = 0; pass < 2; pass++) {
      for (let b = 0; b < c; b++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += q[b * n + k] * q[c * n + k];
        for (let k = 0; k < n; k++) q[c * n + k] -= s * q[b * n + k];
      }
    }
    let s = 0;
    for (let k = 0; k < n; k++) s += q[c * n + k] ** 2;
    s = Math.sqrt(s);
    for (let k = 0; k < n; k++) q[c * n + k] /= s;
  }
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let c = 0; c < n; c++) s += q[c * n + i] * lambda[c] * q[c * n + j];
      a[i * n + j] = a[j * n + i] = s;
    }
  }
  return a;
}

function gaussian(rng: Rng, n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
  return a;
}

function reference(a: Float64Array, n: number): number[] {
  const rows = Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n)));
  return new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true }).realEigenvalues.slice().sort((x, y) => x - y);
}

function matvec(a: Float64Array, n: number, v: Float64Array): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += a[i * n + k] * v[k];
    out[i] = s;
  }
  return out;
}

/** Eigenvalues against ml-matrix, every eigenvector's residual and the orthogonality of all of them. */
function check(a: Float64Array, n: number) {
  const eig = symmetricEigenDecomposition(a, n);
  const ref = reference(a, n);
  const norm = Math.max(Math.abs(ref[0]), Math.abs(ref[n - 1])) || 1;
  expect(eig.values.length).toBe(n);
  let worstValue = 0;
  for (let i = 0; i < n; i++) worstValue = Math.max(worstValue, Math.abs(eig.values[i] - ref[i]) / norm);
  expect(worstValue).toBeLessThan(1e-10);
  for (let i = 1; i < n; i++) expect(eig.values[i]).toBeGreaterThanOrEqual(eig.values[i - 1]);
  const vs = Array.from({ length: n }, (_, i) => eig.vector(i));
  let worstResidual = 0;
  let worstOrtho = 0;
  for (let i = 0; i < n; i++) {
    const av = matvec(a, n, vs[i]);
    let r = 0;
    for (let k = 0; k < n; k++) r += (av[k] - eig.values[i] * vs[i][k]) ** 2;
    worstResidual = Math.max(worstResidual, Math.sqrt(r) / norm);
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += vs[i][k] * vs[j][k];
      worstOrtho = Math.max(worstOrtho, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  expect(worstResidual).toBeLessThan(1e-9);
  expect(worstOrtho).toBeLessThan(1e-9);
  return { eig, ref };
}

describe('symmetricEigenDecomposition', () => {
  it('matches ml-matrix on random Gaussian symmetric matrices, n = 1..40 and 120', () => {
    const rng = new Rng(901);
    for (let n = 1; n <= 40; n++) check(gaussian(rng, n), n);
    check(gaussian(rng, 120), 120);
  });

  it('handles repeated eigenvalues (multiplicity 1, 3, 10 and 40) with orthonormal eigenvectors', () => {
    const rng = new Rng(902);
    const n = 120;
    const lambda = Array.from({ length: n }, (_, i) => (i < 40 ? 2 : i < 50 ? -1 : i < 53 ? 0.5 : rng.normal()));
    const { eig } = check(withSpectrum(rng, lambda), n);
    expect(eig.values.filter((v) => Math.abs(v - 2) < 1e-10).length).toBe(40);
    expect(eig.values.filter((v) => Math.abs(v + 1) < 1e-10).length).toBe(10);
  });

  it('handles tight clusters (gaps 1e-6 to 1e-13 of the norm)', () => {
    const rng = new Rng(903);
    const n = 80;
    const lambda = Array.from({ length: n }, (_, i) => (i < 20 ? 1 + i * 1e-13 : i < 40 ? 3 + i * 1e-6 : i < 50 ? -2 + i * 1e-9 : rng.normal()));
    check(withSpectrum(rng, lambda), n);
  });

  it('handles a rank-deficient matrix (rank 7 of 60): 53 zero eigenvalues', () => {
    const rng = new Rng(904);
    const n = 60;
    const r = 7;
    const b = Float64Array.from({ length: n * r }, () => rng.normal());
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < r; k++) a[i * n + j] += b[i * r + k] * b[j * r + k];
    const { eig } = check(a, n);
    expect(eig.values.filter((v) => Math.abs(v) < 1e-10 * eig.values[n - 1]).length).toBe(n - r);
  });

  it('handles diagonal matrices (with repeats) and the zero matrix', () => {
    const n = 30;
    const diag = Array.from({ length: n }, (_, i) => [3, -1, 3, 0, 7][i % 5] * (1 + (i % 3)));
    const a = new Float64Array(n * n);
    diag.forEach((x, i) => (a[i * n + i] = x));
    const { eig } = check(a, n);
    expect(Array.from(eig.values)).toEqual([...diag].sort((x, y) => x - y));
    for (let i = 0; i < n; i++) {
      const v = eig.vector(i);
      // a diagonal matrix's eigenvectors are coordinate vectors
      expect(Math.max(...Array.from(v, Math.abs))).toBeCloseTo(1, 12);
    }
    const zero = symmetricEigenDecomposition(new Float64Array(16), 4);
    expect(Array.from(zero.values)).toEqual([0, 0, 0, 0]);
    expect(Array.from(zero.vector(2), Math.abs).reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
  });

  it('handles badly scaled matrices (entries 1e±200, 1e±250)', () => {
    const rng = new Rng(905);
    const n = 25;
    for (const scale of [1e-250, 1e-200, 1e200, 1e250]) {
      const g = gaussian(rng, n);
      const a = g.map((x) => x * scale);
      const eig = symmetricEigenDecomposition(a, n);
      // reference: the unscaled matrix's spectrum, scaled (ml-matrix's tql2 underflows at 1e-250)
      const ref = reference(g, n).map((x) => x * scale);
      const norm = Math.max(Math.abs(ref[0]), Math.abs(ref[n - 1]));
      eig.values.forEach((v, i) => expect(Math.abs(v - ref[i]) / norm).toBeLessThan(1e-10));
      const v = eig.vector(n - 1);
      const av = matvec(a, n, v);
      let r = 0;
      for (let k = 0; k < n; k++) r += ((av[k] - eig.values[n - 1] * v[k]) / norm) ** 2;
      expect(Math.sqrt(r)).toBeLessThan(1e-9);
    }
  });

  it('reads only the lower triangle, leaves its input alone, and is deterministic', () => {
    const rng = new Rng(906);
    const n = 50;
    const a = gaussian(rng, n);
    const lower = a.slice();
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) lower[i * n + j] = 1e6;
    const copy = lower.slice();
    const x = symmetricEigenDecomposition(lower, n);
    expect(Array.from(lower)).toEqual(Array.from(copy));
    const y = symmetricEigenDecomposition(a, n);
    expect(Array.from(x.values)).toEqual(Array.from(y.values));
    expect(Array.from(x.vector(n - 1))).toEqual(Array.from(y.vector(n - 1)));
    expect(Array.from(x.vector(3))).toEqual(Array.from(symmetricEigenDecomposition(a, n).vector(3)));
  });

  it('vectors() holds every eigenvector as a column', () => {
    const rng = new Rng(907);
    const n = 20;
    const a = gaussian(rng, n);
    const eig = symmetricEigenDecomposition(a, n);
    const V = eig.vectors();
    for (const i of [0, 9, n - 1]) {
      const v = eig.vector(i);
      for (let k = 0; k < n; k++) expect(V[k * n + i]).toBe(v[k]);
    }
    expect(() => eig.vector(n)).toThrow(RangeError);
  });
});

describe('householderTridiagonalize / tridiagonalEigenvalues', () => {
  it('T = QᵀAQ: same spectrum, and Q maps the coordinate vectors to an orthonormal basis', () => {
    const rng = new Rng(908);
    const n = 35;
    const a = gaussian(rng, n);
    const tri = householderTridiagonalize(a, n);
    expect(tri.offDiagonal[0]).toBe(0);
    const tv = tridiagonalEigenvalues(tri.diagonal, tri.offDiagonal);
    const ref = reference(a, n);
    tv.forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThan(1e-12 * Math.abs(ref[0])));
    // columns of Q; check Qᵀ A Q is the tridiagonal matrix
    const Q = Array.from({ length: n }, (_, c) => {
      const z = new Float64Array(n);
      z[c] = 1;
      tri.applyQ(z);
      return z;
    });
    for (let i = 0; i < n; i++) {
      const aq = matvec(a, n, Q[i]);
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += Q[j][k] * aq[k];
        const t = i === j ? tri.diagonal[i] : Math.abs(i - j) === 1 ? tri.offDiagonal[Math.max(i, j)] : 0;
        expect(Math.abs(s - t)).toBeLessThan(1e-12 * 10);
      }
    }
  });

  it('gives the analytic spectrum of the second-difference matrix, 2 − 2cos(kπ/(n+1))', () => {
    const n = 300;
    const d = new Float64Array(n).fill(2);
    const e = new Float64Array(n).fill(-1);
    e[0] = 0;
    const w = tridiagonalEigenvalues(d, e);
    for (let k = 1; k <= n; k++) expect(Math.abs(w[k - 1] - (2 - 2 * Math.cos((k * Math.PI) / (n + 1))))).toBeLessThan(1e-13);
  });
});
