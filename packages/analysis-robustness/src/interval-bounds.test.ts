import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIVATIONS, Rng, activation as activationOf, disposeParams } from '@goldstone/core';
import { createMlp } from '@goldstone/models';
import { toyLinearModel, toyMlp } from '@goldstone/testkit';
import { activationBounds, checkChain, denseChain, intervalBounds, type DenseChain } from './interval-bounds';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('activationBounds', () => {
  it('gives the exact range of every activation on intervals (dense grid reference)', () => {
    const rng = new Rng(2);
    const ls = Array.from({ length: 60 }, () => 3 * rng.normal());
    const ws = Array.from({ length: 60 }, () => Math.abs(2 * rng.normal()));
    ls.push(-1, -0.9, -2); // intervals around gelu's minimum and 0
    ws.push(2, 0.5, 4);
    const l = tf.tensor1d(ls);
    const u = tf.tensor1d(ls.map((v, i) => v + ws[i]));
    // the float32 interval ends the bounds are computed from
    const l32 = l.dataSync();
    const u32 = u.dataSync();
    for (const name of ACTIVATIONS) {
      const { lower, upper } = activationBounds(name, l, u);
      const lo = lower.dataSync();
      const hi = upper.dataSync();
      const f = activationOf(name);
      for (let i = 0; i < ls.length; i++) {
        const grid = tf.tensor1d(Float32Array.from({ length: 2001 }, (_, k) => (k === 2000 ? u32[i] : l32[i] + ((u32[i] - l32[i]) * k) / 2000)));
        const vals = f(grid).dataSync();
        const min = Math.min(...vals);
        const max = Math.max(...vals);
        const tol = 1e-5 * (1 + Math.abs(max));
        expect(lo[i], `${name} lower on [${l32[i]}, ${u32[i]}]`).toBeLessThanOrEqual(min + tol);
        expect(hi[i], `${name} upper`).toBeGreaterThanOrEqual(max - tol);
        // tight: the grid reaches the bounds to within its resolution
        expect(min - lo[i], `${name} lower is tight`).toBeLessThan(1e-3 * (1 + ws[i]) * (1 + Math.abs(max)));
        expect(hi[i] - max, `${name} upper is tight`).toBeLessThan(1e-3 * (1 + ws[i]) * (1 + Math.abs(max)));
        tf.dispose(grid);
      }
      tf.dispose([lower, upper]);
    }
    tf.dispose([l, u]);
  });
});

describe('intervalBounds', () => {
  it('contain every sampled perturbed output of mlps with every activation', () => {
    for (const activation of ACTIVATIONS) {
      const model = createMlp({ hidden: [6, 5], activation, bias: true, init: 'auto', initScale: 0.1 }, { inputShape: [4], outputSize: 3 });
      const params = model.init(new Rng(17));
      const chain = denseChain(model) as DenseChain;
      expect(chain.activation).toBe(activation);
      const rng = new Rng(3);
      const x = tf.tensor2d(rng.normalArray(8 * 4), [8, 4]);
      expect(checkChain(chain, model, params, x)).toBeLessThan(1e-5);
      const eps = 0.2;
      const { lower, upper } = intervalBounds(chain, params, tf.sub(x, eps), tf.add(x, eps));
      const lo = lower.dataSync();
      const hi = upper.dataSync();
      for (let k = 0; k < 100; k++) {
        // random points of the box, half of them corners
        const d = k % 2 === 0 ? rng.uniformArray(32, -eps, eps) : Float32Array.from(rng.rademacher(32), (s) => s * eps);
        const out = tf.tidy(() => model.apply(params, tf.add(x, tf.tensor2d(d, [8, 4]))).dataSync());
        for (let i = 0; i < out.length; i++) {
          expect(out[i], activation).toBeGreaterThanOrEqual(lo[i] - 1e-5);
          expect(out[i], activation).toBeLessThanOrEqual(hi[i] + 1e-5);
        }
      }
      tf.dispose([x, lower, upper]);
      disposeParams(params);
    }
  });

  it('are exact for a linear model: attained at the corners x ± ε·sign(W)', () => {
    const model = toyLinearModel.create({ bias: true }, { inputShape: [5], outputSize: 2, outputKind: 'regression' });
    const params = model.init(new Rng(8));
    const chain = denseChain(model) as DenseChain;
    expect(chain.layers).toEqual([{ weight: 'W', bias: 'b' }]);
    const x = tf.tensor2d(new Rng(1).normalArray(6 * 5), [6, 5]);
    const eps = 0.3;
    const { lower, upper } = intervalBounds(chain, params, tf.sub(x, eps), tf.add(x, eps));
    const w = params.W.dataSync();
    for (let j = 0; j < 2; j++) {
      const s = Float32Array.from({ length: 5 }, (_, i) => Math.sign(w[i * 2 + j]) * eps);
      const sign = tf.tensor2d(s, [1, 5]);
      const top = tf.tidy(() => model.apply(params, tf.add(x, sign)).dataSync());
      const bottom = tf.tidy(() => model.apply(params, tf.sub(x, sign)).dataSync());
      const hi = upper.dataSync();
      const lo = lower.dataSync();
      for (let i = 0; i < 6; i++) {
        expect(hi[i * 2 + j]).toBeCloseTo(top[i * 2 + j], 5);
        expect(lo[i * 2 + j]).toBeCloseTo(bottom[i * 2 + j], 5);
      }
      sign.dispose();
    }
    tf.dispose([x, lower, upper]);
    disposeParams(params);
  });

  it('reads the testkit toy mlp, and refuses layouts it does not know', () => {
    const model = toyMlp.create({ hidden: 4, activation: 'softplus' }, { inputShape: [3], outputSize: 2, outputKind: 'regression' });
    const chain = denseChain(model) as DenseChain;
    expect(chain.activation).toBe('softplus');
    expect(chain.layers.map((l) => l.weight)).toEqual(['W1', 'W2']);
    const params = model.init(new Rng(2));
    const x = tf.tensor2d(new Rng(3).normalArray(5 * 3), [5, 3]);
    expect(checkChain(chain, model, params, x)).toBeLessThan(1e-5);
    tf.dispose(x);
    disposeParams(params);
    const odd = { ...model, specs: [{ name: 'kernel', shape: [3, 2] }] };
    expect(typeof denseChain(odd)).toBe('string');
  });
});
