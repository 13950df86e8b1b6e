import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, disposeParams, flatLoss, flattenParams, gradientOf, hvp, paramsFromArray } from '@goldstone/core';
import type { ModelInstance } from '@goldstone/plugin-api';
import { createMlp, mlp, mlpOptions, mlpParamCount } from './mlp';
import { initStd } from './init-schemes';
import { plugins } from './index';
import { dot, mlpFixtures, relErr } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ctx = { inputShape: [2, 3], outputSize: 4, outputKind: 'classification' as const };

function make(options: Record<string, unknown>, c: { inputShape: number[]; outputSize: number } = ctx): ModelInstance {
  return createMlp(mlpOptions.parse(options), c);
}

describe('mlp plugin', () => {
  it('is a model plugin exported in `plugins`, with documented defaults', () => {
    expect(plugins).toContain(mlp);
    expect(mlp.kind).toBe('model');
    expect(mlp.name).toBe('mlp');
    expect(mlp.options.parse({})).toEqual({
      hidden: [64, 64],
      activation: 'relu',
      bias: true,
      init: 'auto',
      initScale: 0.1,
    });
    expect(() => mlp.options.parse({ activation: 'swish' })).toThrow();
    expect(() => mlp.options.parse({ hidden: [0] })).toThrow();
    expect(() => mlp.options.parse({ widths: [3] })).toThrow();
  });

  it('has the documented parameter names, shapes, groups and count, and maps [B, ...inputShape] to [B, outputSize]', () => {
    const model = mlp.create(mlp.options.parse({ hidden: [5, 7], activation: 'tanh' }), ctx);
    expect(model.specs).toEqual([
      { name: 'dense0.weight', shape: [6, 5] },
      { name: 'dense0.bias', shape: [5] },
      { name: 'dense1.weight', shape: [5, 7] },
      { name: 'dense1.bias', shape: [7] },
      { name: 'dense2.weight', shape: [7, 4] },
      { name: 'dense2.bias', shape: [4] },
    ]);
    expect(model.paramCount).toBe(6 * 5 + 5 + 5 * 7 + 7 + 7 * 4 + 4);
    expect(model.paramCount).toBe(mlpParamCount(6, [5, 7], 4, true));
    expect(model.groups).toEqual({
      dense0: ['dense0.weight', 'dense0.bias'],
      dense1: ['dense1.weight', 'dense1.bias'],
      dense2: ['dense2.weight', 'dense2.bias'],
    });
    expect(model.info?.paramCount).toBe(model.paramCount);
    const params = model.init(new Rng(1));
    const out = tf.tidy(() => model.apply(params, tf.ones([3, 2, 3])));
    expect(out.shape).toEqual([3, 4]);
    out.dispose();
    expect(() => tf.tidy(() => model.apply(params, tf.ones([3, 5])))).toThrow(/inputShape/);
    disposeParams(params);

    const linear = make({ hidden: [], bias: false }, { inputShape: [3], outputSize: 2 });
    expect(linear.specs).toEqual([{ name: 'dense0.weight', shape: [3, 2] }]);
    expect(linear.paramCount).toBe(mlpParamCount(3, [], 2, false));
  });

  it('initialises identically for a seed and differently for another', () => {
    const model = make({ hidden: [8, 8], activation: 'gelu' });
    const a = model.init(new Rng(42));
    const b = model.init(new Rng(42));
    const c = model.init(new Rng(43));
    const fa = flattenParams(a, model.specs);
    const fb = flattenParams(b, model.specs);
    const fc = flattenParams(c, model.specs);
    expect(Array.from(fa.dataSync())).toEqual(Array.from(fb.dataSync()));
    expect(Array.from(fa.dataSync())).not.toEqual(Array.from(fc.dataSync()));
    tf.dispose([fa, fb, fc]);
    for (const p of [a, b, c]) disposeParams(p);
  });

  it.each([
    ['relu', 'auto', 'he'],
    ['tanh', 'auto', 'glorot'],
    ['sigmoid', 'lecun', 'lecun'],
    ['relu', 'normal', 'normal'],
  ] as const)('%s with init %s draws weights with the %s standard deviation and zero biases', (act, init, scheme) => {
    const model = make({ hidden: [128, 96], activation: act, init, initScale: 0.05 }, { inputShape: [64], outputSize: 10 });
    expect(model.info?.init).toBe(scheme);
    const params = model.init(new Rng(5));
    const widths = [64, 128, 96, 10];
    for (let i = 0; i < 3; i++) {
      const w = Float32Array.from(params[`dense${i}.weight`].dataSync());
      const n = w.length;
      const mean = w.reduce((s, x) => s + x, 0) / n;
      const std = Math.sqrt(w.reduce((s, x) => s + (x - mean) ** 2, 0) / n);
      const expected = initStd(scheme, widths[i], widths[i + 1], 0.05);
      // Sample std of n normals has relative standard error 1/√(2n) (≤ 3.2 % for n = 640): bound 5σ.
      expect(Math.abs(std / expected - 1)).toBeLessThan(5 / Math.sqrt(2 * n));
      expect(Math.abs(mean)).toBeLessThan((5 * expected) / Math.sqrt(n));
      expect(Array.from(params[`dense${i}.bias`].dataSync()).every((x) => x === 0)).toBe(true);
    }
    disposeParams(params);
  });

  it("init torch draws weights and biases U(−1/√fan_in, 1/√fan_in) (nn.Linear's default); refused with block structure", () => {
    const model = make({ hidden: [128, 96], activation: 'tanh', init: 'torch' }, { inputShape: [64], outputSize: 10 });
    expect(model.info?.init).toBe('torch');
    const params = model.init(new Rng(5));
    const widths = [64, 128, 96, 10];
    for (let i = 0; i < 3; i++) {
      const bound = 1 / Math.sqrt(widths[i]);
      for (const name of [`dense${i}.weight`, `dense${i}.bias`]) {
        const w = Float32Array.from(params[name].dataSync());
        const n = w.length;
        const mean = w.reduce((s, x) => s + x, 0) / n;
        const v2 = w.reduce((s, x) => s + x * x, 0) / n;
        expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
        // U(−a, a): variance a²/3, fourth moment a⁴/5; 5σ bounds on the sample moments.
        expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(bound ** 2 / 3 / n));
        expect(Math.abs(v2 - bound ** 2 / 3)).toBeLessThan(5 * Math.sqrt((bound ** 4 / 5 - bound ** 4 / 9) / n));
      }
      expect(initStd('torch', widths[i], widths[i + 1], 0.1)).toBeCloseTo(bound / Math.sqrt(3), 12);
    }
    disposeParams(params);
    expect(() => mlpOptions.parse({ init: 'torch', block: 2, tied: true })).toThrow(/init/);
  });
});

// ------------------------------------------------------------------------------------------
// Float64 PyTorch references (packages/core/scripts/make-fixtures.py)

const fixtures = mlpFixtures();

describe('mlp against float64 PyTorch fixtures', () => {
  it('cover every activation and every loss', () => {
    expect(new Set(fixtures.cases.map((c) => c.activation)).size).toBe(9);
    expect(new Set(fixtures.cases.map((c) => c.loss)).size).toBe(3);
  });

  // Inputs are float32-exact in the fixtures, so only float32 arithmetic differs. Unit roundoff is
  // 6e-8; through ≤ 4 layers of width ≤ 8, a batch of ≤ 10 and two backward passes the relative
  // error measured on cpu is ≤ 2.4e-7 for loss, gradient and Hv alike. The bound 1e-5 leaves a
  // 40× margin (other backends, other summation orders) and still catches any wrong second-order
  // term, which shows up as an O(0.1..1) relative error.
  it.each(fixtures.cases.map((c) => [c.name, c] as const))('%s: loss, gradient and Hv', (_, c) => {
    const model = createMlp(
      mlpOptions.parse({ hidden: c.hidden, activation: c.activation, bias: c.bias }),
      { inputShape: c.inputShape, outputSize: c.outputSize },
    );
    expect(model.specs).toEqual(c.specs);
    const x = tf.tensor(c.x, [c.batch, ...c.inputShape]);
    const y = tf.tensor(c.y, c.yShape);
    const w = tf.tensor1d(c.w);
    const v = tf.tensor1d(c.v);
    const f = flatLoss(model, c.loss, x, y);
    const loss = tf.tidy(() => f(w).dataSync()[0]);
    const g = gradientOf(f, w);
    const hv = hvp(f, w, v);
    expect(Math.abs(loss - c.lossValue) / Math.abs(c.lossValue)).toBeLessThan(1e-5);
    expect(relErr(g.dataSync(), c.grad)).toBeLessThan(1e-5);
    expect(relErr(hv.dataSync(), c.hv)).toBeLessThan(1e-5);
    tf.dispose([x, y, w, v, g, hv]);
  });
});

// ------------------------------------------------------------------------------------------
// ReLU rescaling symmetries

describe('relu rescaling directions', () => {
  const c = { inputShape: [3], outputSize: 2 };
  const N = 12;
  const rng = new Rng(2024);
  const X = rng.split('x').normalArray(N * 3);
  const Y = rng.split('y').normalArray(N * 2);

  it('exist only for relu and leaky-relu, one per hidden unit, of full length', () => {
    for (const [act, count] of [
      ['relu', 11],
      ['leaky-relu', 11],
      ['tanh', 0],
      ['gelu', 0],
    ] as const) {
      const model = make({ hidden: [6, 5], activation: act }, c);
      const params = model.init(new Rng(1));
      const syms = model.symmetries!(params);
      const dirs = syms.flatMap((s) => s.directions);
      expect(dirs.length).toBe(count);
      if (count) expect(syms[0].name).toBe('relu-rescaling');
      for (const d of dirs) expect(d.shape).toEqual([model.paramCount]);
      tf.dispose(dirs);
      disposeParams(params);
    }
  });

  it('leave the function unchanged along the exact rescaling curve', () => {
    const model = make({ hidden: [6, 5], activation: 'leaky-relu' }, c);
    const params = model.init(new Rng(3));
    const [before, after] = tf.tidy(() => {
      const x = tf.tensor2d(X, [N, 3]);
      const scaled = { ...params };
      // scale hidden unit 2 of layer 0 by 3: incoming ×3, bias ×3, outgoing ÷3
      const s = tf.tensor1d([1, 1, 3, 1, 1, 1]);
      scaled['dense0.weight'] = tf.mul(params['dense0.weight'], s);
      scaled['dense0.bias'] = tf.mul(params['dense0.bias'], s);
      scaled['dense1.weight'] = tf.div(params['dense1.weight'], tf.reshape(s, [6, 1]));
      return [model.apply(params, x).dataSync(), model.apply(scaled, x).dataSync()];
    });
    expect(relErr(after, before)).toBeLessThan(1e-6);
    disposeParams(params);
  });

  it('are zero modes of the loss: ∇L·v = 0, vᵀHv = −∇L·(d²w/dt²) anywhere, and vᵀHv ≈ 0 near a minimum', () => {
    const model = make({ hidden: [6, 5], activation: 'relu' }, c);
    const init = model.init(new Rng(7));
    // Non-zero biases, so the bias part of the directions is exercised.
    const w0 = Float32Array.from(flattenParams(init, model.specs).dataSync());
    disposeParams(init);
    const noise = new Rng(8).normalArray(w0.length, 0.1);
    for (let i = 0; i < w0.length; i++) w0[i] += noise[i];

    const x = tf.tensor2d(X, [N, 3]);
    const y = tf.tensor2d(Y, [N, 2]);
    const f = flatLoss(model, 'mse', x, y);
    // Flat ranges of the outgoing weights of hidden layers 0 (dense1.weight) and 1 (dense2.weight).
    const outgoing = [1, 2].map((l) => {
      let offset = 0;
      for (const s of model.specs) {
        if (s.name === `dense${l}.weight`) return { offset, size: s.shape[0] * s.shape[1] };
        offset += s.shape.reduce((a, b) => a * b, 1);
      }
      throw new Error('unreachable');
    });

    const check = (wArr: Float32Array): { vHv: number[]; scale: number; gradNorm: number } => {
      const params = paramsFromArray(wArr, model.specs);
      const dirs = model.symmetries!(params)[0].directions;
      const w = tf.tensor1d(wArr);
      const g = gradientOf(f, w);
      const gd = g.dataSync();
      const gradNorm = Math.hypot(...gd);
      const vHv: number[] = [];
      let scale = 0;
      for (const [index, v] of dirs.entries()) {
        const vd = v.dataSync();
        const hv = hvp(f, w, v);
        const q = dot(vd, hv.dataSync());
        const vNorm = Math.hypot(...vd);
        // ∇L·v = 0 exactly (float32 cancellation only)
        expect(Math.abs(dot(gd, vd))).toBeLessThan(1e-5 * gradNorm * vNorm + 1e-7);
        // Along the curve w(t) (incoming ×eᵗ, outgoing ×e⁻ᵗ), L is constant, so
        // 0 = d²L/dt² = vᵀHv + ∇L·w'' with w'' = (+W_in, +b, +W_out): v with its outgoing part negated.
        const wpp = Float32Array.from(vd);
        const out = outgoing[index < 6 ? 0 : 1];
        for (let k = out.offset; k < out.offset + out.size; k++) wpp[k] = -wpp[k];
        const curvature = -dot(gd, wpp);
        expect(Math.abs(q - curvature)).toBeLessThan(1e-4 * (Math.abs(curvature) + vNorm * vNorm * 1e-3));
        vHv.push(q / (vNorm * vNorm));
        scale = Math.max(scale, Math.hypot(...hv.dataSync()) / vNorm);
        hv.dispose();
      }
      tf.dispose([w, g, ...dirs]);
      disposeParams(params);
      return { vHv, scale, gradNorm };
    };

    const atInit = check(w0);

    // Gradient descent towards a minimum, then compare the curvature along the rescaling
    // directions with the top of the spectrum (power iteration on H).
    let w = tf.tensor1d(w0);
    for (let step = 0; step < 300; step++) {
      const next = tf.tidy(() => tf.sub(w, tf.mul(gradientOf(f, w), 0.1)) as tf.Tensor1D);
      w.dispose();
      w = next;
    }
    let u = tf.tensor1d(new Rng(9).normalArray(model.paramCount));
    let lambdaMax = 0;
    for (let k = 0; k < 50; k++) {
      const hu = hvp(f, w, u);
      lambdaMax = Math.hypot(...hu.dataSync()) / Math.hypot(...u.dataSync());
      u.dispose();
      u = tf.tidy(() => tf.div(hu, tf.norm(hu)) as tf.Tensor1D);
      hu.dispose();
    }
    const trained = Float32Array.from(w.dataSync());
    tf.dispose([w, u]);
    const { vHv, gradNorm } = check(trained);
    // Measured after 300 steps: ‖∇L‖ falls from 4.2 to 0.11; max |vᵀHv|/‖v‖² from 0.84 to 0.012, with
    // λ_max ≈ 5.3 (bound 0.053): a margin of 4× on each side of the bound.
    expect(gradNorm).toBeLessThan(0.1 * atInit.gradNorm);
    for (const q of vHv) expect(Math.abs(q)).toBeLessThan(1e-2 * lambdaMax);
    // …while at the initial point the same directions are far from flat (so the bound has teeth).
    expect(Math.max(...atInit.vHv.map(Math.abs))).toBeGreaterThan(1e-2 * lambdaMax);
    tf.dispose([x, y]);
  });
});

describe('memory', () => {
  it('init, apply, symmetries and HVPs leak no tensors', () => {
    const model = make({ hidden: [8, 8], activation: 'relu' }, { inputShape: [3], outputSize: 2 });
    const x = tf.tensor2d(new Rng(1).normalArray(10 * 3), [10, 3]);
    const y = tf.tensor2d(new Rng(2).normalArray(10 * 2), [10, 2]);
    const f = flatLoss(model, 'mse', x, y);
    const run = (): void => {
      const params = model.init(new Rng(3));
      tf.dispose(model.apply(params, x));
      tf.dispose(model.symmetries!(params).flatMap((s) => s.directions));
      const w = flattenParams(params, model.specs);
      hvp(f, w, w).dispose();
      w.dispose();
      disposeParams(params);
    };
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) run();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });
});
