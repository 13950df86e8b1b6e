import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { fitTransition, fitTransitionWithInterval, goldilocks, transitionCurve, type AccuracyPoint, type WidthPoint } from './fit';

const P = Array.from({ length: 10 }, (_, i) => Math.exp(Math.log(0.05) + ((Math.log(0.9) - Math.log(0.05)) * i) / 9));

function synthetic(pc: number, width: number, chance: number, noise: number, seeds: number, seed: number): AccuracyPoint[] {
  const rng = new Rng(seed);
  return P.flatMap((p) => Array.from({ length: seeds }, () => ({ p, accuracy: Math.min(1, Math.max(0, transitionCurve(p, pc, width, chance) + noise * rng.normal())) })));
}

describe('the transition fit', () => {
  it('the curve is halfway between chance and 1 at p_c', () => {
    expect(transitionCurve(0.2, 0.2, 0.3, 0.5)).toBeCloseTo(0.75, 12);
    expect(transitionCurve(0.2, 0.2, 0.3, 2 / 3)).toBeCloseTo(5 / 6, 12);
  });

  it('recovers p_c and the width from noiseless data', () => {
    const f = fitTransition(synthetic(0.18, 0.4, 0.5, 0, 1, 1), 0.5);
    expect(f.pc!).toBeCloseTo(0.18, 5);
    expect(f.width!).toBeCloseTo(0.4, 4);
    expect(f.inRange).toBe(true);
    expect(f.rmse!).toBeLessThan(1e-6);
  });

  it('on noisy data (3 seeds per p) the bootstrap interval covers the true p_c, for several data seeds and chance levels', () => {
    let covered = 0;
    const cases = [
      { pc: 0.2, chance: 0.5, seed: 1 },
      { pc: 0.1, chance: 0.5, seed: 2 },
      { pc: 0.3, chance: 2 / 3, seed: 3 },
      { pc: 0.15, chance: 0.5, seed: 4 },
    ];
    for (const c of cases) {
      const f = fitTransitionWithInterval(synthetic(c.pc, 0.35, c.chance, 0.03, 3, c.seed), c.chance, 300, 0.95, new Rng(c.seed));
      expect(f.lo!).toBeLessThan(f.pc!);
      expect(f.hi!).toBeGreaterThan(f.pc!);
      expect(Math.abs(Math.log(f.pc! / c.pc))).toBeLessThan(0.25);
      if (f.lo! <= c.pc && c.pc <= f.hi!) covered++;
    }
    expect(covered).toBeGreaterThanOrEqual(3);
  });

  it('says when p_c lies outside the scan, and gives none from a single p', () => {
    const f = fitTransition(synthetic(0.01, 0.3, 0.5, 0, 1, 1), 0.5);
    expect(f.inRange).toBe(false);
    expect(fitTransition([{ p: 0.5, accuracy: 0.9 }, { p: 0.5, accuracy: 0.8 }], 0.5).pc).toBeNull();
  });
});

describe('the Goldilocks test', () => {
  const widths = [4, 8, 16, 32, 64, 128, 256, 512];
  function scan(acc: (w: number) => number, depth: number, seed: number): WidthPoint[] {
    const rng = new Rng(seed);
    return widths.flatMap((width) => [1, 2, 3].map(() => ({ width, depth, accuracy: acc(width) + 0.005 * rng.normal() })));
  }

  it('finds an interior maximum where accuracy peaks at width 32, and none where it rises with width', () => {
    const peaked = (w: number) => 0.95 - 0.03 * Math.log2(w / 32) ** 2;
    const rising = (w: number) => 0.6 + 0.04 * Math.log2(w);
    const [a, b] = goldilocks([...scan(peaked, 1, 1), ...scan(rising, 2, 2)], 500, 0.95, new Rng(1));
    expect(a.depth).toBe(1);
    expect(a.argmax).toBe(32);
    expect(a.interiorMaximum).toBe(true);
    expect(a.lo!).toBeGreaterThan(0);
    expect(a.interiorArgmaxFraction!).toBeGreaterThan(0.95);
    expect(b.depth).toBe(2);
    expect(b.argmax).toBe(512);
    expect(b.interiorMaximum).toBe(false);
    expect(b.margin!).toBeLessThan(0);
  });

  it('needs 3 widths for the test', () => {
    const [t] = goldilocks([{ width: 4, depth: 1, accuracy: 0.5 }, { width: 8, depth: 1, accuracy: 0.6 }], 100, 0.95, new Rng(1));
    expect(t.margin).toBeNull();
    expect(t.interiorMaximum).toBe(false);
  });
});
