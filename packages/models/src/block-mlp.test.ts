import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, disposeParams } from '@goldstone/core';
import type { ModelInstance } from '@goldstone/plugin-api';
import { blockLayout, blockMlp, blockMlpOptions, blockMlpParamCount, createBlockMlp } from './block-mlp';
import { createMlp, mlpOptions } from './mlp';
import { lossGradHvp, maxAbsDiff, outputs, permuteAxis1, randomTensor, relErr, zeroModeReport } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function make(options: Record<string, unknown>, sites: number, outputSize: number): ModelInstance {
  return createBlockMlp(blockMlpOptions.parse(options), { inputShape: [sites], outputSize });
}

describe('block-mlp plugin', () => {
  it('has the documented first-layer widths and parameter counts', () => {
    const cases: [Record<string, unknown>, number, number, number[]][] = [
      [{ hidden: [3] }, 8, 4, [8, 3, 4]],
      [{ hidden: [3], block: 2, tied: true }, 8, 4, [4, 3, 4]],
      [{ hidden: [3], block: 2, shared: true }, 8, 4, [2, 3, 1]],
      [{ hidden: [3], block: 2, tied: true, shared: true }, 8, 4, [1, 3, 1]],
    ];
    for (const [o, n, out, dims] of cases) {
      const parsed = blockMlpOptions.parse(o);
      const m = createBlockMlp(parsed, { inputShape: [n], outputSize: out });
      expect(blockLayout(parsed, n, out).dims).toEqual(dims);
      expect(m.specs.map((s) => s.shape)).toEqual([[dims[0], dims[1]], [dims[1]], [dims[1], dims[2]], [dims[2]]]);
      expect(m.paramCount).toBe(blockMlpParamCount({ dims }, true));
    }
    expect(() => make({ tied: true }, 8, 4)).toThrow(/tied: true needs block/);
    expect(() => make({ block: 3 }, 8, 4)).toThrow(/block 3 must divide the task.s 8 input sites/);
    expect(() => make({ block: 2, shared: true }, 8, 3)).toThrow(/multiple/);
    expect(() => blockMlp.options.parse({ sign: 'positive' })).toThrow();
  });

  it('is reachable as mlp options, with mlp unchanged without them', () => {
    const viaMlp = createMlp(mlpOptions.parse({ hidden: [3], activation: 'tanh', block: 2, tied: true, shared: true }), { inputShape: [6], outputSize: 3 });
    const direct = make({ hidden: [3], activation: 'tanh', block: 2, tied: true, shared: true }, 6, 3);
    expect(viaMlp.specs).toEqual(direct.specs);
    const p = direct.init(new Rng(1));
    const x = randomTensor(new Rng(2), [4, 6]);
    expect(maxAbsDiff(outputs(viaMlp, p, x), outputs(direct, p, x))).toBe(0);
    expect(mlpOptions.parse({})).not.toHaveProperty('tied');
    tf.dispose(x);
    disposeParams(p);
  });

  it('tied layers are invariant under permutations within blocks; shared layers are equivariant under block translations (1e-5)', () => {
    const rng = new Rng(21);
    const tied = make({ hidden: [5], activation: 'tanh', block: 3, tied: true }, 9, 2);
    const shared = make({ hidden: [5, 4], activation: 'relu', block: 3, shared: true }, 9, 6);
    const pt = tied.init(rng.split('t'));
    const ps = shared.init(rng.split('s'));
    const x = randomTensor(rng, [4, 9]);
    for (let t = 0; t < 3; t++) {
      const perm: number[] = [];
      for (let blk = 0; blk < 3; blk++) for (const i of rng.permutation(3)) perm.push(blk * 3 + i);
      const xp = permuteAxis1(x, perm);
      expect(maxAbsDiff(outputs(tied, pt, xp), outputs(tied, pt, x))).toBeLessThan(1e-5);
      xp.dispose();
    }
    // shift by one block: x′_i = x_{i+3}; outputs (2 per block) move by one block
    const shift = Array.from({ length: 9 }, (_, i) => (i + 3) % 9);
    const xs = permuteAxis1(x, shift);
    const y = outputs(shared, ps, x);
    const ys = outputs(shared, ps, xs);
    const expected = new Float32Array(y.length);
    for (let b = 0; b < 4; b++) for (let j = 0; j < 6; j++) expected[b * 6 + j] = y[b * 6 + ((j + 2) % 6)];
    expect(maxAbsDiff(ys, expected)).toBeLessThan(1e-5);
    tf.dispose([x, xs]);
    disposeParams(pt);
    disposeParams(ps);
  });

  it('constraints: unit-norm tied + shared linear map is the exact CLT block map ±1/√b, nonnegative weights are ≥ 0', () => {
    const b = 4;
    const m = make({ block: b, tied: true, shared: true, scale: 'unit-norm' }, 8, 2);
    const p = { 'dense0.weight': tf.tensor2d([[3.7]]), 'dense0.bias': tf.zeros([1]) };
    const x = randomTensor(new Rng(3), [5, 8]);
    const xv = x.dataSync();
    const y = outputs(m, p, x);
    for (let r = 0; r < 5; r++) {
      for (let k = 0; k < 2; k++) {
        let s = 0;
        for (let i = 0; i < b; i++) s += xv[r * 8 + k * b + i];
        expect(y[r * 2 + k]).toBeCloseTo(s / Math.sqrt(b), 5);
      }
    }
    const nn = make({ hidden: [3], activation: 'relu', sign: 'nonnegative' }, 4, 1);
    const q = nn.init(new Rng(4));
    const eye = tf.eye(4);
    // the effective weights are raw²: negating every raw weight changes no output
    expect(Object.keys(q).filter((k) => k.endsWith('.weight')).length).toBeGreaterThan(0);
    const flipped = Object.fromEntries(Object.entries(q).map(([k, t]) => [k, k.endsWith('.weight') ? tf.neg(t) : tf.clone(t)]));
    expect(Array.from(outputs(nn, flipped, eye))).toEqual(Array.from(outputs(nn, q, eye)));
    disposeParams(flipped);
    // nonnegative effective weights and relu: the output grows with every input
    const zero = tf.zeros([1, 4]);
    const base = outputs(nn, q, zero);
    for (const v of outputs(nn, q, eye)) expect(v).toBeGreaterThanOrEqual(base[0]);
    tf.dispose([x, eye, zero]);
    disposeParams(p);
    disposeParams(q);
  });

  it('HVPs match central finite differences at a smooth point for every structure and constraint', () => {
    const rng = new Rng(22);
    for (const o of [
      { hidden: [4], activation: 'tanh', block: 2, tied: true },
      { hidden: [4], activation: 'tanh', block: 2, shared: true, sign: 'nonnegative' },
      { hidden: [3, 3], activation: 'softplus', block: 2, tied: true, shared: true, scale: 'unit-norm' },
      { hidden: [4], activation: 'quadratic', sign: 'nonnegative', scale: 'unit-norm' },
    ]) {
      const m = make(o, 6, 3);
      const p = m.init(rng.split(JSON.stringify(o)));
      const x = randomTensor(rng, [5, 6]);
      const y = randomTensor(rng, [5, 3]);
      const r = lossGradHvp(m, p, x, y, 'mse', rng.normalArray(m.paramCount));
      expect(relErr(r.hv, r.fd)).toBeLessThan(1e-2);
      tf.dispose([x, y]);
      disposeParams(p);
    }
  });

  it('declared symmetries (norm scaling, rescaling of raw² weights, linear group) are zero modes', () => {
    const rng = new Rng(23);
    for (const [o, name, count] of [
      [{ hidden: [3], activation: 'tanh', scale: 'unit-norm', block: 2, tied: true }, 'norm-scaling', 3 + 2],
      [{ hidden: [3, 2], activation: 'relu', sign: 'nonnegative', block: 2, shared: true }, 'relu-rescaling', 3 + 2],
      [{ hidden: [3], activation: 'identity', block: 2, tied: true }, 'linear-rotation', 3],
    ] as const) {
      const m = make(o, 6, 2 * (o.block === 2 && 'shared' in o ? 3 : 1));
      const p = m.init(rng.split(name));
      const x = randomTensor(rng, [8, 6]);
      const teacher = m.apply(p, x);
      const rep = zeroModeReport(m, p, x, teacher, 'mse', rng.split('pi'));
      expect(rep.names[0]).toBe(name);
      expect(rep.rows.filter((r) => r.name === name).length).toBe(count);
      for (const row of rep.rows) expect(row.curvature).toBeLessThan(1e-4);
      const y = randomTensor(rng, teacher.shape);
      for (const row of zeroModeReport(m, p, x, y, 'mse', rng.split('pi2')).rows) expect(row.grad).toBeLessThan(1e-4);
      tf.dispose([x, teacher, y]);
      disposeParams(p);
    }
  });
});
