import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { classDistanceRatio, distanceCorrelation, firstPrincipalCoordinate, parallelogramResidual, rankCorrelationInterval, type Embedding } from './geometry';

const N = 30;
const D = 8;

function embedding(n: number, d: number, f: (i: number, c: number) => number): Embedding {
  const values = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) values[i * d + c] = f(i, c);
  return { values, n, d };
}

const order = Array.from({ length: N }, (_, i) => i);
const direction = Array.from({ length: D }, (_, c) => Math.cos(c + 1));

function rhoOfPc1(e: Embedding, seed = 1) {
  return rankCorrelationInterval(firstPrincipalCoordinate(e).coordinate, order, 1000, 0.95, new Rng(seed));
}

describe('first principal coordinate against the node order', () => {
  it('a perfect line gives |ρ| = 1 with an interval at 1, whichever way the line runs', () => {
    for (const sign of [1, -1]) {
      const e = embedding(N, D, (i, c) => sign * (i - 14.5) * direction[c] + 3);
      const r = rhoOfPc1(e);
      expect(r.absRho).toBeCloseTo(1, 12);
      expect(Math.abs(r.lo!)).toBeCloseTo(1, 12);
      expect(Math.abs(r.hi!)).toBeCloseTo(1, 12);
      expect(firstPrincipalCoordinate(e).varianceFraction).toBeCloseTo(1, 10);
    }
  });

  it('a monotone but curved line with small noise off it still ranks the nodes (|ρ| > 0.99)', () => {
    const rng = new Rng(3);
    const e = embedding(N, D, (i, c) => Math.sinh((i - 14.5) / 8) * direction[c] + 0.01 * rng.normal());
    expect(rhoOfPc1(e).absRho).toBeGreaterThan(0.99);
  });

  it('i.i.d. random embeddings: ρ is small and its interval covers 0 for each of several seeds', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rng = new Rng(100 + seed);
      const r = rhoOfPc1(embedding(N, D, () => rng.normal()), seed);
      expect(r.lo!).toBeLessThan(0);
      expect(r.hi!).toBeGreaterThan(0);
      expect(r.absRho!).toBeLessThan(0.6);
    }
  });

  it('recovers the top eigenvector when it is not the first coordinate axis', () => {
    // variance 9 along (0, 1, 1)/√2 by node order, variance ~1 along the first axis at random
    const rng = new Rng(9);
    const e = embedding(N, 3, (i, c) => (c === 0 ? rng.normal() : (i - 14.5) / Math.SQRT2));
    expect(rhoOfPc1(e).absRho).toBeCloseTo(1, 10);
  });
});

describe('parallelogram residual and class ratio (equivalence mod k)', () => {
  const k = 3;
  const centre = (r: number, c: number) => Math.sin(2 * r + 0.7 * c) * 2;

  it('is 0 for an exactly periodic embedding, and for one periodic plus a linear drift', () => {
    const periodic = embedding(N, D, (i, c) => centre(i % k, c));
    expect(parallelogramResidual(periodic, k).residual).toBeCloseTo(0, 12);
    expect(parallelogramResidual(periodic, k).parallelograms).toBe(((N - k) * (N - k - 1)) / 2);
    const drift = embedding(N, D, (i, c) => centre(i % k, c) + 0.3 * i * direction[c]);
    expect(parallelogramResidual(drift, k).residual).toBeCloseTo(0, 12);
    expect(classDistanceRatio(periodic, k)).toBeCloseTo(0, 12);
  });

  it('is about 2 for i.i.d. embeddings (a difference of differences has twice the variance), with a class ratio about 1', () => {
    const rng = new Rng(5);
    const e = embedding(N, D, () => rng.normal());
    const r = parallelogramResidual(e, k).residual;
    expect(r).toBeGreaterThan(1.6);
    expect(r).toBeLessThan(2.4);
    const ratio = classDistanceRatio(e, k)!;
    expect(ratio).toBeGreaterThan(0.8);
    expect(ratio).toBeLessThan(1.2);
  });
});

describe('embedding distance against graph distance', () => {
  it('nodes on a circle in cycle order: ρ = 1 with the cycle distance; a line in order: ρ = 1 with |a − b|', () => {
    const circle = embedding(N, 2, (i, c) => (c === 0 ? Math.cos((2 * Math.PI * i) / N) : Math.sin((2 * Math.PI * i) / N)));
    const r = distanceCorrelation(circle, 'cycle', 200, 0.95, new Rng(1));
    expect(r.rho!).toBeGreaterThan(0.99); // equal chords differ in the last bits, so ties are not exact
    const line = embedding(N, 2, (i) => i);
    expect(distanceCorrelation(line, 'order', 200, 0.95, new Rng(1)).rho).toBeCloseTo(1, 10);
  });
});
