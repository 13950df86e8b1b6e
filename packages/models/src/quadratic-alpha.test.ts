import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, disposeParams, flatLoss, flattenParams, gradientOf } from '@goldstone/core';
import type { ModelInstance, Params } from '@goldstone/plugin-api';
import { blockMlp, blockMlpOptions, createBlockMlp } from './block-mlp';
import { createMlp, mlp, mlpOptions } from './mlp';
import { lossGradHvp, maxAbsDiff, outputs, randomTensor, relErr, zeroModeReport } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function host(p: Params, name: string): Float32Array {
  return p[name].dataSync() as Float32Array;
}

/** One hidden layer by hand on the host: (x·W₀ + b₀) ↦ z + αz² ↦ ·W₁ + b₁. */
function byHand(x: Float32Array, rows: number, p: Params, alpha: number, dims: [number, number, number]): Float32Array {
  const [d0, d1, d2] = dims;
  const [W0, b0, W1, b1] = ['dense0.weight', 'dense0.bias', 'dense1.weight', 'dense1.bias'].map((n) => host(p, n));
  const out = new Float32Array(rows * d2);
  for (let r = 0; r < rows; r++) {
    const h = new Float64Array(d1);
    for (let j = 0; j < d1; j++) {
      let z = b0[j];
      for (let i = 0; i < d0; i++) z += x[r * d0 + i] * W0[i * d1 + j];
      h[j] = z + alpha * z * z;
    }
    for (let c = 0; c < d2; c++) {
      let s = b1[c];
      for (let j = 0; j < d1; j++) s += h[j] * W1[j * d2 + c];
      out[r * d2 + c] = s;
    }
  }
  return out;
}

/** Bias draws (init gives zero biases), so that every term of z + αz² is exercised. */
function withRandomBiases(m: ModelInstance, p: Params, rng: Rng): Params {
  for (const s of m.specs) {
    if (!s.name.endsWith('.bias')) continue;
    p[s.name].dispose();
    p[s.name] = randomTensor(rng.split(s.name), s.shape, 0.3);
  }
  return p;
}

describe('quadratic activation z + αz²', () => {
  it('a fixed α: mlp and block-mlp compute z + αz² (checked by hand); without alpha quadratic stays z²', () => {
    const x = randomTensor(new Rng(1), [5, 4]);
    for (const alpha of [0.5, -1.25]) {
      const m = createMlp(mlpOptions.parse({ hidden: [3], activation: 'quadratic', alpha }), { inputShape: [4], outputSize: 2 });
      expect(m.specs.map((s) => s.name)).toEqual(['dense0.weight', 'dense0.bias', 'dense1.weight', 'dense1.bias']);
      const p = withRandomBiases(m, m.init(new Rng(2)), new Rng(3));
      expect(maxAbsDiff(outputs(m, p, x), byHand(x.dataSync() as Float32Array, 5, p, alpha, [4, 3, 2]))).toBeLessThan(1e-5);
      // the same network as a free block-mlp (no structure): identical parameters and outputs
      const b = createBlockMlp(blockMlpOptions.parse({ hidden: [3], activation: 'quadratic', alpha }), { inputShape: [4], outputSize: 2 });
      expect(maxAbsDiff(outputs(b, p, x), outputs(m, p, x))).toBeLessThan(1e-6);
      expect(m.info).toMatchObject({ alpha, activation: 'quadratic' });
      expect(m.symmetries?.(p)).toEqual([]);
      disposeParams(p);
    }
    const plain = createMlp(mlpOptions.parse({ hidden: [3], activation: 'quadratic' }), { inputShape: [4], outputSize: 2 });
    const p = withRandomBiases(plain, plain.init(new Rng(2)), new Rng(3));
    // z², by hand
    const W0 = host(p, 'dense0.weight');
    const b0 = host(p, 'dense0.bias');
    const W1 = host(p, 'dense1.weight');
    const b1 = host(p, 'dense1.bias');
    const xv = x.dataSync();
    const want = new Float32Array(10);
    for (let r = 0; r < 5; r++)
      for (let c = 0; c < 2; c++) {
        let s = b1[c];
        for (let j = 0; j < 3; j++) {
          let z = b0[j];
          for (let i = 0; i < 4; i++) z += xv[r * 4 + i] * W0[i * 3 + j];
          s += z * z * W1[j * 2 + c];
        }
        want[r * 2 + c] = s;
      }
    expect(maxAbsDiff(outputs(plain, p, x), want)).toBeLessThan(1e-5);
    disposeParams(p);
    x.dispose();
  });

  it('a learned α is a parameter dense{i}.alpha per hidden layer, in specs, groups, the flat vector and the counts', () => {
    const m = createMlp(mlpOptions.parse({ hidden: [4, 3], activation: 'quadratic', alpha: 'learned', alphaInit: 0.25 }), { inputShape: [5], outputSize: 2 });
    const names = m.specs.map((s) => s.name);
    expect(names).toEqual(['dense0.weight', 'dense0.bias', 'dense0.alpha', 'dense1.weight', 'dense1.bias', 'dense1.alpha', 'dense2.weight', 'dense2.bias']);
    expect(m.specs.find((s) => s.name === 'dense1.alpha')?.shape).toEqual([1]);
    expect(m.paramCount).toBe(5 * 4 + 4 + 4 * 3 + 3 + 3 * 2 + 2 + 2);
    expect(m.groups?.dense0).toContain('dense0.alpha');
    const est = mlp.estimate!(mlpOptions.parse({ hidden: [4, 3], activation: 'quadratic', alpha: 'learned' }), { inputShape: [5], outputSize: 2, outputKind: 'regression' });
    expect(est.params).toBe(m.paramCount);
    const p = m.init(new Rng(1));
    expect(Array.from(host(p, 'dense1.alpha'))).toEqual([0.25]);
    const w = flattenParams(p, m.specs);
    expect(w.dataSync()[5 * 4 + 4]).toBeCloseTo(0.25, 7); // dense0.alpha sits after dense0's weight and bias
    const shared = createBlockMlp(blockMlpOptions.parse({ hidden: [3, 2], activation: 'quadratic', alpha: 'learned', block: 2, shared: true }), { inputShape: [8], outputSize: 4 });
    expect(shared.specs.filter((s) => s.name.endsWith('.alpha')).map((s) => s.name)).toEqual(['dense0.alpha', 'dense1.alpha']);
    expect(blockMlp.estimate!(blockMlpOptions.parse({ hidden: [3, 2], activation: 'quadratic', alpha: 'learned', block: 2, shared: true }), { inputShape: [8], outputSize: 4, outputKind: 'regression' }).params).toBe(shared.paramCount);
    expect(host(shared.init(new Rng(1)), 'dense0.alpha')[0]).toBeCloseTo(0.1, 7); // the default alphaInit
    tf.dispose(w);
    disposeParams(p);
  });

  it('the gradient in α matches central finite differences, and the Hessian includes α (HVP against finite differences)', () => {
    const rng = new Rng(11);
    const models: [string, ModelInstance, number, number][] = [
      ['mlp', createMlp(mlpOptions.parse({ hidden: [4, 3], activation: 'quadratic', alpha: 'learned', alphaInit: 0.3 }), { inputShape: [6], outputSize: 2 }), 6, 2],
      ['shared block-mlp', createBlockMlp(blockMlpOptions.parse({ hidden: [3], activation: 'quadratic', alpha: 'learned', alphaInit: 0.3, block: 2, shared: true }), { inputShape: [6], outputSize: 3 }), 6, 3],
    ];
    for (const [name, m, n, out] of models) {
      const p = withRandomBiases(m, m.init(rng.split(name)), rng.split(`${name}.b`));
      const x = randomTensor(rng.split(`${name}.x`), [16, n]);
      const y = randomTensor(rng.split(`${name}.y`), [16, out]);
      const f = flatLoss(m, 'mse', x, y);
      const w = flattenParams(p, m.specs);
      const g = gradientOf(f, w).dataSync();
      const wv = Float32Array.from(w.dataSync());
      let offset = 0;
      for (const s of m.specs) {
        if (s.name.endsWith('.alpha')) {
          const at = (d: number): number => {
            const v = wv.slice();
            v[offset] += d;
            const wt = tf.tensor1d(v);
            const L = f(wt);
            const out = L.dataSync()[0];
            tf.dispose([wt, L]);
            return out;
          };
          // central differences, Richardson-extrapolated (the h² error cancels: L is a polynomial in α of degree 4)
          const D = (h: number): number => (at(h) - at(-h)) / (2 * h);
          const fd = (4 * D(5e-3) - D(1e-2)) / 3;
          expect(Math.abs(g[offset] - fd) / Math.abs(fd), `${name} ${s.name}: ${g[offset]} vs ${fd}`).toBeLessThan(2e-3);
          // H·e_α against finite differences of the gradient
          const e = new Float32Array(m.paramCount);
          e[offset] = 1;
          const r = lossGradHvp(m, p, x, y, 'mse', e);
          expect(relErr(r.hv, r.fd), `${name} H·e(${s.name})`).toBeLessThan(1e-2);
          expect(Math.abs(r.hv[offset]), `${name}: ∂²L/∂α² is nonzero`).toBeGreaterThan(1e-4);
        }
        offset += s.shape.reduce((a, b) => a * b, 1);
      }
      tf.dispose([x, y, w]);
      disposeParams(p);
    }
  });

  it('declares the exact α-rescaling symmetry: scaling a layer by c and α by 1/c leaves the function unchanged (zero modes)', () => {
    const rng = new Rng(5);
    const models: [string, ModelInstance, number, number][] = [
      ['mlp', createMlp(mlpOptions.parse({ hidden: [4, 3], activation: 'quadratic', alpha: 'learned', alphaInit: 0.3 }), { inputShape: [5], outputSize: 2 }), 5, 2],
      ['nonnegative block-mlp', createBlockMlp(blockMlpOptions.parse({ hidden: [3], activation: 'quadratic', alpha: 'learned', alphaInit: 0.3, sign: 'nonnegative' }), { inputShape: [4], outputSize: 2 }), 4, 2],
    ];
    for (const [name, m, n, out] of models) {
      const p = withRandomBiases(m, m.init(rng.split(name)), rng.split(`${name}.b`));
      const x = randomTensor(rng.split(`${name}.x`), [20, n]);
      const y = randomTensor(rng.split(`${name}.y`), [20, out]);
      // the gradient is orthogonal to a symmetry anywhere; the curvature vanishes at a minimum (a teacher's own outputs)
      const rep = zeroModeReport(m, p, x, y, 'mse', rng.split(`${name}.power`));
      expect(rep.names, name).toEqual(['quadratic-alpha-rescaling']);
      expect(rep.count, name).toBe(name === 'mlp' ? 2 : 1);
      for (const row of rep.rows) expect(row.grad, `${name} grad`).toBeLessThan(1e-4);
      const teacher = m.apply(p, x);
      for (const row of zeroModeReport(m, p, x, teacher, 'mse', rng.split(`${name}.power2`)).rows) expect(row.curvature, `${name} curvature`).toBeLessThan(1e-4);
      // and the finite transformation c = 1.7 on layer 0 (raw² weights: raw × √c) keeps the outputs
      const c = 1.7;
      const f = name === 'mlp' ? 1 : 0.5;
      const moved: Params = {};
      for (const [k, v] of Object.entries(p)) {
        const s = k === 'dense0.weight' ? c ** f : k === 'dense0.bias' ? c : k === 'dense0.alpha' ? 1 / c : k === 'dense1.weight' ? c ** -f : 1;
        moved[k] = tf.mul(v, s);
      }
      expect(maxAbsDiff(outputs(m, moved, x), outputs(m, p, x)), name).toBeLessThan(1e-5);
      tf.dispose([x, y, teacher]);
      disposeParams(p);
      disposeParams(moved);
    }
  });

  it('rejects alpha without the quadratic activation and alphaInit without a learned α, naming the field', () => {
    expect(mlpOptions.safeParse({ activation: 'tanh', alpha: 0.5 }).error?.issues[0]).toMatchObject({ path: ['alpha'], message: expect.stringMatching(/needs activation: quadratic, not tanh/) });
    expect(blockMlpOptions.safeParse({ activation: 'quadratic', alpha: 0.5, alphaInit: 1 }).error?.issues[0].path).toEqual(['alphaInit']);
    expect(mlpOptions.safeParse({ activation: 'quadratic', alpha: 'fixed' }).success).toBe(false);
    expect(mlpOptions.safeParse({ activation: 'quadratic', alpha: 'learned', alphaInit: -0.2 }).success).toBe(true);
  });
});
