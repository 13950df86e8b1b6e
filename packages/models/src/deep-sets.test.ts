import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, disposeParams, flattenParams, initBackend, unflattenParams } from '@goldstone/core';
import type { ModelInstance } from '@goldstone/plugin-api';
import { createDeepSets, deepSets, deepSetsOptions, deepSetsParamCount } from './deep-sets';
import { lossGradHvp, maxAbsDiff, outputs, permuteAxis1, randomTensor, relErr, zeroModeReport } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function make(options: Record<string, unknown>, inputShape: number[], outputSize: number): ModelInstance {
  return createDeepSets(deepSetsOptions.parse(options), { inputShape, outputSize });
}

/** Padded sets [B, N, F]: the first `sizes[b]` elements present, the rest all zeros. */
function paddedSets(rng: Rng, sizes: number[], N: number, F: number, positiveChannel?: number): tf.Tensor {
  const v = new Float32Array(sizes.length * N * F);
  sizes.forEach((n, b) => {
    for (let i = 0; i < n; i++) for (let f = 0; f < F; f++) v[(b * N + i) * F + f] = f === positiveChannel ? 0.1 + rng.uniform() : rng.normal();
  });
  return tf.tensor3d(v, [sizes.length, N, F]);
}

describe('deep-sets plugin', () => {
  it('has the documented layout and parameter count', () => {
    const o = deepSetsOptions.parse({ equivariant: [4], phi: [5], rho: [3] });
    const m = createDeepSets(o, { inputShape: [6, 3], outputSize: 2 });
    expect(m.specs.map((s) => s.name)).toEqual([
      'eq0.lambda', 'eq0.gamma', 'eq0.bias', 'phi.dense0.weight', 'phi.dense0.bias',
      'rho.dense0.weight', 'rho.dense0.bias', 'rho.dense1.weight', 'rho.dense1.bias',
    ]);
    expect(m.paramCount).toBe(2 * 3 * 4 + 4 + (4 * 5 + 5) + (5 * 3 + 3) + (3 * 2 + 2));
    expect(m.paramCount).toBe(deepSetsParamCount(o, 3, 2));
    expect(make({ weightChannel: 0, phi: [4], rho: [] }, [5, 3], 1).paramCount).toBe(deepSetsParamCount(deepSetsOptions.parse({ phi: [4], rho: [] }), 2, 1));
    expect(() => make({ weightChannel: 3 }, [5, 3], 1)).toThrow(/weightChannel/);
    expect(() => make({ readout: 'element' }, [5, 3], 3)).toThrow(/multiple/);
    expect(() => deepSets.options.parse({ pool: 'max' })).toThrow();
  });

  it('is invariant (set readout) and equivariant (element readout) under random permutations of padded sets (1e-5)', () => {
    const rng = new Rng(11);
    for (const [pool, weightChannel] of [['sum', undefined], ['mean', undefined], ['sum', 0]] as const) {
      const opts = { equivariant: [4], phi: [5], rho: [4], pool, activation: 'tanh', weightChannel };
      const inv = make(opts, [7, 3], 2);
      const eqv = make({ ...opts, readout: 'element' }, [7, 3], 7);
      const pi = inv.init(rng.split('i'));
      const pe = eqv.init(rng.split('e'));
      const x = paddedSets(rng, [7, 4, 1], 7, 3, 0);
      const y = outputs(eqv, pe, x);
      for (let t = 0; t < 3; t++) {
        const perm = rng.permutation(7);
        const xp = permuteAxis1(x, perm);
        expect(maxAbsDiff(outputs(inv, pi, xp), outputs(inv, pi, x))).toBeLessThan(1e-5);
        const yp = outputs(eqv, pe, xp);
        const expected = new Float32Array(y.length);
        for (let b = 0; b < 3; b++) for (let i = 0; i < 7; i++) expected[b * 7 + i] = y[b * 7 + perm[i]];
        expect(maxAbsDiff(yp, expected)).toBeLessThan(1e-5);
        xp.dispose();
      }
      // padding is ignored: the same sets without padding give the same outputs
      const small = make(opts, [4, 3], 2);
      const x4 = tf.slice(x, [1, 0, 0], [1, 4, 3]);
      const x7 = tf.slice(x, [1, 0, 0], [1, 7, 3]);
      expect(maxAbsDiff(outputs(small, pi, x4), outputs(inv, pi, x7))).toBeLessThan(1e-5);
      tf.dispose([x, x4, x7]);
      disposeParams(pi);
      disposeParams(pe);
    }
  });

  it('HVPs match central finite differences at a smooth point', () => {
    const rng = new Rng(12);
    const m = make({ equivariant: [4], phi: [4], rho: [3], pool: 'mean', activation: 'tanh' }, [5, 3], 2);
    const p = m.init(rng.split('p'));
    const x = paddedSets(rng, [5, 3, 4], 5, 3);
    const y = randomTensor(rng, [3, 2]);
    const r = lossGradHvp(m, p, x, y, 'mse', rng.normalArray(m.paramCount));
    expect(relErr(r.hv, r.fd)).toBeLessThan(1e-2);
    tf.dispose([x, y]);
    disposeParams(p);
  });

  it('gives the same outputs, gradients and HVPs on wasm as on cpu', async () => {
    const rng = new Rng(13);
    const m = make({ equivariant: [3], phi: [4], rho: [3], weightChannel: 0, activation: 'softplus' }, [5, 3], 2);
    const p0 = m.init(rng.split('p'));
    const host = Object.fromEntries(Object.entries(p0).map(([k, t]) => [k, { data: Float32Array.from(t.dataSync()), shape: t.shape }]));
    disposeParams(p0);
    const xv = paddedSets(rng, [5, 2, 4], 5, 3, 0);
    const xa = Float32Array.from(xv.dataSync());
    xv.dispose();
    const yv = rng.normalArray(6);
    const v = rng.normalArray(m.paramCount);
    const run = () => {
      const p = Object.fromEntries(Object.entries(host).map(([k, t]) => [k, tf.tensor(t.data, t.shape)]));
      const x = tf.tensor3d(xa, [3, 5, 3]);
      const y = tf.tensor2d(yv, [3, 2]);
      const r = { out: outputs(m, p, x), ...lossGradHvp(m, p, x, y, 'mse', v) };
      tf.dispose([x, y]);
      disposeParams(p);
      return r;
    };
    const cpu = run();
    await initBackend('wasm');
    try {
      const wasm = run();
      expect(relErr(wasm.out, cpu.out)).toBeLessThan(1e-5);
      expect(relErr(wasm.grad, cpu.grad)).toBeLessThan(1e-4);
      expect(relErr(wasm.hv, cpu.hv)).toBeLessThan(1e-4);
    } finally {
      await initBackend('cpu');
    }
  });

  it('declares relu-rescaling zero modes that are flat at a minimum and first-order invariant elsewhere', () => {
    const rng = new Rng(14);
    const m = make({ equivariant: [3], phi: [3], rho: [3], pool: 'mean' }, [5, 2], 1);
    const p = m.init(rng.split('p'));
    const x = paddedSets(rng, [5, 4, 3, 5, 2, 5], 5, 2);
    const teacher = m.apply(p, x);
    const rep = zeroModeReport(m, p, x, teacher, 'mse', rng.split('pi'));
    expect(rep.names).toEqual(['relu-rescaling']);
    expect(rep.count).toBe(3 + 3 + 3);
    for (const row of rep.rows) expect(row.curvature).toBeLessThan(1e-4);
    const y = randomTensor(rng, [6, 1]);
    for (const row of zeroModeReport(m, p, x, y, 'mse', rng.split('pi2')).rows) expect(row.grad).toBeLessThan(1e-4);
    tf.dispose([x, teacher, y]);
    disposeParams(p);
  });

  it('leaks no tensors over repeated applies', () => {
    const m = make({ equivariant: [3], pool: 'mean', readout: 'element', weightChannel: 1 }, [4, 3], 4);
    const p = m.init(new Rng(1));
    const x = paddedSets(new Rng(2), [4, 2], 4, 3, 1);
    tf.dispose(m.apply(p, x));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(m.apply(p, x));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    disposeParams(p);
  });
});

describe('deep-sets differentiated with respect to its inputs', () => {
  it('gives finite input gradients through the mask, and their parameter gradient matches finite differences', () => {
    const rng = new Rng(15);
    const m = make({ phi: [4], rho: [3], pool: 'sum', activation: 'tanh', weightChannel: 0 }, [4, 3], 1);
    const p = m.init(rng.split('p'));
    const x = paddedSets(rng, [4, 2], 4, 3, 0);
    // a rotation generator in the (Δη, Δφ) channels: G·x = (0, −x₂, x₁)
    const gx = tf.tidy(() => {
      const [z, a, b] = tf.split(x, 3, 2);
      return tf.concat([tf.zerosLike(z), tf.neg(b), a], 2);
    });
    const w = flattenParams(p, m.specs);
    const violation = (wv: tf.Tensor): tf.Scalar =>
      tf.tidy(() => {
        const q = unflattenParams(wv as tf.Tensor1D, m.specs);
        const dx = tf.grad((xx: tf.Tensor) => tf.sum(m.apply(q, xx)))(x);
        return tf.sum(tf.square(tf.sum(tf.mul(dx, gx), [1, 2])));
      });
    const g = tf.grad(violation as (t: tf.Tensor) => tf.Tensor)(w);
    const gv = g.dataSync();
    expect(gv.every(Number.isFinite)).toBe(true);
    const u = rng.normalArray(m.paramCount);
    const un = Math.hypot(...u);
    const ut = tf.tensor1d(u.map((a) => a / un));
    const h = 1e-2;
    const [plus, minus] = [tf.add(w, tf.mul(ut, h)), tf.sub(w, tf.mul(ut, h))].map((t) => {
      const s = violation(t);
      const val = s.dataSync()[0];
      tf.dispose([s, t]);
      return val;
    });
    const an = tf.tidy(() => tf.sum(tf.mul(g, ut)).dataSync()[0]);
    expect(Math.abs(an - (plus - minus) / (2 * h))).toBeLessThan(2e-2 * Math.abs(an) + 1e-6);
    tf.dispose([x, gx, w, g, ut]);
    disposeParams(p);
  });
});
