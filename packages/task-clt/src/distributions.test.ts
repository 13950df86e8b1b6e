import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { DISTRIBUTIONS, exactCumulants, isSymmetric, sampleSpins, type DistributionName } from './distributions';
import { sampleCumulants } from './cumulants';

/** k-statistics of the whole sample and their standard errors by batch means over `groups` groups. */
function cumulantsWithErrors(x: Float32Array, groups: number): { k: number[]; se: number[] } {
  const k = sampleCumulants(x);
  const size = Math.floor(x.length / groups);
  const per = Array.from({ length: groups }, (_, g) => sampleCumulants(x.subarray(g * size, (g + 1) * size)));
  const se = [0, 1, 2, 3].map((i) => {
    const m = per.reduce((a, p) => a + p[i], 0) / groups;
    const v = per.reduce((a, p) => a + (p[i] - m) ** 2, 0) / (groups - 1);
    return Math.sqrt(v / groups);
  });
  return { k, se };
}

const cases: Array<[DistributionName, number | undefined]> = [
  ...DISTRIBUTIONS.filter((d) => d !== 'gamma').map((d): [DistributionName, undefined] => [d, undefined]),
  ['gamma', 2],
  ['gamma', 0.5], // exercises the k < 1 boost
  ['gamma', 9],
];

describe('sampleSpins', () => {
  it.each(cases)('%s (shape %s): sample cumulants match the exact ones within sampling error', (dist, shape) => {
    const x = sampleSpins(dist, 200_000, new Rng(1234).split(dist), { shape });
    const exact = exactCumulants(dist, { shape });
    const { k, se } = cumulantsWithErrors(x, 25);
    for (let i = 0; i < 4; i++) {
      // 5 standard errors, with a floor for the exactly-zero errors (κ₂ of ±1 spins is 1 up to 1/n).
      expect(Math.abs(k[i] - exact[i]), `κ${i + 1} of ${dist}: ${k[i]} vs ${exact[i]} ± ${se[i]}`).toBeLessThan(
        5 * se[i] + 1e-4,
      );
    }
  });

  it('standardises: exact κ₁ = 0 and κ₂ = 1 for every distribution', () => {
    for (const d of DISTRIBUTIONS) {
      const [k1, k2] = exactCumulants(d);
      expect(k1).toBe(0);
      expect(k2).toBe(1);
    }
  });

  it('has vanishing odd cumulants exactly for the symmetric distributions', () => {
    for (const d of DISTRIBUTIONS) expect(exactCumulants(d)[2] === 0).toBe(isSymmetric(d));
  });

  it('±1 spins take only the values ±1', () => {
    const x = sampleSpins('spins', 1000, new Rng(5));
    expect(new Set(x)).toEqual(new Set([1, -1]));
  });

  it('is deterministic per seed and differs across seeds', () => {
    for (const d of DISTRIBUTIONS) {
      const a = sampleSpins(d, 64, new Rng(7));
      const b = sampleSpins(d, 64, new Rng(7));
      const c = sampleSpins(d, 64, new Rng(8));
      expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
      expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
      expect(a.every(Number.isFinite)).toBe(true);
    }
  });

  it('rejects bad arguments', () => {
    expect(() => sampleSpins('cauchy' as DistributionName, 4, new Rng(1))).toThrow(/unknown distribution "cauchy"/);
    expect(() => sampleSpins('gamma', 4, new Rng(1), { shape: -1 })).toThrow(/gamma shape/);
    expect(() => sampleSpins('gaussian', 1.5, new Rng(1))).toThrow(/non-negative integer/);
  });
});
