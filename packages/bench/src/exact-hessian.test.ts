import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng, flatLoss, hvp } from '@goldstone/core';
import { HESSIAN_SCRIPT, cltData, hessianProblem, runExactHessian, runTorchHessian, type HessianProblem } from './exact-hessian';

const torchAvailable = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

describe('the exact-Hessian problem', () => {
  it('full is the quickstart model: MLP 16-24-24-8 on 2,048 CLT examples; quick is smaller', () => {
    expect(hessianProblem(false)).toMatchObject({ sizes: [16, 24, 24, 8], examples: 2048, block: 2 });
    const q = hessianProblem(true);
    expect(q.examples).toBeLessThan(2048);
    expect(q.sizes[0] / q.block).toBe(q.sizes[q.sizes.length - 1]);
  });

  it('cltData: centred exponential spins, targets the block sums / √block', () => {
    const { x, y } = cltData(4, 2, 4000, new Rng(3));
    expect(x.length).toBe(16000);
    expect(y.length).toBe(8000);
    expect(Math.min(...x)).toBeGreaterThanOrEqual(-1);
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    for (const e of [0, 17, 3999]) {
      expect(y[e * 2]).toBeCloseTo((x[e * 4] + x[e * 4 + 1]) / Math.SQRT2, 5);
      expect(y[e * 2 + 1]).toBeCloseTo((x[e * 4 + 2] + x[e * 4 + 3]) / Math.SQRT2, 5);
    }
    expect(() => cltData(5, 2, 1, new Rng(0))).toThrow(/blocks/);
  });

  it('the PyTorch peer is committed where the runner looks for it', () => {
    expect(HESSIAN_SCRIPT.endsWith('packages/bench/hessian_bench.py')).toBe(true);
    expect(existsSync(HESSIAN_SCRIPT)).toBe(true);
  });
});

describe('runExactHessian on a small problem (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  const small: HessianProblem = { name: 'small', sizes: [4, 5, 2], examples: 32, block: 2, reps: 2 };

  it('is symmetric, one product per column, and its columns are double-backprop HVPs of the same loss', async () => {
    const before = tf.memory().numTensors;
    const { run, matrix, peer } = await runExactHessian(small, 0, 'cpu');
    expect(tf.memory().numTensors).toBe(before);
    const n = 4 * 5 + 5 + 5 * 2 + 2;
    expect([run.params, matrix.n, run.products, peer.w.length]).toEqual([n, n, n, n]); // products of one build
    expect(run.asymmetry).toBeLessThan(1e-5);
    expect(run.max_abs).toBeGreaterThan(0);
    // columns against core's hvp on unit vectors, from the exported point and data
    const { mlp } = await import('@goldstone/models');
    const model = mlp.create(mlp.options.parse({ hidden: [5], activation: 'tanh' }), { inputShape: [4], outputSize: 2, outputKind: 'regression' });
    const x = tf.tensor2d(peer.x, [32, 4]);
    const y = tf.tensor2d(peer.y, [32, 2]);
    const w = tf.tensor1d(peer.w);
    let worst = 0;
    for (const j of [0, 7, 21, n - 1]) {
      const e = new Float32Array(n);
      e[j] = 1;
      const col = tf.tidy(() => hvp(flatLoss(model, 'mse', x, y), w, tf.tensor1d(e)).dataSync());
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(col[i] - matrix.values[i * n + j]));
    }
    tf.dispose([x, y, w]);
    // symmetrisation moves an entry by at most half the asymmetry
    expect(worst).toBeLessThanOrEqual(run.asymmetry * run.max_abs + 1e-6);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.skipIf(!torchAvailable)(
    "PyTorch's torch.autograd.functional.hessian of the exported problem agrees with goldstone's matrix",
    async () => {
      const { matrix, peer } = await runExactHessian({ ...small, reps: 1 }, 1, 'cpu');
      const t = runTorchHessian(peer, matrix, { threads: 1 });
      if (!t.available) throw new Error(t.reason);
      expect(t.loss_abs_diff).toBeLessThan(1e-5);
      expect(t.rel_max_diff).toBeLessThan(1e-4);
      expect(t.ms).toBeGreaterThan(0);
    },
    120_000,
  );

  it('the peer is reported unavailable when the interpreter is missing', async () => {
    const { matrix, peer } = await runExactHessian({ ...small, reps: 1 }, 1, 'cpu');
    const t = runTorchHessian(peer, matrix, { python: '/nonexistent/python3' });
    expect(t.available).toBe(false);
  });
});
