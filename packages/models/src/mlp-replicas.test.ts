import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, disposeParams, initBackend, lossFunction } from '@goldstone/core';
import type { ModelInstance, Params } from '@goldstone/plugin-api';
import { createMlp, mlpOptions } from './mlp';
import { maxAbs, maxAbsDiff, randomTensor } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ctx = { inputShape: [2, 3], outputSize: 4 };
const R = 3;
const B = 5;

function make(options: Record<string, unknown>): ModelInstance {
  return createMlp(mlpOptions.parse(options), ctx);
}

/** R independently initialised replicas and their stack ([R, ...shape] per parameter). */
function replicas(model: ModelInstance): { each: Params[]; stacked: Params } {
  const each = Array.from({ length: R }, (_, r) => {
    const p = model.init(new Rng(10 + r));
    // a learned α away from its initial value, so that replicas differ there too
    for (const k of Object.keys(p)) if (k.endsWith('.alpha')) p[k] = tf.tidy(() => tf.add(p[k], 0.1 * (r + 1)));
    return p;
  });
  const stacked: Params = {};
  for (const s of model.specs) stacked[s.name] = tf.stack(each.map((p) => p[s.name]));
  return { each, stacked };
}

const CONFIGS: Record<string, unknown>[] = [
  { hidden: [5, 7], activation: 'tanh' },
  { hidden: [6], activation: 'relu', bias: false },
  { hidden: [4, 4], activation: 'quadratic', alpha: 'learned' },
  { hidden: [4], activation: 'quadratic', alpha: 0.3 },
  { hidden: [] },
];

describe('mlp applyReplicas', () => {
  for (const options of CONFIGS) {
    it(`equals apply per replica, in values and gradients (${JSON.stringify(options)})`, () => {
      const model = make(options);
      expect(model.applyReplicas).toBeTypeOf('function');
      const { each, stacked } = replicas(model);
      const rng = new Rng(7);
      const x = randomTensor(rng, [R, B, 2, 3]);
      const y = randomTensor(rng, [R, B, 4]);
      const before = tf.memory().numTensors;
      const out = model.applyReplicas!(stacked, x);
      expect(out.shape).toEqual([R, B, 4]);
      const got = out.arraySync() as number[][][];
      out.dispose();
      let worst = 0;
      for (let r = 0; r < R; r++) {
        const want = tf.tidy(() => model.apply(each[r], tf.gather(x, r)).arraySync() as number[][]);
        worst = Math.max(worst, maxAbsDiff(got[r].flat(), want.flat()));
      }
      // on cpu the batched matMul is bit-identical to the lone one (largest difference seen: 0);
      // the bound allows float32 round-off of dot products of length ≤ 7 on other kernels
      expect(worst).toBeLessThan(2e-6);

      // gradients of Σ_r mse_r through the stacked model are each replica's own gradient
      const names = model.specs.map((s) => s.name);
      const mse = lossFunction('mse');
      const grads = tf.tidy(() =>
        tf.grads((...ts: tf.Tensor[]) => {
          const p = Object.fromEntries(names.map((n, i) => [n, ts[i]]));
          const pred = model.applyReplicas!(p, x);
          return tf.sum(tf.mean(tf.square(tf.sub(pred, y)), [1, 2])) as tf.Scalar;
        })(names.map((n) => stacked[n])).map((g) => Float32Array.from(g.dataSync())),
      );
      let gradWorst = 0;
      let gradScale = 0;
      for (let r = 0; r < R; r++) {
        const own = tf.tidy(() =>
          tf.grads((...ts: tf.Tensor[]) => mse(model.apply(Object.fromEntries(names.map((n, i) => [n, ts[i]])), tf.gather(x, r)), tf.gather(y, r)))(names.map((n) => each[r][n])).map((g) => Float32Array.from(g.dataSync())),
        );
        names.forEach((_, i) => {
          const size = own[i].length;
          gradWorst = Math.max(gradWorst, maxAbsDiff(grads[i].subarray(r * size, (r + 1) * size), own[i]));
          gradScale = Math.max(gradScale, maxAbs(own[i]));
        });
      }
      expect(gradWorst).toBeLessThan(1e-5 * Math.max(1, gradScale));
      expect(tf.memory().numTensors).toBe(before);
      for (const p of each) disposeParams(p);
      disposeParams(stacked);
      x.dispose();
      y.dispose();
    });
  }

  it('is second-order safe: a Hessian-vector product through the stack is each replica’s own', () => {
    const model = make({ hidden: [5], activation: 'tanh' });
    const { each, stacked } = replicas(model);
    const rng = new Rng(3);
    const x = randomTensor(rng, [R, B, 2, 3]);
    const v = randomTensor(rng, [R, 6, 5]);
    const y = randomTensor(rng, [R, B, 4]);
    // H·v for dense0.weight only (others fixed): d/dw (∇_w L · v)
    const hv = (w: tf.Tensor, rest: Params, apply: (p: Params) => tf.Tensor, yy: tf.Tensor, vv: tf.Tensor) =>
      tf.grad((ww: tf.Tensor) => {
        const g = tf.grad((w2: tf.Tensor) => tf.sum(tf.square(tf.sub(apply({ ...rest, 'dense0.weight': w2 }), yy))) as tf.Scalar)(ww);
        return tf.sum(tf.mul(g, vv)) as tf.Scalar;
      })(w);
    const stackedHv = tf.tidy(() => hv(stacked['dense0.weight'], stacked, (p) => model.applyReplicas!(p, x), y, v).arraySync() as number[][][]);
    let worst = 0;
    for (let r = 0; r < R; r++) {
      const own = tf.tidy(() => hv(each[r]['dense0.weight'], each[r], (p) => model.apply(p, tf.gather(x, r)), tf.gather(y, r), tf.gather(v, r)).arraySync() as number[][]);
      worst = Math.max(worst, maxAbsDiff(stackedHv[r].flat(), own.flat()) / Math.max(1, maxAbs(own.flat())));
    }
    expect(worst).toBeLessThan(1e-5);
    for (const p of each) disposeParams(p);
    disposeParams(stacked);
    tf.dispose([x, v, y]);
  });

  it('refuses parameters without a replica axis and inputs of the wrong shape', () => {
    const model = make({ hidden: [3] });
    const lone = model.init(new Rng(1));
    expect(() => model.applyReplicas!(lone, tf.zeros([1, 2, 2, 3]))).toThrow(/leading replica axis/);
    const { stacked, each } = replicas(model);
    expect(() => model.applyReplicas!(stacked, tf.zeros([R + 1, 2, 2, 3]))).toThrow(/does not match/);
    for (const p of [lone, stacked, ...each]) disposeParams(p);
  });

  it('on wasm (a batched matMul kernel of its own) equals apply per replica for a wider layer, values and gradients', async () => {
    await initBackend('wasm');
    try {
      const model = createMlp(mlpOptions.parse({ hidden: [100], activation: 'tanh' }), { inputShape: [200], outputSize: 3 });
      const each = Array.from({ length: R }, (_, r) => model.init(new Rng(20 + r)));
      const stacked: Params = {};
      for (const s of model.specs) stacked[s.name] = tf.stack(each.map((p) => p[s.name]));
      const rng = new Rng(8);
      const x = randomTensor(rng, [R, B, 200]);
      const names = model.specs.map((s) => s.name);
      const sumOut = (p: Params, xx: tf.Tensor, f: (p: Params, x: tf.Tensor) => tf.Tensor) => tf.sum(tf.square(f(p, xx))) as tf.Scalar;
      const [got, gotGrads] = tf.tidy(() => [
        Float32Array.from(model.applyReplicas!(stacked, x).dataSync()),
        tf.grads((...ts: tf.Tensor[]) => sumOut(Object.fromEntries(names.map((n, i) => [n, ts[i]])), x, model.applyReplicas!))(names.map((n) => stacked[n])).map((g) => Float32Array.from(g.dataSync())),
      ] as const);
      let worst = 0;
      for (let r = 0; r < R; r++) {
        const [want, wantGrads] = tf.tidy(() => {
          const xr = tf.gather(x, r);
          return [
            Float32Array.from(model.apply(each[r], xr).dataSync()),
            tf.grads((...ts: tf.Tensor[]) => sumOut(Object.fromEntries(names.map((n, i) => [n, ts[i]])), xr, model.apply))(names.map((n) => each[r][n])).map((g) => Float32Array.from(g.dataSync())),
          ] as const;
        });
        worst = Math.max(worst, maxAbsDiff(got.subarray(r * B * 3, (r + 1) * B * 3), want));
        wantGrads.forEach((g, i) => (worst = Math.max(worst, maxAbsDiff(gotGrads[i].subarray(r * g.length, (r + 1) * g.length), g))));
      }
      // largest difference seen: 3.3e-6 (gradients of Σ out², magnitudes ~10): float32 round-off of the batched kernel
      expect(worst).toBeLessThan(1e-4);
      for (const p of each) disposeParams(p);
      disposeParams(stacked);
      x.dispose();
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it('is absent from block-structured MLPs (they have no batched rule)', () => {
    const model = make({ hidden: [6], block: 3, tied: true });
    expect(model.applyReplicas).toBeUndefined();
  });
});
