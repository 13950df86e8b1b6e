import { describe, expect, it } from 'vitest';
import { Rng } from './rng';

// Statistical checks use fixed seeds (so they are deterministic) and bounds of 4–5 standard errors
// around the exact value, wide enough that a correct generator passes with any seed and narrow
// enough that a biased one (an off-by-one in a bucket, a wrong variance) fails.

const N = 40_000;

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/** The k-th central moment. */
function central(xs: ArrayLike<number>, k: number): number {
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i] - m) ** k;
  return s / xs.length;
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Pearson's χ² of bucket counts against equal expected counts. */
function chiSquare(counts: readonly number[]): number {
  const total = counts.reduce((s, c) => s + c, 0);
  const e = total / counts.length;
  return counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
}

/** A generous upper bound on χ² with `dof` degrees of freedom: mean + 5 standard deviations. */
const chiBound = (dof: number) => dof + 5 * Math.sqrt(2 * dof);

function draws(rng: Rng, n: number, f: (r: Rng) => number): Float64Array {
  return Float64Array.from({ length: n }, () => f(rng));
}

describe('Rng: determinism', () => {
  const everything = (r: Rng) => [
    r.uint32(),
    r.tfSeed(),
    r.uniform(),
    r.int(1000),
    r.normal(),
    r.normal(),
    r.normal(),
    ...r.normalArray(5, 2, 1),
    ...r.uniformArray(5, -1, 3),
    ...r.permutation(10),
    ...r.rademacher(8),
  ];

  it('gives the same numbers for the same seed, from every method', () => {
    expect(everything(new Rng(42))).toEqual(everything(new Rng(42)));
    expect(everything(new Rng(0))).toEqual(everything(new Rng(0)));
  });

  it('gives different numbers for different seeds', () => {
    const a = everything(new Rng(1));
    const b = everything(new Rng(2));
    expect(a.filter((x, i) => x !== b[i]).length).toBeGreaterThan(a.length / 2);
  });

  it('takes seeds modulo 2³² and refuses non-integers', () => {
    expect(new Rng(-1).seed).toBe(2 ** 32 - 1);
    expect(new Rng(2 ** 32 + 7).seed).toBe(7);
    expect(everything(new Rng(-1))).toEqual(everything(new Rng(2 ** 32 - 1)));
    expect(() => new Rng(1.5)).toThrow(TypeError);
    expect(() => new Rng(Number.NaN)).toThrow('Rng seed must be an integer, got NaN');
  });
});

describe('Rng.split', () => {
  it('depends only on the seed and the label, not on what was drawn before', () => {
    const fresh = new Rng(7);
    const used = new Rng(7);
    for (let i = 0; i < 1000; i++) used.normal();
    used.split('data').uniform();
    expect(draws(used.split('init'), 50, (r) => r.uniform())).toEqual(draws(fresh.split('init'), 50, (r) => r.uniform()));
    expect(used.split('init').seed).toBe(fresh.split('init').seed);
  });

  it('gives distinct, uncorrelated streams for distinct labels, seeds and depths', () => {
    const root = new Rng(11);
    const streams = {
      parent: new Rng(11),
      a: root.split('a'),
      b: root.split('b'),
      ab: root.split('a').split('b'),
      ba: root.split('b').split('a'),
      otherSeed: new Rng(12).split('a'),
    };
    const seeds = Object.values(streams).map((r) => r.seed);
    expect(new Set(seeds).size).toBe(seeds.length);
    const xs = Object.fromEntries(Object.entries(streams).map(([k, r]) => [k, draws(r, 10_000, (q) => q.normal())]));
    const keys = Object.keys(xs);
    // independent streams: each sample correlation is ~ N(0, 1/n); 5/√n bounds all 15 pairs
    for (let i = 0; i < keys.length; i++) {
      for (let j = i + 1; j < keys.length; j++) {
        expect(Math.abs(correlation(xs[keys[i]], xs[keys[j]])), `${keys[i]} vs ${keys[j]}`).toBeLessThan(5 / Math.sqrt(10_000));
      }
    }
    // and not shifted copies of one another (lag-1 cross-correlation)
    expect(Math.abs(correlation(xs.a.subarray(1), xs.b.subarray(0, 9_999)))).toBeLessThan(5 / Math.sqrt(10_000));
  });

  it('is not the parent stream and not the same for labels that differ in one character', () => {
    const r = new Rng(3);
    expect(r.split('x1').seed).not.toBe(r.split('x2').seed);
    expect(r.split('').seed).not.toBe(r.seed);
    expect(draws(r.split('x1'), 5, (q) => q.uint32())).not.toEqual(draws(r.split('x2'), 5, (q) => q.uint32()));
  });
});

describe('Rng: distributions (moments with error bars that cover the exact values)', () => {
  it('uniform: in [0, 1) on a 2⁻⁵³ grid, mean 1/2 and variance 1/12', () => {
    const u = draws(new Rng(21), N, (r) => r.uniform());
    expect(u.every((x) => x >= 0 && x < 1 && Number.isInteger(x * 2 ** 53))).toBe(true);
    // se(mean) = √(1/12 / N); se(variance) = √((μ₄ − σ⁴)/N) with μ₄ = 1/80
    expect(Math.abs(mean(u) - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(central(u, 2) - 1 / 12)).toBeLessThan(5 * Math.sqrt((1 / 80 - 1 / 144) / N));
    // equidistributed over 20 bins
    const bins = Array<number>(20).fill(0);
    for (const x of u) bins[Math.floor(x * 20)]++;
    expect(chiSquare(bins)).toBeLessThan(chiBound(19));
  });

  it('normal: mean 0, variance 1, skewness 0, kurtosis 3', () => {
    const z = draws(new Rng(22), N, (r) => r.normal());
    const v = central(z, 2);
    // se: mean 1/√N; variance √(2/N); skewness √(6/N); kurtosis √(24/N)
    expect(Math.abs(mean(z))).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(v - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    expect(Math.abs(central(z, 3) / v ** 1.5)).toBeLessThan(5 * Math.sqrt(6 / N));
    expect(Math.abs(central(z, 4) / v ** 2 - 3)).toBeLessThan(5 * Math.sqrt(24 / N));
    // tails: P(|z| > 2) = 0.0455
    const p = z.filter((x) => Math.abs(x) > 2).length / N;
    expect(Math.abs(p - 0.0455)).toBeLessThan(5 * Math.sqrt((0.0455 * 0.9545) / N));
  });

  it('normalArray and uniformArray: scaled and shifted as asked, float32', () => {
    const rng = new Rng(23);
    const z = rng.normalArray(N, 3, -2);
    expect(z).toBeInstanceOf(Float32Array);
    expect(Math.abs(mean(z) + 2)).toBeLessThan(5 * (3 / Math.sqrt(N)));
    expect(Math.abs(Math.sqrt(central(z, 2)) - 3)).toBeLessThan(5 * 3 * Math.sqrt(1 / (2 * N)));
    const u = rng.uniformArray(N, -1, 3);
    expect(u).toBeInstanceOf(Float32Array);
    expect(u.every((x) => x >= -1 && x <= 3)).toBe(true);
    expect(Math.abs(mean(u) - 1)).toBeLessThan(5 * Math.sqrt(16 / 12 / N));
  });

  it('int: every value of [0, n) equally often, nothing outside; n ≤ 0 refused', () => {
    const rng = new Rng(24);
    for (const n of [1, 2, 7, 10]) {
      const counts = Array<number>(n).fill(0);
      let outside = 0;
      for (let i = 0; i < 20_000; i++) {
        const k = rng.int(n);
        if (Number.isInteger(k) && k >= 0 && k < n) counts[k]++;
        else outside++;
      }
      expect(outside, `n = ${n}`).toBe(0);
      if (n > 1) expect(chiSquare(counts), `n = ${n}`).toBeLessThan(chiBound(n - 1));
    }
    expect(() => rng.int(0)).toThrow(RangeError);
    expect(() => rng.int(-3)).toThrow('Rng.int needs n > 0, got -3');
  });

  it('uint32 and tfSeed: 32-bit and non-negative 31-bit integers with balanced bits', () => {
    const rng = new Rng(25);
    const ones = Array<number>(32).fill(0);
    let bad = 0;
    for (let i = 0; i < 20_000; i++) {
      const x = rng.uint32();
      if (!(Number.isInteger(x) && x >= 0 && x < 2 ** 32)) bad++;
      for (let b = 0; b < 32; b++) if ((x >>> b) & 1) ones[b]++;
      const s = rng.tfSeed();
      if (!(Number.isInteger(s) && s >= 0 && s < 2 ** 31)) bad++;
    }
    expect(bad).toBe(0);
    // each bit is a fair coin: 20,000 flips, se √(20000/4)
    for (let b = 0; b < 32; b++) expect(Math.abs(ones[b] - 10_000), `bit ${b}`).toBeLessThan(5 * Math.sqrt(5000));
  });

  it('rademacher: ±1 only, mean 0', () => {
    const r = new Rng(26).rademacher(N);
    expect(r.every((x) => x === 1 || x === -1)).toBe(true);
    expect(Math.abs(mean(r))).toBeLessThan(5 / Math.sqrt(N));
  });

  it('permutation: a permutation of 0..n−1, every element equally likely in every place', () => {
    const rng = new Rng(27);
    const n = 6;
    const where = Array.from({ length: n }, () => Array<number>(n).fill(0));
    let notPermutations = 0;
    for (let t = 0; t < 12_000; t++) {
      const p = rng.permutation(n);
      if ([...p].sort((a, b) => a - b).join() !== '0,1,2,3,4,5') notPermutations++;
      p.forEach((v, i) => where[v][i]++);
    }
    expect(notPermutations).toBe(0);
    for (let v = 0; v < n; v++) expect(chiSquare(where[v]), `element ${v}`).toBeLessThan(chiBound(n - 1));
    expect(rng.permutation(0)).toEqual(new Int32Array(0));
    expect(rng.permutation(1)).toEqual(Int32Array.from([0]));
  });
});
