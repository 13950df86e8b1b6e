import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '@goldstone/core';
import { CASES, prepareCase, type BenchCase } from './cases';
import { table, type BackendRun } from './run';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tiny = (kind: BenchCase['kind']): BenchCase => ({ name: `tiny-${kind}`, kind, sizes: [6, 8, 8, 3], batch: 16 });

describe('benchmark cases', () => {
  it('have the sizes and parameter counts the PyTorch script uses', () => {
    expect(CASES.map((c) => [c.name, c.kind, c.sizes.join('-'), c.batch])).toEqual([
      ['train-mlp-64-256-256-2', 'train', '64-256-256-2', 256],
      ['train-mlp-784-512-512-10', 'train', '784-512-512-10', 128],
      ['hvp-mlp-64-192-192-10', 'hvp', '64-192-192-10', 128],
    ]);
    // the HVP model is the ~51k-parameter one: 64·192+192 + 192·192+192 + 192·10+10
    const p = prepareCase({ ...CASES[2], batch: 2 }, new Rng(0));
    expect(p.params).toBe(51466);
    p.dispose();
  });

  it('a training step trains (the loss falls) and leaks no tensors', () => {
    const c = prepareCase(tiny('train'), new Rng(1));
    const first = c.run(); // creates the optimiser state
    const n = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 30; i++) last = c.run();
    expect(tf.memory().numTensors).toBe(n);
    expect(last).toBeLessThan(first);
    c.dispose();
  });

  it('the HVP case is deterministic and leaks no tensors; everything is freed by dispose', () => {
    const n0 = tf.memory().numTensors;
    const c = prepareCase(tiny('hvp'), new Rng(2));
    const a = c.run();
    const n = tf.memory().numTensors;
    const b = c.run();
    expect(b).toBe(a);
    expect(Number.isFinite(a)).toBe(true);
    expect(tf.memory().numTensors).toBe(n);
    c.dispose();
    expect(tf.memory().numTensors).toBe(n0);
  });

  it('the table pairs each backend with the PyTorch median of the same case', () => {
    const s = { median_ms: 8, p10_ms: 7, p90_ms: 9, min_ms: 7, reps: 30, params: 1 };
    const backends: BackendRun[] = [{ backend: 'wasm', fixes: [], cases: { 'hvp-mlp-64-192-192-10': s } }];
    const rows = table(backends, {
      available: true,
      torch: 'x',
      threads: 2,
      blas: 'x',
      cases: { 'hvp-mlp-64-192-192-10': { ...s, median_ms: 2, batch: 128 } },
    });
    expect(rows).toEqual([{ case: 'hvp-mlp-64-192-192-10', backend: 'wasm', median_ms: 8, pytorch_median_ms: 2, ratio_vs_pytorch: 4 }]);
    expect(table(backends, { available: false, reason: 'no torch' })[0]).toMatchObject({ pytorch_median_ms: null, ratio_vs_pytorch: null });
  });
});
