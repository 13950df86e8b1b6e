import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { coarseGrainCumulants, sampleCumulants } from './cumulants';

/** The k-statistics from power sums (Fisher's textbook form), an independent formula. */
function kStatsFromPowerSums(x: number[]): number[] {
  const n = x.length;
  const S = [0, 0, 0, 0, 0];
  for (const v of x) for (let p = 1; p <= 4; p++) S[p] += v ** p;
  const [, S1, S2, S3, S4] = S;
  const k1 = S1 / n;
  const k2 = (n * S2 - S1 ** 2) / (n * (n - 1));
  const k3 = (2 * S1 ** 3 - 3 * n * S1 * S2 + n ** 2 * S3) / (n * (n - 1) * (n - 2));
  const k4 =
    (-6 * S1 ** 4 + 12 * n * S1 ** 2 * S2 - 3 * n * (n - 1) * S2 ** 2 - 4 * n * (n + 1) * S1 * S3 + n ** 2 * (n + 1) * S4) /
    (n * (n - 1) * (n - 2) * (n - 3));
  return [k1, k2, k3, k4];
}

describe('sampleCumulants', () => {
  it('matches the power-sum form of the k-statistics', () => {
    const cases = [
      [1, 2, 3, 4, 10],
      [0.5, -1.25, 3, 7, 7, -2, 0.125],
      Array.from({ length: 40 }, (_, i) => Math.sin(i) * i),
    ];
    for (const x of cases) {
      const got = sampleCumulants(x);
      const want = kStatsFromPowerSums(x);
      for (let i = 0; i < 4; i++) expect(got[i]).toBeCloseTo(want[i], 9);
    }
  });

  it('is shift-invariant above order 1 and scales as cⁿ', () => {
    const rng = new Rng(3);
    const x = Array.from({ length: 101 }, () => rng.normal() ** 3);
    const [k1, k2, k3, k4] = sampleCumulants(x);
    const [s1, s2, s3, s4] = sampleCumulants(x.map((v) => -2 * v + 5));
    expect(s1).toBeCloseTo(-2 * k1 + 5, 10);
    expect(s2).toBeCloseTo(4 * k2, 9);
    expect(s3).toBeCloseTo(-8 * k3, 8);
    expect(s4).toBeCloseTo(16 * k4, 7);
  });

  it('is unbiased: averaged over many small samples it recovers the exact cumulants', () => {
    // Exp(1) has κₙ = (n−1)!; samples of 8 are far too small for plain moments to be unbiased.
    const rng = new Rng(11);
    const reps = 40000;
    const acc = [0, 0, 0, 0];
    for (let r = 0; r < reps; r++) {
      const x = Array.from({ length: 8 }, () => -Math.log(1 - rng.uniform()));
      const k = sampleCumulants(x);
      for (let i = 0; i < 4; i++) acc[i] += k[i] / reps;
    }
    expect(acc[0]).toBeCloseTo(1, 1);
    expect(acc[1]).toBeCloseTo(1, 1);
    expect(Math.abs(acc[2] - 2)).toBeLessThan(0.15);
    expect(Math.abs(acc[3] - 6)).toBeLessThan(1);
  });

  it('refuses fewer than 4 values', () => {
    expect(() => sampleCumulants([1, 2, 3])).toThrow(/at least 4/);
  });
});

describe('coarseGrainCumulants', () => {
  it('applies κₙ′ = b^(k(1−n/2)) κₙ', () => {
    expect(coarseGrainCumulants([0, 1, 2, 6], 2)).toEqual([0, 1, 2 / Math.SQRT2, 3].map((v, i) => (i === 0 ? 0 : v)));
    const twice = coarseGrainCumulants([0, 1, 2, 6], 2, 2);
    expect(twice[2]).toBeCloseTo(1, 12);
    expect(twice[3]).toBeCloseTo(1.5, 12);
    const b3 = coarseGrainCumulants([1, 1, 1, 1], 3);
    expect(b3[0]).toBeCloseTo(Math.sqrt(3), 12);
    expect(b3[2]).toBeCloseTo(1 / Math.sqrt(3), 12);
    expect(b3[3]).toBeCloseTo(1 / 3, 12);
  });
});
