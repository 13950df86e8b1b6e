import { describe, expect, it } from 'vitest';
import { denseOperator, dot } from './linear-operator';
import { powerIteration } from './power-iteration';
import { Rng } from '@goldstone/core';

function diagonal(values: number[]): Float64Array {
  const n = values.length;
  const a = new Float64Array(n * n);
  values.forEach((v, i) => (a[i * n + i] = v));
  return a;
}

describe('powerIteration', () => {
  it('finds the dominant eigenpairs one after another by deflation', async () => {
    const rng = new Rng(21);
    const values = [8, -6, 4, 2, 1, 0.5, 0.25, 0.1];
    const op = denseOperator(diagonal(values), values.length);
    const res = await powerIteration(op, { k: 3, tol: 1e-9, maxIterations: 5000, rng });
    expect(res.converged).toBe(true);
    expect(res.pairs.map((p) => p.value)).toEqual([8, -6, 4].map((v) => expect.closeTo(v, 6)));
    // the vectors are the coordinate axes and orthogonal to one another
    expect(Math.abs(res.pairs[0].vector[0])).toBeCloseTo(1, 6);
    expect(Math.abs(dot(res.pairs[0].vector, res.pairs[1].vector))).toBeLessThan(1e-6);
    expect(res.products).toBe(res.pairs.reduce((s, p) => s + p.iterations, 0));
  });

  it('converges at the rate of the eigenvalue gap and reports non-convergence honestly', async () => {
    const rng = new Rng(22);
    const fast = await powerIteration(denseOperator(diagonal([10, 1, 1, 1]), 4), { k: 1, tol: 1e-8, rng });
    const slow = await powerIteration(denseOperator(diagonal([10, 9.9, 1, 1]), 4), { k: 1, tol: 1e-8, maxIterations: 50, rng });
    expect(fast.converged).toBe(true);
    expect(fast.products).toBeLessThan(20);
    expect(slow.converged).toBe(false);
    expect(slow.products).toBe(50);
  });
});
