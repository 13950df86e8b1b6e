import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { exactSpectrum } from './dense-hessian';
import { lanczos, lanczosDecomposition, tridiagonalEigen } from './lanczos';
import { curvatureOperator, denseOperator } from './linear-operator';
import { disposeParams, Rng } from '@goldstone/core';
import { powerIteration } from './power-iteration';
import { tanhMlp } from '@goldstone/core/test-support';
import { knownSpectrum, matrixWithSpectrum, trueResidual } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});




describe('tridiagonalEigen', () => {
  it('solves the 2×2 case analytically', () => {
    const { values, vectors } = tridiagonalEigen([2, 2], [1]);
    expect(values[0]).toBeCloseTo(1, 12);
    expect(values[1]).toBeCloseTo(3, 12);
    expect(Math.abs(vectors[1][0])).toBeCloseTo(Math.SQRT1_2, 12);
  });
});

describe('lanczos', () => {
  it('finds the extreme eigenpairs of a matrix with a known spectrum, with honest Ritz residuals', async () => {
    const rng = new Rng(11);
    const n = 60;
    const lambdas = Array.from({ length: n }, (_, i) => (i < 5 ? 10 - i : i > n - 4 ? -3 - (i - n + 4) : Math.sin(i)));
    const op = denseOperator(matrixWithSpectrum(lambdas, rng), n);
    const res = await lanczos(op, { topK: 5, bottomK: 3, tol: 1e-9, vectors: true, rng });
    const sorted = [...lambdas].sort((a, b) => b - a);
    expect(res.converged).toBe(true);
    expect(res.products).toBe(res.steps);
    expect([res.top.length, res.bottom.length]).toEqual([5, 3]);
    res.top.forEach((p, i) => expect(Math.abs(p.value - sorted[i])).toBeLessThan(1e-8));
    res.bottom.forEach((p, i) => expect(Math.abs(p.value - sorted[n - 1 - i])).toBeLessThan(1e-8));
    for (const p of [...res.top, ...res.bottom]) {
      const r = trueResidual(op, p.value, p.vector!);
      expect(r).toBeLessThan(1e-7);
      expect(Math.abs(r - p.residual)).toBeLessThan(1e-7);
    }
  });

  it('keeps multiplicities: restarts at an invariant subspace', async () => {
    const rng = new Rng(12);
    const lambdas = [5, 5, 5, 2, 2, 1, 1, 1, 1, 1, 0, 0];
    const op = denseOperator(matrixWithSpectrum(lambdas, rng), lambdas.length);
    // a single Krylov space holds one copy of each eigenvalue: copies come from the restarts,
    // so run until every wanted pair is exact (tol 0)
    const res = await lanczos(op, { topK: 4, bottomK: 2, tol: 0, rng });
    expect(res.top.map((p) => p.value)).toEqual([5, 5, 5, 2].map((v) => expect.closeTo(v, 8)));
    expect(res.bottom.map((p) => p.value)).toEqual([0, 0].map((v) => expect.closeTo(v, 8)));
    const d = await lanczosDecomposition(op, { steps: 12, rng });
    expect(d.beta.some((b) => b === 0)).toBe(true);
  });

  it('matches the exact dense spectrum of a small tanh MLP Hessian (top-5 to 1e-4) and beats power iteration', async () => {
    const rng = new Rng(13);
    // 62 parameters, 16 examples: power iteration still needs ~6× Lanczos's products
    const model = tanhMlp([3, 10, 2]);
    const params = model.init(rng);
    const x = tf.tensor(rng.normalArray(16 * 3), [16, 3]);
    const y = tf.tensor(rng.normalArray(16 * 2), [16, 2]);
    const before = tf.memory().numTensors;
    const op = curvatureOperator({ model, loss: 'mse', params, data: { x, y } });
    const exact = (await exactSpectrum(op)).eigen.values.slice().reverse();
    const n = model.paramCount;
    const lz = await lanczos(op, { topK: 5, bottomK: 2, tol: 1e-5, rng: rng.split('lanczos') });
    const gapsOk = exact.slice(0, 6).every((v, i, a) => i === 0 || Math.abs(a[i - 1] - v) > 1e-3 * exact[0]);
    expect(gapsOk).toBe(true);
    expect([lz.top.length, lz.bottom.length]).toEqual([5, 2]);
    lz.top.forEach((p, i) => expect(Math.abs(p.value - exact[i]) / Math.abs(exact[i])).toBeLessThan(1e-4));
    lz.bottom.forEach((p, i) => expect(Math.abs(p.value - exact[n - 1 - i]) / exact[0]).toBeLessThan(1e-4));
    const pw = await powerIteration(op, { k: 5, tol: 1e-5, maxIterations: 3000, rng: rng.split('power') });
    expect(pw.pairs).toHaveLength(5);
    pw.pairs.forEach((p) => expect(exact.some((v) => Math.abs(v - p.value) < 1e-4 * exact[0])).toBe(true));
    expect(Math.abs(pw.pairs[0].value - exact[0]) / exact[0]).toBeLessThan(1e-4);
    expect(lz.products).toBeLessThan(pw.products);
    op.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    disposeParams(params);
  });
});

describe('lanczos: top and bottom converge separately', () => {
  // separated outliers at the top, a dense near-zero bulk at the bottom (a Hessian's shape): the
  // top converges in few steps, the bottom not within the cap
  const rng = new Rng(21);
  const n = 300;
  const lambdas = Array.from({ length: n }, (_, i) => (i < 5 ? 100 / (i + 1) : 1.5 * rng.uniform() - 0.5));
  const op = denseOperator(matrixWithSpectrum(lambdas, rng), n);
  const sorted = [...lambdas].sort((a, b) => b - a);

  it('stops when the top has converged if the bottom has no budget, reporting the bottom as bounds', async () => {
    const full = await lanczos(op, { topK: 5, bottomK: 2, maxSteps: 60, tol: 1e-6, rng: new Rng(1) });
    const lean = await lanczos(op, { topK: 5, bottomK: 2, maxSteps: 60, bottomSteps: 0, tol: 1e-6, rng: new Rng(1) });
    expect(full.steps).toBe(60);
    expect(full.stopped).toBe('maxSteps');
    expect(full.topConverged).toBe(true);
    expect(full.bottomConverged).toBe(false);
    expect(full.converged).toBe(false);
    expect(lean.topConvergedAt).toBe(full.topConvergedAt);
    expect(lean.steps).toBe(lean.topConvergedAt);
    expect(lean.steps).toBeLessThan(40);
    expect(lean.products).toBe(lean.steps);
    expect(lean.stopped).toBe('top converged, bottom budget spent');
    expect(lean.top.every((p) => p.converged)).toBe(true);
    lean.top.forEach((p, i) => expect(Math.abs(p.value - sorted[i]) / sorted[0]).toBeLessThan(1e-6));
    // unconverged bottom Ritz values bound the bottom eigenvalues from above (interlacing)
    expect(lean.bottom.map((p) => p.converged)).toEqual([false, false]);
    lean.bottom.forEach((p, i) => expect(p.value).toBeGreaterThanOrEqual(sorted[n - 1 - i] - 1e-12));
    expect(lean.bottomConvergedAt).toBeNull();
  });

  it('gives the bottom its own budget, and stops at once when both ends converge', async () => {
    const some = await lanczos(op, { topK: 5, bottomK: 2, maxSteps: 60, bottomSteps: 45, tol: 1e-6, rng: new Rng(1) });
    expect(some.steps).toBe(45);
    expect(some.bottomConverged).toBe(false);
    const easy = knownSpectrum();
    const both = await lanczos(easy.op, { topK: 2, bottomK: 2, maxSteps: 48, tol: 1e-8, rng: new Rng(2) });
    expect(both.converged).toBe(true);
    expect(both.stopped === 'converged' || both.stopped === 'dimension').toBe(true);
    expect(both.steps).toBe(Math.max(both.topConvergedAt!, both.bottomConvergedAt!));
  });
});
