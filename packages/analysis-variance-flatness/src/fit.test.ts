import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { bootstrapFits, bootstrapMean, linearFit, logGamma, powerLawFit, resampler, slopes, studentTCdf, studentTQuantile } from './fit';

describe('Student t and the fits', () => {
  it('matches tabulated t quantiles and Γ', () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.7062, 3);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.2281, 4);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.0423, 4);
    expect(studentTQuantile(0.975, 1e7)).toBeCloseTo(1.95996, 4);
    expect(studentTQuantile(0.025, 10)).toBeCloseTo(-2.2281, 4);
    expect(studentTCdf(0, 4)).toBeCloseTo(0.5, 12);
    // Cauchy (df = 1): CDF = ½ + atan(t)/π.
    expect(studentTCdf(2, 1)).toBeCloseTo(0.5 + Math.atan(2) / Math.PI, 10);
  });

  it('recovers an exact power law, and its interval covers the true exponent under noise', () => {
    const x = [1, 2, 3, 5, 8, 13, 21];
    const exact = powerLawFit(x, x.map((v) => 3 * v ** -4));
    expect(exact.exponent).toBeCloseTo(-4, 10);
    expect(exact.prefactor).toBeCloseTo(3, 10);
    expect(exact.r2).toBeCloseTo(1, 12);
    const rng = new Rng(7);
    let covered = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const xs = Array.from({ length: 10 }, (_, i) => i);
      const ys = xs.map((v) => 1 + 2 * v + 0.5 * rng.normal());
      const f = linearFit(xs, ys);
      if (f.slopeCi[0] <= 2 && 2 <= f.slopeCi[1]) covered++;
    }
    // 95 % intervals: coverage 0.95 ± 3 standard errors (0.011).
    expect(covered / trials).toBeGreaterThan(0.91);
    expect(covered / trials).toBeLessThan(0.99);
  });

  it('refuses too few or non-positive points', () => {
    expect(() => linearFit([1, 2], [1, 2])).toThrow(/at least 3/);
    expect(() => powerLawFit([1, 2, 0], [1, 2, 3])).toThrow(/not positive/);
  });
});

/** A seeded standard normal (Box–Muller on the resampler's uniform stream). */
function normals(seed: number): () => number {
  const u = resampler(seed);
  const uni = () => (u(2 ** 31) + 0.5) / 2 ** 31;
  return () => Math.sqrt(-2 * Math.log(uni())) * Math.cos(2 * Math.PI * uni());
}

/** y = a + β ξ + σy ε, x = ξ + σx ε', ξ ~ N(0, vξ): noise in both variables. */
function draw(n: number, seed: number, beta: number, vXi: number, sx: number, sy: number) {
  const g = normals(seed);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const xi = Math.sqrt(vXi) * g();
    x.push(xi + sx * g());
    y.push(1 + beta * xi + sy * g());
  }
  return { x, y };
}

describe('OLS, reverse and reduced-major-axis slopes', () => {
  it('match the closed forms Sxy/Sxx, Syy/Sxy and sign(Sxy)√(Syy/Sxx) on a small data set', () => {
    const x = [1, 2, 3, 4, 5];
    const y = [2, 1, 4, 3, 6];
    // means 3 and 3.2; Sxx = 10, Syy = 14.8, Sxy = 10
    const s = slopes(x, y);
    expect(s.ols).toBeCloseTo(1, 12);
    expect(s.reverse).toBeCloseTo(1.48, 12);
    expect(s.rma).toBeCloseTo(Math.sqrt(1.48), 12);
    expect(s.r2).toBeCloseTo(100 / 148, 12);
    // a negative relation keeps its sign in every estimator
    const neg = slopes(x, y.map((v) => -v));
    expect([neg.ols, neg.reverse, neg.rma].every((v) => v < 0)).toBe(true);
    // RMA is the geometric mean of the other two, and OLS ≤ RMA ≤ reverse in size
    expect(s.rma).toBeCloseTo(Math.sqrt(s.ols * s.reverse), 12);
  });

  it('converge to their large-sample limits with noise in both variables', () => {
    // β = −3, var ξ = 1, σx = 0.5, σy = 1: OLS → β vξ/(vξ + σx²) = −2.4; reverse → (β²vξ + σy²)/(β vξ) = −10/3;
    // RMA → −√((β²vξ + σy²)/(vξ + σx²)) = −√8 ≈ −2.83. The true −3 lies between OLS and reverse.
    const { x, y } = draw(200_000, 7, -3, 1, 0.5, 1);
    const s = slopes(x, y);
    expect(s.ols).toBeCloseTo(-2.4, 1);
    expect(s.reverse).toBeCloseTo(-10 / 3, 1);
    expect(s.rma).toBeCloseTo(-Math.sqrt(8), 1);
    expect(s.r2).toBeCloseTo(9 / (1.25 * 10), 1); // (β vξ)² / ((vξ + σx²)(β² vξ + σy²)) = 0.72
  });

  it('RMA is consistent when the noise variances are in the ratio β², OLS when x is exact', () => {
    const rma = slopes(...Object.values(draw(200_000, 8, 2, 1, 0.5, 1)) as [number[], number[]]);
    expect(rma.rma).toBeCloseTo(2, 1);
    const ols = slopes(...Object.values(draw(200_000, 9, 2, 1, 0, 1)) as [number[], number[]]);
    expect(ols.ols).toBeCloseTo(2, 1);
  });
});

describe('bootstrap intervals', () => {
  it('are deterministic per seed and differ between seeds', () => {
    const { x, y } = draw(40, 3, 1.5, 1, 0, 0.5);
    const a = bootstrapFits(x, y, { resamples: 1000, seed: 11 });
    const b = bootstrapFits(x, y, { resamples: 1000, seed: 11 });
    const c = bootstrapFits(x, y, { resamples: 1000, seed: 12 });
    expect(a).toEqual(b);
    expect(a.ols.ci).not.toEqual(c.ols.ci);
    expect(a.ols.resamples).toBe(1000);
    for (const e of ['ols', 'reverse', 'rma'] as const) {
      expect(a[e].ci[0]).toBeLessThan(a[e].slope);
      expect(a[e].ci[1]).toBeGreaterThan(a[e].slope);
    }
  });

  it('the 90 % interval over points covers the true slope at about its level over many draws', () => {
    // OLS with exact x, RMA with noise variances in the ratio β² (where each is consistent); 300 draws of 40 points
    const level = 0.9;
    const draws = 300;
    let olsHits = 0;
    let rmaHits = 0;
    for (let d = 0; d < draws; d++) {
      const o = draw(40, 1000 + d, 2, 1, 0, 1);
      const fo = bootstrapFits(o.x, o.y, { resamples: 1000, level, seed: d + 1 });
      if (fo.ols.ci[0] <= 2 && 2 <= fo.ols.ci[1]) olsHits++;
      const r = draw(40, 5000 + d, 2, 1, 0.5, 1);
      const fr = bootstrapFits(r.x, r.y, { resamples: 1000, level, seed: d + 1 });
      if (fr.rma.ci[0] <= 2 && 2 <= fr.rma.ci[1]) rmaHits++;
    }
    // binomial s.d. at 300 draws ≈ 1.7 %; percentile intervals at n = 40 run slightly narrow
    expect(olsHits / draws).toBeGreaterThan(0.82);
    expect(olsHits / draws).toBeLessThan(0.96);
    expect(rmaHits / draws).toBeGreaterThan(0.82);
    expect(rmaHits / draws).toBeLessThan(0.96);
  });

  it('bootstrapMean over seeds: the mean, a percentile interval inside the range, deterministic', () => {
    const v = [2.2, 2.4, 2.5, 2.3, 2.6];
    const m = bootstrapMean(v, { seed: 4 });
    expect(m.mean).toBeCloseTo(2.4, 12);
    expect(m.ci[0]).toBeGreaterThanOrEqual(2.2);
    expect(m.ci[1]).toBeLessThanOrEqual(2.6);
    expect(m.ci[0]).toBeLessThan(2.4);
    expect(m.ci[1]).toBeGreaterThan(2.4);
    expect(bootstrapMean(v, { seed: 4 })).toEqual(m);
  });
});
