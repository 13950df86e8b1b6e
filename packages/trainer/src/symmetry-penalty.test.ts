import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

import { tanh, disposeParams, flattenParams, unflattenParams, Rng } from '@goldstone/core';
import { UsageError, type InputSymmetry, type ModelInstance, type Params, type TaskInstance } from '@goldstone/plugin-api';
import { createSymmetryPenalty, generatorViolation, resolveSymmetry, sampledViolation } from './symmetry-penalty';
import { train } from './trainer';
import { rotation } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A fixed rotation by angle θ (a deterministic "sample", for closed forms). */
function fixedRotation(theta: number): InputSymmetry {
  return {
    name: 'fixed',
    sample: (x) => tf.tidy(() => tf.matMul(x as tf.Tensor2D, tf.tensor2d([Math.cos(theta), Math.sin(theta), -Math.sin(theta), Math.cos(theta)], [2, 2]))),
  };
}

/** A small tanh MLP 2 → h → out (core activations: second-order safe). */
function mlp(hidden: number, out: number): ModelInstance {
  const specs = [
    { name: 'w0', shape: [2, hidden] },
    { name: 'b0', shape: [hidden] },
    { name: 'w1', shape: [hidden, out] },
    { name: 'b1', shape: [out] },
  ];
  return {
    specs,
    paramCount: 2 * hidden + hidden + hidden * out + out,
    init: (rng) => ({
      w0: tf.tensor2d(rng.split('w0').normalArray(2 * hidden, 1), [2, hidden]),
      b0: tf.tensor1d(rng.split('b0').normalArray(hidden, 0.5)),
      w1: tf.tensor2d(rng.split('w1').normalArray(hidden * out, 1 / Math.sqrt(hidden)), [hidden, out]),
      b1: tf.zeros([out]),
    }),
    apply: (p, x) => tf.tidy(() => tf.add(tf.matMul(tanh(tf.add(tf.matMul(x as tf.Tensor2D, p.w0 as tf.Tensor2D), p.b0)) as tf.Tensor2D, p.w1 as tf.Tensor2D), p.b1)),
  };
}

/** f(x) = (‖x‖²·a + b) per output: exactly rotation invariant. */
function radial(out: number): ModelInstance {
  const specs = [
    { name: 'a', shape: [1, out] },
    { name: 'b', shape: [out] },
  ];
  return {
    specs,
    paramCount: 2 * out,
    init: (rng) => ({ a: tf.tensor2d(rng.normalArray(out), [1, out]), b: tf.tensor1d(rng.normalArray(out)) }),
    apply: (p, x) => tf.tidy(() => tanh(tf.add(tf.matMul(tf.sum(tf.square(x), 1, true) as tf.Tensor2D, p.a as tf.Tensor2D), p.b))),
  };
}

function points(rng: Rng, n: number): tf.Tensor2D {
  return tf.tensor2d(rng.normalArray(2 * n), [n, 2]);
}

const scalar = (t: tf.Tensor): number => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

describe('resolveSymmetry', () => {
  it('rejects tasks without symmetries, unknown names and generator-less generator forms, naming the field', () => {
    const none = () => resolveSymmetry({}, { form: 'sampled', lambda: 1 });
    expect(none).toThrow(UsageError);
    expect(none).toThrow(/train\.symmetryPenalty: the task declares no input symmetries/);
    let caught: unknown;
    try {
      none();
    } catch (e) {
      caught = e;
    }
    expect((caught as UsageError).field).toBe('train.symmetryPenalty');
    const task = { symmetries: [fixedRotation(1), rotation] };
    expect(() => resolveSymmetry(task, { form: 'sampled', lambda: 1, symmetry: 'boost' })).toThrow(/no symmetry "boost" \(it has: fixed, rotation\)/);
    expect(() => resolveSymmetry(task, { form: 'generator', lambda: 1, symmetry: 'fixed' })).toThrow(/has no generator.*rotation/);
    expect(resolveSymmetry(task, { form: 'generator', lambda: 1 }).name).toBe('rotation');
    expect(resolveSymmetry(task, { form: 'sampled', lambda: 1 }).name).toBe('fixed');
    expect(() => resolveSymmetry(task, { form: 'sampled', lambda: -1 })).toThrow(/lambda/);
  });
});

describe('symmetry violations', () => {
  it('are zero for an exactly invariant model (both forms)', () => {
    const rng = new Rng(1);
    const m = radial(3);
    const p = m.init(rng.split('p'));
    const x = points(rng, 32);
    const out = m.apply(p, x);
    const scale = scalar(tf.mean(tf.square(out)));
    out.dispose();
    expect(scalar(sampledViolation(m, p, x, rotation, rng.split('g')))).toBeLessThan(1e-10 * Math.max(1, scale) + 1e-10);
    expect(scalar(generatorViolation(m, p, x, rotation))).toBeLessThan(1e-10);
    tf.dispose(x);
    disposeParams(p);
  });

  it('match closed forms for a linear model f(x) = x·W', () => {
    const rng = new Rng(2);
    const W = [0.3, -1.2, 0.7, 0.4]; // [2, 2]
    const lin: ModelInstance = {
      specs: [{ name: 'w', shape: [2, 2] }],
      paramCount: 4,
      init: () => ({ w: tf.tensor2d(W, [2, 2]) }),
      apply: (p, x) => tf.matMul(x as tf.Tensor2D, p.w as tf.Tensor2D),
    };
    const p = lin.init(rng);
    const xs = rng.normalArray(2 * 16);
    const x = tf.tensor2d(xs, [16, 2]);
    const theta = 0.9;
    let gen = 0;
    let samp = 0;
    for (let b = 0; b < 16; b++) {
      const [x1, x2] = [xs[2 * b], xs[2 * b + 1]];
      const g = [-x2, x1];
      const r = [Math.cos(theta) * x1 - Math.sin(theta) * x2 - x1, Math.sin(theta) * x1 + Math.cos(theta) * x2 - x2];
      for (let k = 0; k < 2; k++) {
        gen += (g[0] * W[k] + g[1] * W[2 + k]) ** 2;
        samp += (r[0] * W[k] + r[1] * W[2 + k]) ** 2;
      }
    }
    expect(scalar(generatorViolation(lin, p, x, rotation))).toBeCloseTo(gen / 16, 5);
    expect(scalar(sampledViolation(lin, p, x, fixedRotation(theta), rng))).toBeCloseTo(samp / 16, 5);
    tf.dispose(x);
    disposeParams(p);
  });

  it('the generator form is the t-derivative of f(x + t·Gx) and its parameter gradient matches finite differences', () => {
    const rng = new Rng(3);
    const m = mlp(5, 2);
    const p = m.init(rng.split('p'));
    const x = points(rng, 8);
    // directional derivative by central differences in t (float32: a loose but real check)
    const eps = 1e-2;
    const jvp = tf.tidy(() => {
      const gx = rotation.generator!(x);
      return tf.div(tf.sub(m.apply(p, tf.add(x, tf.mul(gx, eps))), m.apply(p, tf.sub(x, tf.mul(gx, eps)))), 2 * eps);
    });
    const fdValue = scalar(tf.div(tf.sum(tf.square(jvp)), 8));
    jvp.dispose();
    const value = scalar(generatorViolation(m, p, x, rotation));
    expect(Math.abs(value - fdValue) / fdValue).toBeLessThan(1e-3);

    // gradient w.r.t. the parameters (a second-order computation) against central differences along a direction
    const w = flattenParams(p, m.specs);
    const f = (wv: tf.Tensor1D) => tf.tidy(() => generatorViolation(m, unflattenParams(wv, m.specs), x, rotation));
    const g = tf.grad(f as (t: tf.Tensor) => tf.Tensor)(w);
    const u = rng.normalArray(m.paramCount);
    const un = Math.hypot(...u);
    const ut = tf.tensor1d(u.map((a) => a / un));
    const h = 1e-2;
    const plus = tf.tidy(() => f(tf.add(w, tf.mul(ut, h)) as tf.Tensor1D));
    const minus = tf.tidy(() => f(tf.sub(w, tf.mul(ut, h)) as tf.Tensor1D));
    const fd = (scalar(plus) - scalar(minus)) / (2 * h);
    const an = scalar(tf.sum(tf.mul(g, ut)));
    expect(Math.abs(an - fd) / Math.abs(fd)).toBeLessThan(1e-2);
    tf.dispose([x, w, g, ut]);
    disposeParams(p);
  });

  it('leak no tensors', () => {
    const m = mlp(3, 2);
    const p = m.init(new Rng(4));
    const x = points(new Rng(5), 4);
    const pen = createSymmetryPenalty({ model: m, task: { symmetries: [rotation] }, config: { form: 'generator', lambda: 1 }, rng: new Rng(6), epochs: 1, batchesPerEpoch: 1 });
    scalar(pen.penalty(p, x, x));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      scalar(pen.penalty(p, x, x));
      scalar(sampledViolation(m, p, x, rotation, new Rng(i)));
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    disposeParams(p);
  });
});

describe('createSymmetryPenalty', () => {
  it('λ follows its schedule step by step, like the learning rate', () => {
    const m = radial(1);
    const pen = createSymmetryPenalty({
      model: m,
      task: { symmetries: [rotation] },
      config: { form: 'sampled', lambda: 2, schedule: { kind: 'step', every: 2, gamma: 0.5 } },
      rng: new Rng(1),
      epochs: 6,
      batchesPerEpoch: 4,
    });
    expect(pen.lambdaAt(1)).toBe(2); // epoch 0.25
    expect(pen.lambdaAt(7)).toBe(2); // epoch 1.75
    expect(pen.lambdaAt(8)).toBe(1); // epoch 2.0: the decay at 2 applies at the epoch's last step
    expect(pen.lambdaAt(9)).toBe(1);
    expect(pen.lambdaAt(16)).toBe(0.5);
    const warm = createSymmetryPenalty({
      model: m,
      task: { symmetries: [rotation] },
      config: { form: 'sampled', lambda: 1, schedule: { kind: 'cosine', warmupEpochs: 2, minFactor: 1 } },
      rng: new Rng(1),
      epochs: 4,
      batchesPerEpoch: 2,
    });
    expect([1, 2, 3, 4, 5, 8].map((s) => warm.lambdaAt(s))).toEqual([0.25, 0.5, 0.75, 1, 1, 1]);
  });

  it('training with λ > 0 lowers the measured invariance violation (both forms)', async () => {
    // target: a rotation-invariant function of 2-D points, few training points
    const rng = new Rng(7);
    const n = 48;
    const xs = rng.normalArray(2 * n);
    const ys = new Float32Array(n);
    for (let i = 0; i < n; i++) ys[i] = Math.cos(1.5 * Math.hypot(xs[2 * i], xs[2 * i + 1]));
    const split = { n, x: xs, y: ys, xShape: [2], yShape: [1] };
    const task: TaskInstance = {
      inputShape: [2],
      outputSize: 1,
      outputKind: 'regression',
      loss: 'mse',
      splits: { train: split, test: split },
      metrics: () => ({}),
      symmetries: [rotation],
    };
    const m = mlp(16, 1);
    const probe = points(new Rng(8), 256);
    const violation = (p: Params): number => {
      let s = 0;
      for (let r = 0; r < 4; r++) s += scalar(sampledViolation(m, p, probe, rotation, new Rng(100 + r)));
      return s / 4;
    };
    const run = async (form: 'sampled' | 'generator', lambda: number): Promise<number> => {
      const pen = createSymmetryPenalty({ model: m, task, config: { form, lambda }, rng: new Rng(9), epochs: 40, batchesPerEpoch: 3 });
      const r = await train({
        model: m,
        task,
        params: m.init(new Rng(10)),
        rng: new Rng(11),
        config: { optimizer: { name: 'adam', lr: 0.02 }, epochs: 40, batchSize: 16 },
        penalty: pen.penalty,
        hooks: [pen.hooks],
      });
      const v = violation(r.params);
      disposeParams(r.params);
      return v;
    };
    const base = await run('sampled', 0);
    const sampled = await run('sampled', 1);
    const generator = await run('generator', 1);
    expect(base).toBeGreaterThan(1e-3);
    expect(sampled).toBeLessThan(0.5 * base);
    expect(generator).toBeLessThan(0.5 * base);
    probe.dispose();
  });
});
