import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, disposeParams, flatLoss, flattenParams, unflattenParams } from '@goldstone/core';
import type { ModelInstance, Params } from '@goldstone/plugin-api';
import { createBlockMlp, blockMlpOptions } from './block-mlp';
import { createGnn, gnnOptions } from './gnn';
import { createMlp, mlpOptions } from './mlp';
import { maxAbsDiff, outputs, randomTensor } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SITES = 16;
const B = 2;

/** Block sums / √b of host rows [n, sites]. */
function blockMap(x: Float32Array, sites: number, b = B): Float32Array {
  const out = new Float32Array((x.length / sites) * (sites / b));
  for (let r = 0; r < x.length / sites; r++)
    for (let j = 0; j < sites / b; j++) {
      let s = 0;
      for (let i = 0; i < b; i++) s += x[r * sites + j * b + i];
      out[r * (sites / b) + j] = s / Math.sqrt(b);
    }
  return out;
}

/** Full-batch Adam on the MSE to the block map of Gaussian inputs of `SITES` sites; the trained parameters and final loss. */
function fitBlockMap(model: ModelInstance, seed: number, steps = 500, lr = 0.05): { params: Params; loss: number } {
  const rng = new Rng(seed);
  const n = 64;
  const xs = Float32Array.from(rng.split('x').normalArray(n * SITES, 1));
  const x = tf.tensor2d(xs, [n, SITES]);
  const y = tf.tensor2d(blockMap(xs, SITES), [n, SITES / B]);
  const p0 = model.init(rng.split('init'));
  const w = tf.variable(flattenParams(p0, model.specs));
  disposeParams(p0);
  const f = flatLoss(model, 'mse', x, y);
  const opt = tf.train.adam(lr);
  for (let s = 0; s < steps; s++) opt.minimize(() => f(w) as tf.Scalar, false);
  const L = f(w);
  const loss = L.dataSync()[0];
  const params = unflattenParams(w, model.specs);
  tf.dispose([x, y, w, L]);
  opt.dispose();
  return { params, loss };
}

function gnn(options: Record<string, unknown>, sites = SITES, outputSize = SITES / B): ModelInstance {
  return createGnn(gnnOptions.parse(options), { inputShape: [sites], outputSize });
}

/** max |model(x) − block map(x)| over random inputs of `sites` sites. */
function mapError(model: ModelInstance, params: Params, sites: number, seed: number): number {
  const x = randomTensor(new Rng(seed), [64, sites]);
  const err = maxAbsDiff(outputs(model, params, x), blockMap(x.dataSync() as Float32Array, sites));
  x.dispose();
  return err;
}

/** Apply the map k = 1…3 times to 16 random sites: step k is the block sum over 2^k sites / 2^(k/2), shape [rows, 16/2^k]. */
function expectIteratesToBlockSums(m: ModelInstance, params: Params, seed: number): void {
  let h = randomTensor(new Rng(seed), [8, 16]);
  const x0 = Float32Array.from(h.dataSync());
  for (let k = 1; k <= 3; k++) {
    const next = m.apply(params, h);
    h.dispose();
    h = next;
    expect(h.shape).toEqual([8, 16 / 2 ** k]);
    expect(maxAbsDiff(h.dataSync(), blockMap(x0, 16, 2 ** k)), `step ${k}`).toBeLessThan(1e-5);
  }
  h.dispose();
}

describe('a gnn that can represent the RG map, on chains of any length', () => {
  // measured (cpu): final MSE 4e-15 to 8e-15, max |error| 2e-7 to 5e-7 on every length; the control 0.20
  it.each([
    ['block-local messages (GCN)', { layer: 'gcn', messages: 'block' }],
    ['a skip path on the periodic lattice (GCN)', { layer: 'gcn', skip: true }],
    ['block-local messages (GIN)', { layer: 'gin', messages: 'block' }],
  ])('%s, identity activation: reaches the exact map, and applies it to 32, 8, 4 and 2 sites', (_name, extra) => {
    const m = gnn({ hidden: [4], activation: 'identity', readout: 'block', block: B, pool: 'sum', ...extra });
    expect(m.info).toMatchObject({ sizeAgnostic: true, sizeUnit: { sites: B, outputs: 1 } });
    const { params, loss } = fitBlockMap(m, 3);
    expect(loss).toBeLessThan(1e-10);
    for (const sites of [16, 32, 8, 4, 2]) expect(mapError(m, params, sites, sites), `${sites} sites`).toBeLessThan(1e-5);
    // iterating the learned map 16 → 8 → 4 → 2 gives the block sums over 2, 4, 8 sites / √(2, 4, 8)
    expectIteratesToBlockSums(m, params, 9);
    disposeParams(params);
  }, 120_000);

  it('message passing along the periodic lattice without skip cannot represent it (the control)', () => {
    const m = gnn({ hidden: [4], activation: 'identity', readout: 'block', block: B, pool: 'sum' });
    const { params, loss } = fitBlockMap(m, 3);
    // neighbouring blocks always leak in: the best such map has a clearly positive error
    expect(loss).toBeGreaterThan(0.05);
    disposeParams(params);
  }, 120_000);

  it('block-local messages never cross blocks: an input change in one block moves only that block’s output', () => {
    const m = gnn({ hidden: [3, 3], activation: 'tanh', readout: 'block', block: 4, messages: 'block' }, 12, 3);
    const p = m.init(new Rng(4));
    const x = randomTensor(new Rng(5), [1, 12]);
    const x2 = tf.tidy(() => tf.add(x, tf.oneHot(tf.tensor1d([5], 'int32'), 12)));
    const [a, b] = [outputs(m, p, x), outputs(m, p, x2)];
    expect(a[0]).toBe(b[0]);
    expect(a[2]).toBe(b[2]);
    expect(Math.abs(a[1] - b[1])).toBeGreaterThan(1e-4);
    // 3 blocks of a 12-site ring, 3 inner edges each, both directions: 18 of the ring's 24 directed edges
    expect(m.info?.architecture).toMatch(/24 directed edges, messages inside blocks of 4: 18/);
    tf.dispose([x, x2]);
    disposeParams(p);
  });

  it('a gnn that is not on a 1-D chain with a node or block readout says so and refuses other sizes', () => {
    const pooled = gnn({ hidden: [3], readout: 'graph' }, 8, 1);
    expect(pooled.info?.sizeAgnostic).toBe(false);
    const p = pooled.init(new Rng(1));
    const x = randomTensor(new Rng(2), [2, 4]);
    expect(() => pooled.apply(p, x)).toThrow(/not match inputShape \[8\].*size-agnostic/);
    const chain = gnn({ hidden: [3], readout: 'block', block: 2 }, 8, 4);
    const q = chain.init(new Rng(1));
    const odd = randomTensor(new Rng(2), [2, 5]);
    expect(() => chain.apply(q, odd)).toThrow(/any multiple of 2 sites/);
    const node = gnn({ hidden: [3], readout: 'node' }, 8, 8);
    expect(node.info).toMatchObject({ sizeAgnostic: true, sizeUnit: { sites: 1, outputs: 1 } });
    const r = node.init(new Rng(1));
    expect(outputs(node, r, odd)).toHaveLength(10);
    expect(() => gnn({ hidden: [3], messages: 'block', block: 3 }, 8, 1)).toThrow(/block 3 must divide the 8 nodes for block-local messages/);
    tf.dispose([x, odd]);
    [p, q, r].forEach(disposeParams);
  });
});

describe('shared block maps apply to any multiple of the block', () => {
  it('shared (and tied + shared) block-mlp: the same block map on every block of 4, 8, 32 sites; declared size-agnostic', () => {
    for (const tied of [false, true]) {
      const m = createBlockMlp(blockMlpOptions.parse({ hidden: [5], activation: 'tanh', block: 2, shared: true, tied }), { inputShape: [16], outputSize: 8 });
      expect(m.info).toMatchObject({ sizeAgnostic: true, sizeUnit: { sites: 2, outputs: 1 } });
      const p = m.init(new Rng(7));
      const one = randomTensor(new Rng(8), [3, 2]);
      const perBlock = outputs(m, p, one); // a single block
      expect(perBlock).toHaveLength(3);
      for (const sites of [4, 8, 32]) {
        const x = randomTensor(new Rng(sites), [3, sites]);
        const y = outputs(m, p, x);
        expect(y).toHaveLength(3 * (sites / 2));
        // block j of row r alone gives output j of row r
        const xv = x.dataSync();
        const blocks = tf.tensor2d(Float32Array.from(xv), [3 * (sites / 2), 2]);
        expect(maxAbsDiff(y, outputs(m, p, blocks))).toBeLessThan(1e-6);
        tf.dispose([x, blocks]);
      }
      const odd = randomTensor(new Rng(1), [3, 5]);
      expect(() => m.apply(p, odd)).toThrow(/any multiple of its block of 2 sites/);
      tf.dispose([one, odd]);
      disposeParams(p);
    }
  });

  it('the exact tied + shared linear map iterated 16 → 8 → 4 → 2 is the block sum over 2^k sites / 2^(k/2)', () => {
    const m = createBlockMlp(blockMlpOptions.parse({ block: 2, shared: true, tied: true, bias: false }), { inputShape: [16], outputSize: 8 });
    const p: Params = { 'dense0.weight': tf.tensor2d([[Math.SQRT1_2]]) };
    expectIteratesToBlockSums(m, p, 3);
    disposeParams(p);
  });

  it('models with weights per site (free mlp, tied without sharing) are declared not size-agnostic and refuse other sizes', () => {
    const cases: [string, ModelInstance][] = [
      ['mlp', createMlp(mlpOptions.parse({ hidden: [3] }), { inputShape: [16], outputSize: 8 })],
      ['tied', createBlockMlp(blockMlpOptions.parse({ hidden: [3], block: 2, tied: true }), { inputShape: [16], outputSize: 8 })],
      ['free block-mlp', createBlockMlp(blockMlpOptions.parse({ hidden: [3] }), { inputShape: [16], outputSize: 8 })],
    ];
    for (const [name, m] of cases) {
      expect(m.info?.sizeAgnostic, name).toBe(false);
      expect(m.info, name).not.toHaveProperty('sizeUnit');
      const p = m.init(new Rng(1));
      const x = randomTensor(new Rng(2), [2, 8]);
      expect(() => m.apply(p, x), name).toThrow(/does not match inputShape \[16\].*not size-agnostic/);
      x.dispose();
      disposeParams(p);
    }
  });
});
