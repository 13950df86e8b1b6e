import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { disposeParams, mse, Rng, tanh } from '@goldstone/core';
import type { ModelInstance, TaskInstance } from '@goldstone/plugin-api';
import { generatorViolation, sampledViolation } from './symmetry-penalty';
import { trainedObjective } from './trained-objective';
import { rotation } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const model: ModelInstance = {
  specs: [
    { name: 'w0', shape: [2, 4] },
    { name: 'w1', shape: [4, 1] },
  ],
  paramCount: 12,
  groups: { first: ['w0'], second: ['w1'] },
  init: (rng) => ({ w0: tf.tensor2d(rng.split('w0').normalArray(8), [2, 4]), w1: tf.tensor2d(rng.split('w1').normalArray(4, 0.5), [4, 1]) }),
  apply: (p, x) => tf.tidy(() => tf.matMul(tanh(tf.matMul(x as tf.Tensor2D, p.w0 as tf.Tensor2D)) as tf.Tensor2D, p.w1 as tf.Tensor2D)),
};

const task = { loss: 'mse', symmetries: [rotation] } as unknown as TaskInstance;
const value = (t: tf.Scalar) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

describe('trainedObjective', () => {
  const rng = new Rng(3);
  const x = tf.tensor2d(rng.normalArray(20), [10, 2]);
  const y = tf.tensor2d(rng.normalArray(10), [10, 1]);

  it('is the data loss alone when training added nothing', () => {
    const params = model.init(new Rng(1));
    const o = trainedObjective({ model, task, optimizer: 'sgd', weightDecay: 0, epochs: 5, rng: new Rng(2) });
    expect(o.penalised).toBe(false);
    expect(o.terms).toEqual({ data: 'mse' });
    expect(value(o.total(params, x, y))).toBeCloseTo(value(mse(model.apply(params, x), y)), 6);
    disposeParams(params);
  });

  it('adds λ·violation (generator form) and (wd/2)‖θ‖² with per-group decay', () => {
    const params = model.init(new Rng(1));
    const o = trainedObjective({
      model,
      task,
      optimizer: 'sgd',
      weightDecay: 0.1,
      groupWeightDecay: { second: 0.5 },
      symmetryPenalty: { form: 'generator', lambda: 0.3 },
      epochs: 5,
      rng: new Rng(2),
    });
    const data = value(mse(model.apply(params, x), y));
    const viol = value(generatorViolation(model, params, x, rotation));
    const norm = (t: tf.Tensor) => value(tf.sum(tf.square(t)) as tf.Scalar);
    const expected = data + 0.3 * viol + 0.05 * norm(params.w0) + 0.25 * norm(params.w1);
    expect(o.penalised).toBe(true);
    expect(value(o.total(params, x, y))).toBeCloseTo(expected, 5);
    disposeParams(params);
  });

  it('uses the final λ of a schedule, and the sampled form is the same on every call', () => {
    const params = model.init(new Rng(1));
    const o = trainedObjective({
      model,
      task,
      optimizer: 'adam',
      weightDecay: 0,
      symmetryPenalty: { form: 'sampled', lambda: 2, schedule: { kind: 'step', every: 1, gamma: 0.5 } as any },
      epochs: 3,
      rng: new Rng(2),
    });
    const a = value(o.total(params, x, y));
    const b = value(o.total(params, x, y));
    expect(a).toBe(b);
    const lambda = (o.terms.symmetryPenalty as { lambda: number }).lambda;
    expect(lambda).toBeLessThan(2);
    const data = value(mse(model.apply(params, x), y));
    const viol = value(sampledViolation(model, params, x, rotation, new Rng(2).split('objective')));
    expect(a).toBeCloseTo(data + lambda * viol, 5);
    disposeParams(params);
  });

  it('leaks no tensors', () => {
    const params = model.init(new Rng(1));
    const o = trainedObjective({ model, task, optimizer: 'sgd', weightDecay: 0.1, symmetryPenalty: { form: 'generator', lambda: 1 }, epochs: 2, rng: new Rng(2) });
    const before = tf.memory().numTensors;
    value(o.total(params, x, y));
    expect(tf.memory().numTensors).toBe(before);
    disposeParams(params);
  });
});
