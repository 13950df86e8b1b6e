import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng, disposeParams, flatLoss, flattenParams, hvp, initBackend, lossFunction } from '@goldstone/core';
import type { ModelInstance, Params } from '@goldstone/plugin-api';
import { createMlp, mlpOptions } from './mlp';
import { relErr } from './test-support';

const ctx = { inputShape: [6], outputSize: 3, outputKind: 'classification' as const };
const make = (options: Record<string, unknown>): ModelInstance => createMlp(mlpOptions.parse(options), ctx);

function data(seed: number, n = 40): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const rng = new Rng(seed);
  const x = tf.tensor2d(rng.normalArray(n * 6), [n, 6]);
  const labels = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) labels[i * 3 + rng.int(3)] = 1;
  return { x, y: tf.tensor2d(labels, [n, 3]) };
}

/** Loss value and parameter gradients of `forward` (flat, in specs order). */
function lossAndGrads(model: ModelInstance, forward: (p: Params, x: tf.Tensor) => tf.Tensor, params: Params, x: tf.Tensor, y: tf.Tensor): { loss: number; grads: Float32Array } {
  const names = model.specs.map((s) => s.name);
  const loss = lossFunction('softmax-cross-entropy');
  return tf.tidy(() => {
    const r = tf.valueAndGrads((...ts: tf.Tensor[]) => loss(forward(Object.fromEntries(names.map((n, i) => [n, ts[i]])), x), y))(names.map((n) => params[n]));
    return { loss: r.value.dataSync()[0], grads: Float32Array.from(tf.concat(r.grads.map((g) => tf.reshape(g, [-1]))).dataSync()) };
  });
}

afterAll(async () => {
  await initBackend('cpu');
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`mlp applyFirstOrder on ${backend}`, () => {
    for (const options of [
      { hidden: [8, 5], activation: 'relu' },
      { hidden: [8], activation: 'identity', bias: false },
      { hidden: [], activation: 'relu' },
    ]) {
      it(`${JSON.stringify(options)}: same outputs and first-order gradients as apply`, async () => {
        await initBackend(backend);
        const model = make(options);
        expect(model.applyFirstOrder).toBeTypeOf('function');
        const params = model.init(new Rng(3));
        const { x, y } = data(4);
        const before = tf.memory().numTensors;
        const slow = tf.tidy(() => model.apply(params, x));
        const fast = tf.tidy(() => model.applyFirstOrder!(params, x));
        expect(fast.shape).toEqual(slow.shape);
        expect(relErr(fast.dataSync(), slow.dataSync())).toBeLessThan(1e-6);
        tf.dispose([slow, fast]);
        const a = lossAndGrads(model, model.apply, params, x, y);
        const b = lossAndGrads(model, model.applyFirstOrder!, params, x, y);
        expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-6 * Math.abs(a.loss));
        expect(relErr(b.grads, a.grads)).toBeLessThan(1e-5);
        expect(tf.memory().numTensors).toBe(before);
        disposeParams(params);
        tf.dispose([x, y]);
      });
    }

    it('HVPs go through apply: bit-identical with and without the fast path', async () => {
      await initBackend(backend);
      const model = make({ hidden: [8, 5], activation: 'relu' });
      const plain: ModelInstance = { ...model, applyFirstOrder: undefined };
      const params = model.init(new Rng(5));
      const w = flattenParams(params, model.specs);
      const v = tf.tensor1d(new Rng(6).normalArray(model.paramCount));
      const { x, y } = data(7);
      const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
      const withFast = hvp(flatLoss(model, 'softmax-cross-entropy', x, y), w, v);
      const without = hvp(flatLoss(plain, 'softmax-cross-entropy', x, y), w, v);
      expect(bits(withFast)).toEqual(bits(without));
      tf.dispose([withFast, without, w, v, x, y]);
      disposeParams(params);
    });
  });
}

describe('mlp applyFirstOrder: only where the kernel fuses the activation', () => {
  it('is absent for tanh and the quadratic activation', () => {
    expect(make({ hidden: [4], activation: 'tanh' }).applyFirstOrder).toBeUndefined();
    expect(make({ hidden: [4], activation: 'quadratic', alpha: 0.5 }).applyFirstOrder).toBeUndefined();
  });
});
