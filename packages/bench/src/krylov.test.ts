import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '@goldstone/core';
import { exactSpectrum } from '@goldstone/curvature';
import {
  AccuracyClock,
  KRYLOV_SCRIPT,
  krylovProblem,
  krylovRatio,
  krylovTable,
  parseKrylovOutput,
  repeated,
  runKrylov,
  runTorchKrylov,
  setupKrylov,
  topKAccurate,
  type KrylovProblem,
  type KrylovRun,
} from './krylov';

describe('topKAccurate', () => {
  const ref = [2, 1, -0.5];
  it('accepts estimates within the relative accuracy of every reference value', () => {
    expect(topKAccurate([2.0019, 0.9991, -0.50049], ref, 1e-3)).toBe(true);
    expect(topKAccurate([2, 1, -0.5, 7], ref, 1e-3)).toBe(true); // extra estimates are ignored
  });
  it('rejects one estimate outside, too few estimates, non-finite ones, and an empty reference', () => {
    expect(topKAccurate([2.0021, 1, -0.5], ref, 1e-3)).toBe(false);
    expect(topKAccurate([2, 1, -0.5006], ref, 1e-3)).toBe(false);
    expect(topKAccurate([2, 1], ref, 1e-3)).toBe(false);
    expect(topKAccurate([2, NaN, -0.5], ref, 1e-3)).toBe(false);
    expect(topKAccurate([2], [], 1e-3)).toBe(false);
  });
  it('compares in order (descending), not as sets', () => {
    expect(topKAccurate([1, 2, -0.5], ref, 1e-3)).toBe(false);
  });
});

describe('AccuracyClock', () => {
  it('remembers the first moment all estimates are accurate, per index (power iteration)', () => {
    const c = new AccuracyClock([3, 2], 1e-2, 100);
    expect(c.update(0, 2.5, 1, 101)).toBe(false);
    expect(c.update(0, 2.99, 2, 102)).toBe(false); // pair 1 not started
    expect(c.update(1, 1.5, 3, 103)).toBe(false);
    expect(c.update(1, 1.995, 4, 104.5)).toBe(true);
    expect(c.update(1, 5, 5, 110)).toBe(true); // stays reached at the first hit
    expect(c.result(5)).toEqual({ reached: true, products: 4, ms: 4.5, products_spent: 5 });
  });
  it('takes whole sets of estimates (Lanczos Ritz values) and reports a miss', () => {
    const c = new AccuracyClock([3, 2], 1e-3, 0);
    expect(c.set([3.1, 1.9], 1, 1)).toBe(false);
    expect(c.set([3.0001], 2, 2)).toBe(false);
    expect(c.result(2)).toEqual({ reached: false, products: null, ms: null, products_spent: 2 });
    expect(c.set([3.0001, 2.0001, 0.3], 3, 3)).toBe(true);
    expect(c.result(3).products).toBe(3);
  });
});

describe('ratios, repeats and the table', () => {
  const run = (products: number | null, ms: number | null): KrylovRun => ({ reached: products !== null, products, ms, products_spent: products ?? 99 });
  it('krylovRatio rounds to 2 decimals and is null when a side is missing', () => {
    expect(krylovRatio(190, 20)).toBe(9.5);
    expect(krylovRatio(1, 3)).toBe(0.33);
    expect(krylovRatio(null, 3)).toBeNull();
    expect(krylovRatio(3, null)).toBeNull();
    expect(krylovRatio(3, 0)).toBeNull();
  });
  it('repeated keeps the products and takes the median time; null when a run misses', async () => {
    const times = [30, 10, 20];
    expect(await repeated(3, () => run(7, times.shift()!))).toEqual(run(7, 20));
    const mixed = [run(7, 5), run(null, null)];
    expect((await repeated(2, () => mixed.shift()!)).ms).toBeNull();
  });
  it('krylovTable pairs every backend and algorithm with PyTorch of the same run', () => {
    const ours = [{ backend: 'wasm', lanczos: run(20, 300), power: run(180, 2000), power_over_lanczos_products: 9 }];
    const torch = parseKrylovOutput(
      JSON.stringify({ torch: '1.13', threads: 2, check: { loss_abs_diff: 0, hvp_rel_diff: 1e-7 }, lanczos: run(22, 100), power: run(160, 400) }),
    );
    expect(torch.available && torch.power_over_lanczos_products).toBe(7.27);
    expect(krylovTable(ours, torch)).toEqual([
      { backend: 'wasm', algorithm: 'lanczos', products: 20, ms: 300, pytorch_products: 22, pytorch_ms: 100, time_ratio_vs_pytorch: 3 },
      { backend: 'wasm', algorithm: 'power', products: 180, ms: 2000, pytorch_products: 160, pytorch_ms: 400, time_ratio_vs_pytorch: 5 },
    ]);
    expect(krylovTable(ours, { available: false, reason: 'no torch' })[0]).toMatchObject({ pytorch_ms: null, time_ratio_vs_pytorch: null });
  });
  it('parseKrylovOutput says so when there is no JSON', () => {
    expect(parseKrylovOutput('Traceback ...')).toEqual({ available: false, reason: 'krylov_bench.py printed no JSON' });
  });
});

describe('the PyTorch peer', () => {
  it('is committed where the runner looks for it', () => {
    expect(KRYLOV_SCRIPT.endsWith('packages/bench/krylov_bench.py')).toBe(true);
    expect(existsSync(KRYLOV_SCRIPT)).toBe(true);
  });
  it('is reported unavailable when the interpreter is missing', () => {
    const r = runTorchKrylov({} as never, { python: '/nonexistent/python3' });
    expect(r.available).toBe(false);
  });
});

describe('runKrylov on a small problem (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  const small: KrylovProblem = { name: 'small', sizes: [3, 5, 2], examples: 16, k: 3, accuracy: 1e-3, budget: 400, reps: 2 };

  it('the full problem is the documented one: tanh MLP 16-48-48-10 in goldstone layout', () => {
    expect(krylovProblem(false)).toMatchObject({ sizes: [16, 48, 48, 10], examples: 256, k: 5, accuracy: 1e-3 });
    expect(krylovProblem(true).examples).toBeLessThan(256);
    const s = setupKrylov(small, new Rng(1));
    try {
      expect(s.model.specs.map((p) => [p.name, p.shape])).toEqual([
        ['dense0.weight', [3, 5]],
        ['dense0.bias', [5]],
        ['dense1.weight', [5, 2]],
        ['dense1.bias', [2]],
      ]);
      expect(s.weights.length).toBe(32);
      expect(s.op.dim).toBe(32);
    } finally {
      s.dispose();
    }
  });

  // seed 0: the three largest eigenvalues (1.15, 0.88, 0.66) are also the largest in magnitude (min −0.31)
  const positive: KrylovProblem = { ...small, sizes: [4, 4, 3] };

  it('finds the reference top-k of the dense Hessian, and both algorithms reach it', async () => {
    const s = setupKrylov(positive, new Rng(0).split(positive.name));
    const dense = [...(await exactSpectrum(s.op)).eigen.values].sort((a, b) => b - a).slice(0, small.k);
    s.dispose();
    const before = tf.memory().numTensors;
    const { run, reference, peer } = await runKrylov(positive, 0, 'cpu');
    expect(tf.memory().numTensors).toBe(before);
    reference.values.forEach((v, i) => expect(Math.abs(v - dense[i])).toBeLessThan(1e-4 * Math.abs(dense[i]) + 1e-6));
    expect(run.lanczos.reached && run.power.reached).toBe(true);
    expect(run.lanczos.products).toBeGreaterThanOrEqual(small.k);
    expect(run.lanczos.products).toBeLessThanOrEqual(35);
    expect(run.power.products).toBeGreaterThanOrEqual(small.k);
    expect(run.power_over_lanczos_products).toBe(krylovRatio(run.power.products, run.lanczos.products));
    expect(peer.w.length).toBe(35);
    expect(peer.probe_hv.length).toBe(35);
    // a second backend given the first's reference does the same work (deterministic starts)
    const again = await runKrylov(positive, 0, 'cpu', { reference, peer });
    expect(tf.memory().numTensors).toBe(before);
    expect(again.run.lanczos.products).toBe(run.lanczos.products);
    expect(again.run.power.products).toBe(run.power.products);
  });

  it('reports power iteration as not reaching the top-k when a negative eigenvalue is larger in magnitude', async () => {
    // seed 3: top 0.84, 0.59, 0.44 but −0.68, which power iteration (largest |λ| first) finds second
    const { run } = await runKrylov({ ...small, reps: 1 }, 3, 'cpu');
    expect(run.lanczos.reached).toBe(true);
    expect(run.power).toMatchObject({ reached: false, products: null, ms: null });
    expect(run.power_over_lanczos_products).toBeNull();
  });
});
