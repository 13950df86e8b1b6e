import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, disposeParams, initBackend } from '@goldstone/core';
import type { ModelInstance } from '@goldstone/plugin-api';
import { createGnn, gnn, gnnOptions, gnnParamCount } from './gnn';
import { blockIds, buildGraph } from './graph';
import { lossGradHvp, maxAbs, maxAbsDiff, outputs, permuteAxis1, randomTensor, relErr, zeroModeReport } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

function make(options: Record<string, unknown>, inputShape: number[], outputSize: number): ModelInstance {
  return createGnn(gnnOptions.parse(options), { inputShape, outputSize });
}

describe('graphs', () => {
  it('builds lattices, complete graphs and edge lists with both edge directions', () => {
    const ring = buildGraph({ kind: 'lattice-1d', size: 5 });
    expect(ring.senders.length).toBe(10);
    const chain = buildGraph({ kind: 'lattice-1d', size: 5, periodic: false });
    expect(chain.senders.length).toBe(8);
    const torus = buildGraph({ kind: 'lattice-2d', size: 4 });
    expect(torus.nodes).toBe(16);
    expect(torus.senders.length).toBe(2 * 2 * 16); // 2 undirected edges per site, 2 directions each
    const k5 = buildGraph({ kind: 'complete', size: 5 });
    expect(k5.senders.length).toBe(20);
    const e = buildGraph({ kind: 'edges', size: 3, edges: [[0, 1], [1, 0], [1, 2]] });
    expect(Array.from(e.senders)).toEqual([0, 1, 1, 2]);
    expect(Array.from(e.receivers)).toEqual([1, 0, 2, 1]);
    expect(() => buildGraph({ kind: 'edges', size: 2, edges: [[0, 3]] })).toThrow(/outside/);
    expect(Array.from(blockIds(torus, 2).ids)).toEqual([0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3]);
    expect(() => blockIds(ring, 2)).toThrow(/multiple/);
  });
});

describe('gnn plugin', () => {
  it('has the documented parameter layout and count', () => {
    const m = make({ layer: 'gin', hidden: [4, 3], head: [5] }, [6, 2], 2);
    expect(m.specs.map((s) => s.name)).toEqual([
      'gnn0.eps', 'gnn0.weight', 'gnn0.bias', 'gnn0.mlp.weight', 'gnn0.mlp.bias',
      'gnn1.eps', 'gnn1.weight', 'gnn1.bias', 'gnn1.mlp.weight', 'gnn1.mlp.bias',
      'head.dense0.weight', 'head.dense0.bias', 'head.dense1.weight', 'head.dense1.bias',
    ]);
    expect(m.paramCount).toBe((1 + 2 * 4 + 4 + 16 + 4) + (1 + 4 * 3 + 3 + 9 + 3) + (3 * 5 + 5 + 5 * 2 + 2));
    expect(m.paramCount).toBe(gnnParamCount(gnnOptions.parse({ layer: 'gin', hidden: [4, 3], head: [5] }), 2, 2));
    const g = make({ hidden: [4], readout: 'block', block: 2 }, [8], 8);
    expect(g.paramCount).toBe(gnnParamCount(gnnOptions.parse({ hidden: [4] }), 1, 2));
    expect(() => make({ readout: 'node' }, [5], 7)).toThrow(/multiple/);
    expect(() => make({ graph: { kind: 'complete', size: 4 } }, [5], 1)).toThrow(/4 nodes/);
    expect(() => gnn.options.parse({ layer: 'gat' })).toThrow();
  });

  it('graph readout on the complete graph is invariant and node readout equivariant under random permutations (1e-5)', () => {
    const rng = new Rng(3);
    for (const layer of ['gcn', 'gin'] as const) {
      const inv = make({ layer, hidden: [5, 4], activation: 'tanh', graph: { kind: 'complete', size: 6 }, head: [3] }, [6, 2], 2);
      const eqv = make({ layer, hidden: [5, 4], activation: 'tanh', graph: { kind: 'complete', size: 6 }, readout: 'node' }, [6, 2], 6);
      const pi = inv.init(rng.split(`i${layer}`));
      const pe = eqv.init(rng.split(`e${layer}`));
      const x = randomTensor(rng, [4, 6, 2]);
      for (let t = 0; t < 3; t++) {
        const perm = rng.permutation(6);
        const xp = permuteAxis1(x, perm);
        expect(maxAbsDiff(outputs(inv, pi, xp), outputs(inv, pi, x))).toBeLessThan(1e-5);
        const y = outputs(eqv, pe, x);
        const yp = outputs(eqv, pe, xp);
        const expected = new Float32Array(y.length);
        for (let b = 0; b < 4; b++) for (let i = 0; i < 6; i++) expected[b * 6 + i] = y[b * 6 + perm[i]];
        expect(maxAbsDiff(yp, expected)).toBeLessThan(1e-5);
        xp.dispose();
      }
      x.dispose();
      disposeParams(pi);
      disposeParams(pe);
    }
  });

  it('is translation-equivariant on a periodic lattice (1-D node readout, 2-D block readout)', () => {
    const rng = new Rng(4);
    const m1 = make({ hidden: [4, 4], activation: 'tanh', readout: 'node' }, [8], 8);
    const p1 = m1.init(rng.split('1d'));
    const x1 = randomTensor(rng, [3, 8]);
    const shift = [3, 4, 5, 6, 7, 0, 1, 2]; // x′_i = x_{i+3}
    const x1s = permuteAxis1(x1, shift);
    const y = outputs(m1, p1, x1);
    const ys = outputs(m1, p1, x1s);
    const exp1 = new Float32Array(y.length);
    for (let b = 0; b < 3; b++) for (let i = 0; i < 8; i++) exp1[b * 8 + i] = y[b * 8 + shift[i]];
    expect(maxAbsDiff(ys, exp1)).toBeLessThan(1e-5);

    // 4×4 torus, 2×2 blocks → 4 block outputs; a shift by 2 columns swaps block columns
    const m2 = make({ layer: 'gin', hidden: [4], activation: 'tanh', graph: { kind: 'lattice-2d', size: 4 }, readout: 'block', pool: 'sum' }, [16], 4);
    const p2 = m2.init(rng.split('2d'));
    const x2 = randomTensor(rng, [2, 16]);
    const perm = Array.from({ length: 16 }, (_, i) => Math.floor(i / 4) * 4 + ((i % 4) + 2) % 4);
    const x2s = permuteAxis1(x2, perm);
    const z = outputs(m2, p2, x2);
    const zs = outputs(m2, p2, x2s);
    const exp2 = new Float32Array(z.length);
    const blockPerm = [1, 0, 3, 2];
    for (let b = 0; b < 2; b++) for (let k = 0; k < 4; k++) exp2[b * 4 + k] = z[b * 4 + blockPerm[k]];
    expect(maxAbsDiff(zs, exp2)).toBeLessThan(1e-5);
    tf.dispose([x1, x1s, x2, x2s]);
    disposeParams(p1);
    disposeParams(p2);
  });

  it('HVPs match central finite differences at a smooth point (tanh, GCN and GIN)', () => {
    const rng = new Rng(5);
    for (const layer of ['gcn', 'gin'] as const) {
      const m = make({ layer, hidden: [4, 3], activation: 'tanh', graph: { kind: 'lattice-2d', size: 3 }, readout: 'node' }, [9], 9);
      const p = m.init(rng.split(layer));
      const x = randomTensor(rng, [3, 9]);
      const y = randomTensor(rng, [3, 9]);
      const r = lossGradHvp(m, p, x, y, 'mse', rng.normalArray(m.paramCount));
      expect(relErr(r.hv, r.fd)).toBeLessThan(2e-2);
      tf.dispose([x, y]);
      disposeParams(p);
    }
  });

  it('gives the same outputs, gradients and HVPs on wasm as on cpu', async () => {
    const rng = new Rng(6);
    const m = make({ layer: 'gin', hidden: [4, 3], activation: 'softplus', readout: 'block', graph: { kind: 'lattice-1d', size: 8 } }, [8], 4);
    const p = m.init(rng.split('p'));
    const xv = rng.normalArray(5 * 8);
    const yv = rng.normalArray(5 * 4);
    const v = rng.normalArray(m.paramCount);
    const run = () => {
      const x = tf.tensor2d(xv, [5, 8]);
      const y = tf.tensor2d(yv, [5, 4]);
      const out = outputs(m, p, x);
      const r = lossGradHvp(m, p, x, y, 'mse', v);
      tf.dispose([x, y]);
      return { out, ...r };
    };
    const cpu = run();
    const pv = Object.fromEntries(Object.entries(p).map(([k, t]) => [k, { data: Float32Array.from(t.dataSync()), shape: t.shape }]));
    disposeParams(p);
    await initBackend('wasm');
    try {
      for (const [k, t] of Object.entries(pv)) p[k] = tf.tensor(t.data, t.shape);
      const wasm = run();
      expect(relErr(wasm.out, cpu.out)).toBeLessThan(1e-5);
      expect(relErr(wasm.grad, cpu.grad)).toBeLessThan(1e-4);
      expect(relErr(wasm.hv, cpu.hv)).toBeLessThan(1e-4);
      disposeParams(p);
    } finally {
      await initBackend('cpu');
    }
  });

  it('declares rescaling zero modes (relu) and linear-group zero modes (identity) that are flat at a minimum', () => {
    const rng = new Rng(7);
    for (const [activation, names] of [
      ['relu', ['relu-rescaling']],
      ['identity', ['linear-rotation', 'linear-scaling-shear']],
    ] as const) {
      // width 2 everywhere: 2 rescalings (relu) or 2² GL(2) directions (identity) per link
      const m = make({ layer: 'gin', hidden: [2, 2], activation, head: [2], graph: { kind: 'lattice-1d', size: 6 }, readout: 'graph' }, [6], 2);
      const p = m.init(rng.split(activation));
      const x = randomTensor(rng, [8, 6]);
      const teacher = m.apply(p, x); // targets = the model's own outputs: a global minimum of the MSE
      const rep = zeroModeReport(m, p, x, teacher, 'mse', rng.split('pi'));
      expect(rep.names).toEqual(names);
      const links = 2 * 2 + 1; // two GIN layers (inner + outer link each) and one head hidden layer
      expect(rep.count).toBe(activation === 'relu' ? 2 * links : 4 * links);
      expect(rep.lambdaMax).toBeGreaterThan(1e-3);
      for (const row of rep.rows) expect(row.curvature).toBeLessThan(1e-4);
      // and at a generic point the loss is still invariant to first order: ∇L·v ≈ 0
      const y = randomTensor(rng, [8, 2]);
      const rep2 = zeroModeReport(m, p, x, y, 'mse', rng.split('pi2'));
      for (const row of rep2.rows) expect(row.grad).toBeLessThan(1e-4);
      tf.dispose([x, teacher, y]);
      disposeParams(p);
    }
  });

  it('leaks no tensors across repeated applies and symmetry calls', () => {
    const m = make({ layer: 'gcn', hidden: [3], readout: 'block' }, [6], 3);
    const p = m.init(new Rng(1));
    const x = randomTensor(new Rng(2), [2, 6]);
    tf.dispose(m.apply(p, x));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      tf.dispose(m.apply(p, x));
      for (const s of m.symmetries!(p)) tf.dispose(s.directions);
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    disposeParams(p);
    expect(maxAbs([0])).toBe(0);
  });
});
