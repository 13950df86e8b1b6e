import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { blockLanczos } from './block-lanczos';
import { lanczos } from './lanczos';
import { denseOperator, type LinearOperator } from './linear-operator';
import { eigenResidual, knownSpectrum, matrixWithSpectrum, trueResidual } from './test-support';


describe('blockLanczos', () => {
  it('matches the dense eigendecomposition at the top and the bottom, with honest Ritz residuals', async () => {
    const rng = new Rng(21);
    const n = 80;
    const lambdas = Array.from({ length: n }, (_, i) => (i < 6 ? 12 - 1.5 * i : i > n - 4 ? -2 - (i - n + 4) : Math.cos(i)));
    const op = denseOperator(matrixWithSpectrum(lambdas, rng), n, { blockSize: 4 });
    const sorted = [...lambdas].sort((a, b) => b - a);
    const res = await blockLanczos(op, { topK: 5, bottomK: 3, tol: 1e-9, vectors: true, rng });
    expect(res.blockSize).toBe(4);
    expect(res.converged).toBe(true);
    expect(res.stopped).toBe('converged');
    expect(res.steps).toBeLessThan(n);
    // one block product of 4 vectors per step
    expect(res.products).toBe(res.steps);
    expect(res.blocks).toBe(res.steps / 4);
    res.top.forEach((p, i) => expect(Math.abs(p.value - sorted[i])).toBeLessThan(1e-8));
    res.bottom.forEach((p, i) => expect(Math.abs(p.value - sorted[n - 1 - i])).toBeLessThan(1e-8));
    for (const p of [...res.top, ...res.bottom]) {
      expect(p.converged).toBe(true);
      const r = trueResidual(op, p.value, p.vector!);
      expect(r).toBeLessThan(1e-7);
      expect(Math.abs(r - p.residual)).toBeLessThan(1e-7);
    }
  });

  it('finds a repeated top eigenvalue that single-vector Lanczos under-counts', async () => {
    const n = 60;
    // λ = 10 three times, then 6, 5, and a bulk in [−1, 1]
    const lambdas = [10, 10, 10, 6, 5, ...Array.from({ length: n - 5 }, (_, i) => Math.sin(i))];
    const sorted = [...lambdas].sort((a, b) => b - a);
    const op = denseOperator(matrixWithSpectrum(lambdas, new Rng(22)), n);
    const single = await lanczos(op, { topK: 4, tol: 1e-8, rng: new Rng(23) });
    expect(single.converged).toBe(true);
    // one Krylov space holds one copy of 10; with tol > 0 the run converges before any restart
    expect(single.top.filter((p) => Math.abs(p.value - 10) < 1e-6).length).toBeLessThan(3);
    const block = await blockLanczos(op, { topK: 4, tol: 1e-8, blockSize: 4, rng: new Rng(23), vectors: true });
    expect(block.converged).toBe(true);
    block.top.forEach((p, i) => expect(Math.abs(p.value - sorted[i])).toBeLessThan(1e-8));
    // three orthonormal eigenvectors of the triple eigenvalue
    const vs = block.top.slice(0, 3).map((p) => p.vector!);
    for (let a = 0; a < 3; a++) {
      expect(eigenResidual(op, 10, vs[a])).toBeLessThan(1e-7);
      for (let b = 0; b < a; b++) expect(Math.abs(vs[a].reduce((s, x, i) => s + x * vs[b][i], 0))).toBeLessThan(1e-8);
    }
  });

  it('resolves a tight cluster at the bottom', async () => {
    const n = 50;
    const lambdas = Array.from({ length: n }, (_, i) => (i < 2 ? -3 - 1e-7 * i : i === 2 ? -2.5 : 1 + i / n));
    const op = denseOperator(matrixWithSpectrum(lambdas, new Rng(24)), n, { blockSize: 3 });
    const res = await blockLanczos(op, { bottomK: 3, tol: 1e-10, rng: new Rng(25) });
    expect(res.converged).toBe(true);
    expect(res.bottom.map((p) => p.value)).toEqual([expect.closeTo(-3 - 1e-7, 9), expect.closeTo(-3, 9), expect.closeTo(-2.5, 9)]);
  });

  it('reaches the whole space when the budget allows, with a last block smaller than b', async () => {
    const { op, lambdas } = knownSpectrum();
    const n = lambdas.length;
    // 48 = 9·5 + 3: the tenth block is the rest of ℝⁿ
    const res = await blockLanczos(op, { topK: 5, bottomK: 2, tol: 0, blockSize: 5, maxSteps: n, rng: new Rng(26) });
    expect(res.steps).toBe(n);
    expect(res.blocks).toBe(10);
    expect(res.stopped).toBe('dimension');
    expect(res.converged).toBe(true);
    const asc = [...lambdas].sort((a, b) => a - b);
    res.ritzValues.forEach((t, i) => expect(Math.abs(t - asc[i])).toBeLessThan(1e-9));
  });

  it('stops at maxSteps in whole blocks, and flags an unconverged bottom beyond its budget', async () => {
    const { op } = knownSpectrum();
    const capped = await blockLanczos(op, { topK: 5, bottomK: 2, tol: 1e-14, blockSize: 4, maxSteps: 22, rng: new Rng(27) });
    expect(capped.steps).toBe(20);
    expect(capped.blocks).toBe(5);
    expect(capped.stopped).toBe('maxSteps');
    expect(capped.converged).toBe(false);
    const budget = await blockLanczos(op, { topK: 1, bottomK: 2, tol: 1e-6, blockSize: 2, bottomSteps: 0, rng: new Rng(28) });
    expect(budget.topConverged).toBe(true);
    expect(budget.stopped).toBe('top converged, bottom budget spent');
    expect(budget.bottomConverged).toBe(false);
    expect(budget.bottom.every((p) => p.converged === false)).toBe(true);
  });

  it('defaults to the operator’s block size capped at 8, 1 without a block product', async () => {
    const { matrix, lambdas } = knownSpectrum();
    const n = lambdas.length;
    const run = (op: LinearOperator) => blockLanczos(op, { topK: 2, tol: 1e-6, rng: new Rng(29) });
    expect((await run(denseOperator(matrix, n, { blockSize: 32 }))).blockSize).toBe(8);
    expect((await run(denseOperator(matrix, n, { blockSize: 3 }))).blockSize).toBe(3);
    const one = await run(denseOperator(matrix, n));
    expect(one.blockSize).toBe(1);
    expect(one.blocks).toBe(one.products);
    await expect(blockLanczos(denseOperator(matrix, n), { topK: 1, blockSize: 0, rng: new Rng(1) })).rejects.toThrow('blockSize must be an integer ≥ 1');
    await expect(blockLanczos(denseOperator(matrix, n), { rng: new Rng(1) })).rejects.toThrow('ask for topK');
  });
});
