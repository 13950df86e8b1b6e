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
  ...DISTRIBUTIONS.filter((d) => d !== 'gamma' && d !== 'student-t').map((d): [DistributionName, undefined] => [d, undefined]),
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

/**
 * CDF of the standardised Student-t with ν = 5 (x = t·√(3/5)): with θ = atan(t/√5),
 * F = ½ + (θ + sinθ cosθ (1 + ⅔ cos²θ))/π (the closed form for odd ν).
 */
function studentT5Cdf(x: number): number {
  const th = Math.atan((x * Math.sqrt(5 / 3)) / Math.sqrt(5));
  const c = Math.cos(th);
  return 0.5 + (th + Math.sin(th) * c * (1 + (2 / 3) * c * c)) / Math.PI;
}

describe('student-t', () => {
  it('ν = 5, scaled to unit variance: variance 1 and κ₄ near 6/(ν − 4) = 6 at a large sample', () => {
    expect(exactCumulants('student-t')).toEqual([0, 1, 0, 6]);
    expect(exactCumulants('student-t', { nu: 7 })).toEqual([0, 1, 0, 2]);
    const n = 2_000_000;
    const x = sampleSpins('student-t', n, new Rng(5).split('student-t'));
    const [k1, k2, k3, k4] = sampleCumulants(x);
    // E x⁴ is finite (ν > 4), so k₂ has the usual error √((κ₄ + 2)/n) ≈ 0.002
    expect(Math.abs(k2 - 1)).toBeLessThan(5 * Math.sqrt(8 / n));
    expect(Math.abs(k1)).toBeLessThan(5 / Math.sqrt(n));
    // the 6th and 8th moments diverge at ν = 5, so k₃ and k₄ have no finite standard error and
    // k₄ sits mostly below κ₄ (measured 4.85, 5.01, 5.17 at seeds 5, 1, 2); a loose band catches a
    // wrong scale (κ₄ ∝ scale⁴) or ν, and the truncated moment below checks the tail precisely
    expect(Math.abs(k3)).toBeLessThan(1);
    expect(k4).toBeGreaterThan(4);
    expect(k4).toBeLessThan(8);
    // E[x⁴; |x| < L] has a finite variance: sample mean against the density's integral, 5 SE
    const L = 10;
    // standardised t₅ density: 8/(3π√3) (1 + x²/3)^(−3)
    const pdf = (v: number): number => (8 / (3 * Math.PI * Math.sqrt(3))) * (1 + (v * v) / 3) ** -3;
    const exact = simpson((v) => v ** 4 * pdf(v), -L, L);
    let m = 0;
    let m2 = 0;
    for (const v of x) {
      const t = Math.abs(v) < L ? v ** 4 : 0;
      m += t;
      m2 += t * t;
    }
    m /= n;
    const se = Math.sqrt((m2 / n - m * m) / n);
    expect(Math.abs(m - exact), `E[x⁴; |x| < ${L}] = ${m} ± ${se} vs ${exact}`).toBeLessThan(5 * se);
    // and the full integral (analytic tail ∫_L^∞ x⁴ g ≈ 8·27/(3π√3)/L, 2% of it at L = 10⁴) gives κ₄ = 6
    const big = 1e4;
    const full = simpson((v) => v ** 4 * pdf(v), -big, big, 2_000_000) + (2 * 8 * 27) / (3 * Math.PI * Math.sqrt(3) * big);
    expect(full - 3).toBeCloseTo(6, 2);
  });

  it('ν = 9: k₄ within 5 batch-means standard errors of 6/(ν − 4) (finite 8th moment)', () => {
    const x = sampleSpins('student-t', 400_000, new Rng(6).split('student-t'), { nu: 9 });
    const { k, se } = cumulantsWithErrors(x, 25);
    expect(Math.abs(k[1] - 1)).toBeLessThan(5 * se[1]);
    expect(Math.abs(k[3] - 6 / 5)).toBeLessThan(5 * se[3]);
  });

  it('rejects ν ≤ 4 (κ₄ infinite)', () => {
    expect(() => sampleSpins('student-t', 4, new Rng(1), { nu: 4 })).toThrow(/> 4/);
    expect(() => exactCumulants('student-t', { nu: 3 })).toThrow(/> 4/);
  });
});

describe('sampleSpins', () => {
  it.each([
    ['gaussian', normalCdf],
    ['uniform', (v: number) => Math.min(1, Math.max(0, (v + SQRT3) / (2 * SQRT3)))],
    ['laplace', (v: number) => (v < 0 ? 0.5 * Math.exp(v / S) : 1 - 0.5 * Math.exp(-v / S))],
    ['exponential', (v: number) => (v <= -1 ? 0 : 1 - Math.exp(-(v + 1)))],
    ['gamma', (v: number) => { const t = 2 + Math.SQRT2 * v; return t <= 0 ? 0 : 1 - Math.exp(-t) * (1 + t); }],
    ['student-t', studentT5Cdf],
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
