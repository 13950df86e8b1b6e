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

/** ∫ f over [a, b] by composite Simpson with n (even) intervals. */
function simpson(f: (x: number) => number, a: number, b: number, n = 20000): number {
  const h = (b - a) / n;
  let s = f(a) + f(b);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * f(a + i * h);
  return (s * h) / 3;
}

const SQRT3 = Math.sqrt(3);
const S = Math.SQRT1_2;
/** Densities of the standardised distributions, as pieces [a, b, pdf] without kinks inside. */
const densities: Record<string, Array<[number, number, (x: number) => number]>> = {
  gaussian: [[-40, 40, (x) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI)]],
  uniform: [[-SQRT3, SQRT3, () => 1 / (2 * SQRT3)]],
  laplace: [
    [-80, 0, (x) => Math.exp(x / S) / (2 * S)],
    [0, 80, (x) => Math.exp(-x / S) / (2 * S)],
  ],
  exponential: [[-1, 80, (x) => Math.exp(-(x + 1))]],
  // (G − k)/√k with G ~ Gamma(k): density √k·g(k + √k·x), g(t) = t^(k−1) e^(−t) / (k − 1)!
  'gamma-2': [[-Math.sqrt(2), 80, (x) => { const t = 2 + Math.SQRT2 * x; return Math.SQRT2 * t * Math.exp(-t); }]],
  'gamma-9': [[-3, 60, (x) => { const t = 9 + 3 * x; return (3 * t ** 8 * Math.exp(-t)) / 40320; }]],
};

describe('exactCumulants', () => {
  it.each(Object.keys(densities))('%s: agree with cumulants integrated from the density', (key) => {
    const [dist, shape] = key.split('-') as [DistributionName, string | undefined];
    const moment = (n: number) => densities[key].reduce((acc, [a, b, pdf]) => acc + simpson((x) => x ** n * pdf(x), a, b), 0);
    const [m0, m1, m2, m3, m4] = [0, 1, 2, 3, 4].map(moment);
    expect(m0).toBeCloseTo(1, 8);
    // cumulants from raw moments (general formulas, not assuming mean 0)
    const k1 = m1;
    const k2 = m2 - m1 ** 2;
    const k3 = m3 - 3 * m2 * m1 + 2 * m1 ** 3;
    const k4 = m4 - 4 * m3 * m1 - 3 * m2 ** 2 + 12 * m2 * m1 ** 2 - 6 * m1 ** 4;
    const exact = exactCumulants(dist, { shape: shape ? Number(shape) : undefined });
    [k1, k2, k3, k4].forEach((k, i) => expect(k, `κ${i + 1}`).toBeCloseTo(exact[i], 6));
  });

  it('±1 spins: κ₄ = E x⁴ − 3 (E x²)² = −2', () => {
    expect(exactCumulants('spins')).toEqual([0, 1, 0, 1 - 3]);
  });
});

/** Kolmogorov–Smirnov distance between a sample and a CDF. */
function ksDistance(x: Float32Array, cdf: (v: number) => number): number {
  const s = Array.from(x).sort((a, b) => a - b);
  let d = 0;
  s.forEach((v, i) => {
    const F = cdf(v);
    d = Math.max(d, Math.abs(F - i / s.length), Math.abs((i + 1) / s.length - F));
  });
  return d;
}

/** Φ by the error function (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

describe('sampleSpins', () => {
  it.each([
    ['gaussian', normalCdf],
    ['uniform', (v: number) => Math.min(1, Math.max(0, (v + SQRT3) / (2 * SQRT3)))],
    ['laplace', (v: number) => (v < 0 ? 0.5 * Math.exp(v / S) : 1 - 0.5 * Math.exp(-v / S))],
    ['exponential', (v: number) => (v <= -1 ? 0 : 1 - Math.exp(-(v + 1)))],
    ['gamma', (v: number) => { const t = 2 + Math.SQRT2 * v; return t <= 0 ? 0 : 1 - Math.exp(-t) * (1 + t); }],
  ] as Array<[DistributionName, (v: number) => number]>)('%s: passes a Kolmogorov–Smirnov test against the exact CDF', (dist, cdf) => {
    const n = 20000;
    const d = ksDistance(sampleSpins(dist, n, new Rng(99).split(dist)), cdf);
    // 1.95/√n is the 0.1 % critical value; a sampler off by a few percent in scale fails it.
    expect(d).toBeLessThan(1.95 / Math.sqrt(n));
  });

  it('±1 spins are fair', () => {
    const x = sampleSpins('spins', 40000, new Rng(4));
    const plus = x.filter((v) => v === 1).length / x.length;
    expect(Math.abs(plus - 0.5)).toBeLessThan(4 * Math.sqrt(0.25 / x.length));
  });

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
