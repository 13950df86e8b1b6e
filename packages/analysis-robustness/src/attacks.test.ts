import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, disposeParams, splitTensors } from '@goldstone/core';
import type { ModelInstance, Params } from '@goldstone/plugin-api';
import { toyLinearModel, blobsTask, trainedPluginModel } from '@goldstone/testkit';
import { fgsm, perExampleLoss, pgd, type AttackTarget } from './attacks';
import { inputDomain } from './domain';
import { mlp } from '@goldstone/models';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const NONE = { kind: 'none' as const, lower: null, upper: null };

function linear(inputs: number, outputs: number, seed: number): { model: ModelInstance; params: Params } {
  const model = toyLinearModel.create({ bias: true }, { inputShape: [inputs], outputSize: outputs, outputKind: 'regression' });
  const params = model.init(new Rng(seed));
  params.b.dispose();
  params.b = tf.tensor1d(new Rng(seed + 1).normalArray(outputs), 'float32');
  return { model, params };
}

describe('fgsm', () => {
  it('on a linear binary classifier moves every logit by exactly ε‖w‖₁ towards the wrong class (the analytic worst case)', () => {
    const { model, params } = linear(5, 1, 11);
    const rng = new Rng(4);
    const x = tf.tensor2d(rng.normalArray(40 * 5), [40, 5]);
    const y = tf.tensor2d(Float32Array.from({ length: 40 }, (_, i) => i % 2), [40, 1]);
    const target: AttackTarget = { model, params, loss: 'binary-cross-entropy', domain: NONE };
    const w = params.W.dataSync();
    const l1 = Array.from(w).reduce((s, v) => s + Math.abs(v), 0);
    for (const eps of [0.01, 0.1, 0.5]) {
      const xa = fgsm(target, x, y, eps);
      const z0 = model.apply(params, x);
      const z1 = model.apply(params, xa);
      const a = z0.dataSync();
      const b = z1.dataSync();
      const t = y.dataSync();
      for (let i = 0; i < 40; i++) {
        const expected = a[i] + (t[i] > 0.5 ? -1 : 1) * eps * l1;
        expect(b[i]).toBeCloseTo(expected, 4);
      }
      // and no point of the ℓ∞ ball does worse: the loss at the corners of the worst sign pattern is the maximum
      const dist = tf.max(tf.abs(tf.sub(xa, x))).dataSync()[0];
      expect(dist).toBeCloseTo(eps, 5);
      tf.dispose([xa, z0, z1]);
    }
    tf.dispose([x, y]);
    disposeParams(params);
  });

  it('on linear regression (MSE) raises every absolute residual by ε‖w‖₁, the largest possible in the ℓ∞ ball', () => {
    const { model, params } = linear(4, 1, 21);
    const rng = new Rng(5);
    const x = tf.tensor2d(rng.normalArray(30 * 4), [30, 4]);
    const y = tf.tensor2d(rng.normalArray(30), [30, 1]);
    const target: AttackTarget = { model, params, loss: 'mse', domain: NONE };
    const l1 = Array.from(params.W.dataSync()).reduce((s, v) => s + Math.abs(v), 0);
    const eps = 0.2;
    const xa = fgsm(target, x, y, eps);
    const r0 = tf.sub(model.apply(params, x), y).dataSync();
    const r1 = tf.sub(model.apply(params, xa), y).dataSync();
    for (let i = 0; i < 30; i++) expect(Math.abs(r1[i])).toBeCloseTo(Math.abs(r0[i]) + eps * l1, 4);
    // brute force over random points of the ball: none beats FGSM
    const r = new Rng(9);
    for (let k = 0; k < 20; k++) {
      const xr = tf.add(x, tf.tensor2d(r.uniformArray(30 * 4, -eps, eps), [30, 4]));
      const rr = tf.sub(model.apply(params, xr), y).dataSync();
      for (let i = 0; i < 30; i++) expect(Math.abs(rr[i])).toBeLessThanOrEqual(Math.abs(r1[i]) + 1e-5);
    }
    tf.dispose([x, y, xa]);
    disposeParams(params);
  });

  it('clips to the input domain', () => {
    const { model, params } = linear(3, 1, 31);
    const x = tf.tensor2d([0.5, 0.5, 0.5, 0.9, 0.1, 0.95], [2, 3]);
    const y = tf.tensor2d([1, 0], [2, 1]);
    const domain = { kind: 'box' as const, lower: new Float32Array(3).fill(0), upper: new Float32Array(3).fill(1) };
    const xa = fgsm({ model, params, loss: 'binary-cross-entropy', domain }, x, y, 0.3);
    const v = xa.dataSync();
    for (const e of v) {
      expect(e).toBeGreaterThanOrEqual(0);
      expect(e).toBeLessThanOrEqual(1);
    }
    tf.dispose([x, y, xa]);
    disposeParams(params);
  });
});

describe('pgd', () => {
  const task = blobsTask({ classes: 3, perClass: 30, separation: 1.5 });
  let setting: { model: ModelInstance; params: Params };
  beforeAll(async () => {
    setting = await trainedPluginModel(mlp, task, { hidden: [8], activation: 'tanh' }, { epochs: 15 });
  });
  afterAll(() => disposeParams(setting.params));

  it('is at least as strong as FGSM on a trained tanh MLP, and stays in the ball and the domain', () => {
    const { x, y } = splitTensors(task.splits.test);
    const domain = inputDomain('data', [task.splits.train, task.splits.test]);
    const target: AttackTarget = { ...setting, loss: 'softmax-cross-entropy', domain };
    const meanLoss = (xx: tf.Tensor) => tf.tidy(() => tf.mean(perExampleLoss('softmax-cross-entropy', setting.model.apply(setting.params, xx), y)).dataSync()[0]);
    const before = tf.memory().numTensors;
    for (const eps of [0.05, 0.2, 0.5]) {
      const xf = fgsm(target, x, y, eps);
      const xp = pgd(target, x, y, eps, { steps: 10, restarts: 1, rng: new Rng(1) });
      const lf = tf.tidy(() => perExampleLoss('softmax-cross-entropy', setting.model.apply(setting.params, xf), y).dataSync());
      const lp = tf.tidy(() => perExampleLoss('softmax-cross-entropy', setting.model.apply(setting.params, xp), y).dataSync());
      expect(meanLoss(xp)).toBeGreaterThanOrEqual(meanLoss(xf) - 1e-6);
      expect(meanLoss(xp)).toBeGreaterThan(meanLoss(x));
      // per example, PGD is not weaker than FGSM by more than a sliver on all but a few examples
      let weaker = 0;
      for (let i = 0; i < lf.length; i++) if (lp[i] < lf[i] - 1e-4) weaker++;
      expect(weaker).toBeLessThanOrEqual(Math.ceil(0.05 * lf.length));
      const dist = tf.tidy(() => tf.max(tf.abs(tf.sub(xp, x))).dataSync()[0]);
      expect(dist).toBeLessThanOrEqual(eps + 1e-6);
      const v = xp.dataSync();
      for (let i = 0; i < v.length; i++) {
        expect(v[i]).toBeGreaterThanOrEqual(domain.lower![i % 2] - 1e-6);
        expect(v[i]).toBeLessThanOrEqual(domain.upper![i % 2] + 1e-6);
      }
      tf.dispose([xf, xp]);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });
});
