import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { bootstrapSpearman, completePairs, meanSd, spearman } from './stats';

describe('spearman', () => {
  it('matches hand-computed values without ties: 1 − 6Σd²/(n(n²−1))', () => {
    // d = (−1, 1, −1, 1, 0), Σd² = 4: ρ = 1 − 24/120 = 0.8
    expect(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])).toBeCloseTo(0.8, 12);
    // ranks of y (10, 30, 20, 50, 40) are (1, 3, 2, 5, 4): the same ρ on any monotone transform
    expect(spearman([0.1, 0.2, 0.3, 0.4, 0.5], [10, 30, 20, 50, 40])).toBeCloseTo(0.8, 12);
    expect(spearman([1, 2, 3, 4], [1, 8, 27, 64])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
  });

  it('gives ties their average rank (Pearson r of the midranks)', () => {
    // y = (5, 6, 7, 8, 7) has ranks (1, 2, 3.5, 5, 3.5); against ranks (1..5):
    // Σ dx·dy = 8, Σ dx² = 10, Σ dy² = 9.5, so ρ = 8/√95.
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(8 / Math.sqrt(95), 12);
    // Ties on both sides: x ranks (1.5, 1.5, 3, 4), y ranks (1, 2.5, 2.5, 4): Σ = 3.75, Σdx² = 4.5, Σdy² = 4.5
    expect(spearman([2, 2, 5, 9], [1, 3, 3, 7])).toBeCloseTo(4.5 / 4.5 - 0.75 / 4.5, 12);
    // and does not depend on the order the pairs are listed in
    expect(spearman([7, 8, 5, 6, 7].reverse(), [3, 4, 1, 2, 3].reverse())).toBeCloseTo(spearman([7, 8, 5, 6, 7], [3, 4, 1, 2, 3]) as number, 12);
  });

  it('is undefined (null) for fewer than 3 pairs or a constant side', () => {
    expect(spearman([1, 2], [2, 1])).toBeNull();
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(() => spearman([1, 2, 3], [1, 2])).toThrow(/3 x values against 2/);
  });
});

describe('completePairs', () => {
  it('excludes missing values pairwise', () => {
    expect(completePairs([1, null, 3, 4, Number.NaN], [null, 2, 3, 5, 6])).toEqual({ x: [3, 4], y: [3, 5] });
  });
});

describe('meanSd', () => {
  it('mean and sample standard deviation', () => {
    expect(meanSd([2, 4, 4, 4, 5, 5, 7, 9])).toEqual({ mean: 5, sd: Math.sqrt(32 / 7) });
    expect(meanSd([3])).toEqual({ mean: 3, sd: 0 });
  });
});

/** n pairs from a bivariate normal with correlation r. */
function bivariate(n: number, r: number, rng: Rng): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = rng.normal();
    const b = rng.normal();
    x.push(a);
    y.push(r * a + Math.sqrt(1 - r * r) * b);
  }
  return { x, y };
}

describe('bootstrapSpearman', () => {
  it('is deterministic per seed', () => {
    const d = bivariate(20, 0.5, new Rng(1));
    const a = bootstrapSpearman(d.x, d.y, { resamples: 500, confidence: 0.95, rng: new Rng(7) });
    const b = bootstrapSpearman(d.x, d.y, { resamples: 500, confidence: 0.95, rng: new Rng(7) });
    const c = bootstrapSpearman(d.x, d.y, { resamples: 500, confidence: 0.95, rng: new Rng(8) });
    expect(a).toEqual(b);
    expect(c.rho).toBe(a.rho);
    expect(c.lo).not.toBe(a.lo);
    expect(a.lo!).toBeLessThan(a.rho!);
    expect(a.hi!).toBeGreaterThan(a.rho!);
    expect(a.pairs).toBe(20);
  });

  it('gives no interval when ρ is undefined', () => {
    expect(bootstrapSpearman([1, 1, 1, 1], [1, 2, 3, 4], { resamples: 200, confidence: 0.95, rng: new Rng(1) })).toEqual({ rho: null, lo: null, hi: null, pairs: 4, validResamples: 0 });
  });

  it("covers a bivariate normal population's ρ_s = (6/π)·asin(ρ/2) at about the stated rate (n = 30, 200 repetitions)", () => {
    const r = 0.5;
    const truth = (6 / Math.PI) * Math.asin(r / 2);
    const root = new Rng(2024);
    let covered = 0;
    let width = 0;
    const reps = 200;
    for (let k = 0; k < reps; k++) {
      const d = bivariate(30, r, root.split(`data:${k}`));
      const e = bootstrapSpearman(d.x, d.y, { resamples: 2000, confidence: 0.95, rng: root.split(`boot:${k}`) });
      if (e.lo! <= truth && truth <= e.hi!) covered++;
      width += e.hi! - e.lo!;
    }
    // The percentile interval under-covers slightly at n = 30; far below 0.95 would be a bug.
    expect(covered / reps).toBeGreaterThanOrEqual(0.88);
    // and it is not trivially wide: the s.e. of ρ_s at n = 30 is about 0.15, so a width near 0.6
    expect(width / reps).toBeGreaterThan(0.4);
    expect(width / reps).toBeLessThan(0.8);
  }, 300_000);
});
