import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { lanczosDecomposition, tridiagonalEigen } from './lanczos';
import { denseOperator } from './linear-operator';
import { probeBracket, studentTUpperQuantile, windowBracket, type MonotoneFunction } from './quadrature-bounds';
import type { Quadrature } from './spectral-density';
import { SPECTRA } from './test-support';

/** One Gauss rule of μ_v = Σ (qᵢ·v)² δ(λᵢ) for a diagonal operator, and the weights (vᵢ²) of the exact measure. */
async function gaussRule(lambdas: number[], steps: number, rng: Rng): Promise<{ q: Quadrature; weights: number[] }> {
  const n = lambdas.length;
  const diag = new Float64Array(n * n);
  lambdas.forEach((l, i) => (diag[i * n + i] = l));
  const v = Float64Array.from(rng.normalArray(n));
  const nv = Math.hypot(...v);
  const d = await lanczosDecomposition(denseOperator(diag, n), { steps, start: v, rng });
  const { values, vectors } = tridiagonalEigen(d.alpha, d.beta);
  const exact = d.beta.includes(0) || d.alpha.length === n || d.betaLast <= 1e-10 * Math.max(...d.alpha.map(Math.abs), ...d.beta);
  return { q: { nodes: values, weights: vectors.map((s) => s[0] ** 2), exact }, weights: Array.from(v, (x) => (x / nv) ** 2) };
}

describe('Chebyshev–Markov–Stieltjes brackets of one Gauss rule', () => {
  // checked against the exact probe measure, over spectra, Krylov dimensions (including m = n and
  // invariant subspaces of repeated eigenvalues) and monotone functions
  it('contain ∫ f dμ for monotone f and for windows |λ| < c', async () => {
    const rng = new Rng(5);
    const n = 60;
    let checks = 0;
    for (const [name, spectrum] of Object.entries(SPECTRA)) {
      const lambdas = spectrum(n, rng);
      const lmin = Math.min(...lambdas);
      const lmax = Math.max(...lambdas);
      for (const steps of [2, 5, 12, 30, n]) {
        for (let rep = 0; rep < 3; rep++) {
          const { q, weights } = await gaussRule(lambdas, steps, rng);
          const truth = (f: (t: number) => number) => lambdas.reduce((s, l, i) => s + weights[i] * f(l), 0);
          const fns: MonotoneFunction[] = [
            ...[1e-4, 1e-2, 1].map((z) => ({ f: (t: number) => (t > 0 ? t / (t + z) : 0), increasing: true, atMinusInfinity: 0, atPlusInfinity: 1 })),
            ...[1e-4, 1].map((z) => ({ f: (t: number) => (t > 0 ? Math.log1p(t / z) : 0), increasing: true, atMinusInfinity: 0, atPlusInfinity: Infinity })),
            { f: (t: number) => (t < 0 ? 1 : 0), increasing: false, atMinusInfinity: 1, atPlusInfinity: 0 },
            { f: (t: number) => (t >= 2e-3 ? 1 : 0), increasing: true, atMinusInfinity: 0, atPlusInfinity: 1 },
          ];
          for (const fn of fns) {
            const b = probeBracket(q, fn, { upper: lmax, lower: lmin });
            const t = truth(fn.f);
            const slack = 1e-9 * Math.max(1, Math.abs(t));
            expect(b.lo, `${name} m=${steps}`).toBeLessThanOrEqual(t + slack);
            expect(b.hi, `${name} m=${steps}`).toBeGreaterThanOrEqual(t - slack);
            expect(b.lo).toBeLessThanOrEqual(b.value + slack);
            expect(b.hi).toBeGreaterThanOrEqual(b.value - slack);
            // without any spectrum bound the bounded functions stay bracketed
            if (Number.isFinite(fn.atPlusInfinity)) {
              const u = probeBracket(q, fn);
              expect(u.lo).toBeLessThanOrEqual(t + slack);
              expect(u.hi).toBeGreaterThanOrEqual(t - slack);
            }
            checks++;
          }
          for (const c of [1e-6, 1e-4, 1e-2, 0.6]) {
            const w = windowBracket(q, -c, c);
            const t = truth((x) => (Math.abs(x) < c ? 1 : 0));
            expect(w.lo, `${name} m=${steps} c=${c}`).toBeLessThanOrEqual(t + 1e-9);
            expect(w.hi, `${name} m=${steps} c=${c}`).toBeGreaterThanOrEqual(t - 1e-9);
            checks++;
          }
          if (steps === n) {
            expect(q.exact).toBe(true);
            const b = probeBracket(q, fns[0]);
            expect(b.hi - b.lo).toBe(0);
          }
        }
      }
    }
    expect(checks).toBe(495);
  });

  it('are exact (width 0) once the Krylov space is invariant: repeated eigenvalues', async () => {
    const rng = new Rng(6);
    const lambdas = Array.from({ length: 40 }, (_, i) => [3, 1, 0, -2][i % 4]);
    const { q, weights } = await gaussRule(lambdas, 20, rng);
    expect(q.exact).toBe(true);
    const fn: MonotoneFunction = { f: (t) => (t < 0 ? 1 : 0), increasing: false, atMinusInfinity: 1, atPlusInfinity: 0 };
    const b = probeBracket(q, fn);
    const t = lambdas.reduce((s, l, i) => s + (l < 0 ? weights[i] : 0), 0);
    expect(b.lo).toBe(b.hi);
    expect(b.value).toBeCloseTo(t, 10);
  });
});

describe('studentTUpperQuantile', () => {
  it('matches tabulated quantiles', () => {
    expect(studentTUpperQuantile(0.95, 1)).toBeCloseTo(6.3138, 3);
    expect(studentTUpperQuantile(0.95, 4)).toBeCloseTo(2.1318, 3);
    expect(studentTUpperQuantile(0.975, 9)).toBeCloseTo(2.2622, 3);
    expect(studentTUpperQuantile(0.95, 30)).toBeCloseTo(1.6973, 3);
    expect(studentTUpperQuantile(0.5, 3)).toBeCloseTo(0, 10);
    expect(() => studentTUpperQuantile(0.95, 0)).toThrow(RangeError);
  });
});
