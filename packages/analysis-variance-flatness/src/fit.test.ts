import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { linearFit, logGamma, powerLawFit, studentTCdf, studentTQuantile } from './fit';

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
