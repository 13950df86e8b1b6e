import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createOptimizer, type OptimizerConfig, type ParamGroup } from './optim';
import { disposeParams } from '@goldstone/core';
import type { Params, ParamSpec } from '@goldstone/plugin-api';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// A separable quadratic L(p) = ½ Σ a_i (p_i − c_i)², gradient a ⊙ (p − c), over two named tensors.
const specs: ParamSpec[] = [
  { name: 'w', shape: [2, 3] },
  { name: 'b', shape: [3] },
];
const N = 9;
const A = [0.5, 1, 2, 4, 0.25, 3, 1.5, 0.75, 5];
const C = [1, -2, 0.5, 3, -1, 0, 2, -0.5, 1.25];
// (no coordinate starts at a zero of its gradient, where Adam’s m/√v is a float-rounding sign)
const P0 = [0.3, 0.1, -0.7, 1.2, 0.4, -0.9, 0.05, -0.35, 2.0];
const ownerOf = (i: number): string => (i < 6 ? 'w' : 'b');

/** Plain float64 transcription of the PyTorch update rules (SGD dampening 0, Adam, AdamW). */
function reference(
  config: OptimizerConfig,
  steps: number,
  perParam: Record<string, { lr?: number; weightDecay?: number }> = {},
  lrScales: number[] = [],
): number[] {
  const { name, momentum = 0, nesterov = false, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 } = config;
  const p = [...P0];
  const buf = new Array(N).fill(0);
  const m = new Array(N).fill(0);
  const v = new Array(N).fill(0);
  for (let t = 1; t <= steps; t++) {
    const scale = lrScales[t - 1] ?? 1;
    for (let i = 0; i < N; i++) {
      const o = perParam[ownerOf(i)] ?? {};
      const lr = (o.lr ?? config.lr) * scale;
      const wd = o.weightDecay ?? config.weightDecay ?? 0;
      let g = A[i] * (p[i] - C[i]);
      if (name === 'sgd') {
        g += wd * p[i];
        let d = g;
        if (momentum > 0) {
          buf[i] = t === 1 ? g : momentum * buf[i] + g;
          d = nesterov ? g + momentum * buf[i] : buf[i];
        }
        p[i] -= lr * d;
      } else {
        if (name === 'adamw') p[i] *= 1 - lr * wd;
        else g += wd * p[i];
        m[i] = beta1 * m[i] + (1 - beta1) * g;
        v[i] = beta2 * v[i] + (1 - beta2) * g * g;
        const mhat = m[i] / (1 - beta1 ** t);
        const vhat = v[i] / (1 - beta2 ** t);
        p[i] -= (lr * mhat) / (Math.sqrt(vhat) + eps);
      }
    }
  }
  return p;
}

function initParams(): Params {
  return { w: tf.tensor(P0.slice(0, 6), [2, 3]), b: tf.tensor(P0.slice(6), [3]) };
}

function gradsOf(params: Params): Params {
  return tf.tidy(() => {
    const a = tf.tensor(A);
    const c = tf.tensor(C);
    const flat = tf.concat([tf.reshape(params.w, [-1]), params.b]);
    const g = tf.mul(a, tf.sub(flat, c));
    return { w: tf.reshape(tf.slice(g, [0], [6]), [2, 3]), b: tf.slice(g, [6], [3]) };
  });
}

function toArray(params: Params): number[] {
  return [...params.w.dataSync(), ...params.b.dataSync()];
}

function run(config: OptimizerConfig, steps: number, groups: ParamGroup[] = [], lrScales: number[] = []): number[] {
  const opt = createOptimizer(config, specs, groups);
  let params = initParams();
  for (let t = 0; t < steps; t++) {
    const g = gradsOf(params);
    params = opt.step(params, g, lrScales[t] ?? 1);
    disposeParams(g);
  }
  const out = toArray(params);
  disposeParams(params);
  opt.dispose();
  return out;
}

function expectClose(actual: number[], expected: number[], tol = 2e-5): void {
  expect(actual).toHaveLength(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(expected[i])));
  }
}

const cases: [string, OptimizerConfig][] = [
  ['plain sgd', { name: 'sgd', lr: 0.1 }],
  ['sgd with momentum', { name: 'sgd', lr: 0.05, momentum: 0.9 }],
  ['sgd with nesterov momentum', { name: 'sgd', lr: 0.05, momentum: 0.8, nesterov: true }],
  ['sgd with L2 weight decay', { name: 'sgd', lr: 0.05, momentum: 0.5, weightDecay: 0.3 }],
  ['adam', { name: 'adam', lr: 0.05 }],
  ['adam with custom betas', { name: 'adam', lr: 0.02, beta1: 0.5, beta2: 0.9, eps: 1e-6 }],
  ['adam with L2 weight decay', { name: 'adam', lr: 0.05, weightDecay: 0.5 }],
  ['adamw with decoupled weight decay', { name: 'adamw', lr: 0.05, weightDecay: 0.5 }],
];

describe('createOptimizer: update rules against a float64 reference', () => {
  for (const [label, config] of cases) {
    it(label, () => {
      expectClose(run(config, 7), reference(config, 7));
    });
  }

  it('moves towards the minimum and reaches it with plain sgd', () => {
    const p = run({ name: 'sgd', lr: 0.1 }, 400);
    expectClose(p, C, 1e-4);
  });

  it('applies weight decay differently in adam (L2) and adamw (decoupled)', () => {
    const l2 = run({ name: 'adam', lr: 0.05, weightDecay: 0.5 }, 7);
    const decoupled = run({ name: 'adamw', lr: 0.05, weightDecay: 0.5 }, 7);
    const none = run({ name: 'adam', lr: 0.05 }, 7);
    const diff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));
    expect(diff(l2, decoupled)).toBeGreaterThan(1e-3);
    expect(diff(l2, none)).toBeGreaterThan(1e-3);
    expect(diff(decoupled, none)).toBeGreaterThan(1e-3);
  });

  it('scales every learning rate by lrScale', () => {
    const scales = [1, 0.5, 0.25, 0, 2];
    for (const config of [cases[1][1], cases[7][1]]) {
      expectClose(run(config, 5, [], scales), reference(config, 5, {}, scales));
    }
  });
});

describe('createOptimizer: parameter groups', () => {
  it('gives each group its own absolute lr and weight decay', () => {
    const config: OptimizerConfig = { name: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0.1 };
    const groups: ParamGroup[] = [{ name: 'bias', params: ['b'], lr: 0.2, weightDecay: 0 }];
    const got = run(config, 6, groups);
    expectClose(got, reference(config, 6, { b: { lr: 0.2, weightDecay: 0 } }));
    // and the group really changed something: w follows the base settings, b does not
    const base = reference(config, 6);
    expectClose(got.slice(0, 6), base.slice(0, 6));
    expect(Math.abs(got[6] - base[6])).toBeGreaterThan(1e-3);
  });

  it('freezes a group with lr 0 (adamw, decoupled decay included)', () => {
    const got = run({ name: 'adamw', lr: 0.05, weightDecay: 0.5 }, 5, [{ name: 'frozen', params: ['w'], lr: 0 }]);
    expectClose(got.slice(0, 6), P0.slice(0, 6), 1e-7);
    expect(Math.abs(got[6] - P0[6])).toBeGreaterThan(1e-3);
  });

  it('reports each parameter lr', () => {
    const opt = createOptimizer({ name: 'adam', lr: 0.01 }, specs, [{ name: 'g', params: ['b'], lr: 0.3 }]);
    expect(opt.lrOf('w')).toBe(0.01);
    expect(opt.lrOf('b')).toBe(0.3);
    expect(() => opt.lrOf('nope')).toThrow(/unknown/);
    opt.dispose();
  });

  it('rejects unknown and doubly-grouped parameters', () => {
    expect(() => createOptimizer({ name: 'sgd', lr: 0.1 }, specs, [{ name: 'g', params: ['nope'] }])).toThrow(/unknown parameter "nope"/);
    expect(() =>
      createOptimizer({ name: 'sgd', lr: 0.1 }, specs, [
        { name: 'g1', params: ['w'] },
        { name: 'g2', params: ['w'] },
      ]),
    ).toThrow(/groups "g1" and "g2"/);
  });
});

describe('createOptimizer: state, ownership and validation', () => {
  it('resumes from getState/setState exactly where it stopped', () => {
    for (const config of [cases[1][1], cases[5][1], cases[7][1]]) {
      const straight = run(config, 6);
      const first = createOptimizer(config, specs);
      let params = initParams();
      for (let t = 0; t < 3; t++) {
        const g = gradsOf(params);
        params = first.step(params, g);
        disposeParams(g);
      }
      const state = first.getState();
      first.dispose();
      const second = createOptimizer(config, specs);
      second.setState(state);
      expect(second.steps).toBe(3);
      for (let t = 0; t < 3; t++) {
        const g = gradsOf(params);
        params = second.step(params, g);
        disposeParams(g);
      }
      expect(toArray(params)).toEqual(straight);
      disposeParams(params);
      second.dispose();
    }
  });

  it('lists its state by name and shape', () => {
    const opt = createOptimizer({ name: 'adam', lr: 0.1 }, specs);
    const names = opt.getState().map((e) => `${e.name}:${e.shape.join('x')}`);
    expect(names).toEqual(['step:', 'm/w:2x3', 'm/b:3', 'v/w:2x3', 'v/b:3']);
    expect(() => opt.setState([{ name: 'step', values: Float32Array.of(1), shape: [] }])).toThrow(/missing entry "m\/w"/);
    opt.dispose();
  });

  it('disposes the old parameters and leaks nothing across steps', () => {
    const opt = createOptimizer({ name: 'adamw', lr: 0.01, weightDecay: 0.1 }, specs);
    let params = initParams();
    const old = params;
    let g = gradsOf(params);
    params = opt.step(params, g);
    disposeParams(g);
    expect(old.w.isDisposed && old.b.isDisposed).toBe(true);
    const baseline = tf.memory().numTensors;
    for (let t = 0; t < 50; t++) {
      g = gradsOf(params);
      params = opt.step(params, g);
      disposeParams(g);
    }
    expect(tf.memory().numTensors).toBe(baseline);
    disposeParams(params);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(baseline - 2 - 4);
  });

  it('validates its configuration and inputs', () => {
    expect(() => createOptimizer({ name: 'rmsprop' as never, lr: 0.1 }, specs)).toThrow(/optimizer.name/);
    expect(() => createOptimizer({ name: 'sgd', lr: -1 }, specs)).toThrow(/optimizer.lr/);
    expect(() => createOptimizer({ name: 'sgd', lr: 0.1, nesterov: true }, specs)).toThrow(/nesterov/);
    const opt = createOptimizer({ name: 'sgd', lr: 0.1 }, specs);
    const params = initParams();
    const g = { w: tf.zeros([2, 3]) };
    expect(() => opt.step(params, g)).toThrow(/missing gradient for "b"/);
    disposeParams(params);
    disposeParams(g);
    opt.dispose();
  });
});

describe('replicas', () => {
  // R replicas stacked on a leading axis take exactly the updates R lone optimisers give them.
  const R = 3;
  const lrs = [0.01, 0.05, 0.2];
  const grad = (p: Params, r: number): Params => {
    // a replica-dependent quadratic: gradient (1 + r)·a ⊙ (p − c)
    const out: Params = {};
    let k = 0;
    for (const s of specs) {
      const n = s.shape.reduce((a, b) => a * b, 1);
      const pv = p[s.name].dataSync();
      const g = new Float32Array(n);
      for (let i = 0; i < n; i++, k++) g[i] = (1 + r) * A[k] * (pv[i] - C[k]);
      out[s.name] = tf.tensor(g, s.shape);
    }
    return out;
  };
  for (const config of [
    { name: 'sgd', lr: 0, momentum: 0.9, weightDecay: 0.01 },
    { name: 'adam', lr: 0, weightDecay: 0.01 },
    { name: 'adamw', lr: 0, weightDecay: 0.1 },
  ] as OptimizerConfig[]) {
    it(`${config.name}: every replica matches a lone optimiser bit for bit`, () => {
      const before = tf.memory().numTensors;
      const lone = lrs.map((lr) => createOptimizer({ ...config, lr }, specs));
      const stacked = createOptimizer(config, specs, [], { replicas: R, lr: lrs });
      let ps: Params[] = lrs.map(() => ({ w: tf.tensor(P0.slice(0, 6), [2, 3]), b: tf.tensor(P0.slice(6), [3]) }));
      let st: Params = { w: tf.stack(ps.map((p) => p.w)), b: tf.stack(ps.map((p) => p.b)) };
      for (let t = 0; t < 5; t++) {
        const gs = ps.map((p, r) => grad(p, r));
        const gst: Params = { w: tf.stack(gs.map((g) => g.w)), b: tf.stack(gs.map((g) => g.b)) };
        ps = ps.map((p, r) => lone[r].step(p, gs[r], 0.5 + 0.1 * t));
        st = stacked.step(st, gst, 0.5 + 0.1 * t);
        gs.forEach(disposeParams);
        disposeParams(gst);
      }
      for (const name of ['w', 'b']) {
        const all = st[name].dataSync();
        const per = ps.flatMap((p) => Array.from(p[name].dataSync()));
        expect(Array.from(all)).toEqual(per);
      }
      const state = stacked.getState();
      expect(state.find((e) => e.name.endsWith('/w'))?.shape).toEqual([R, 2, 3]);
      ps.forEach(disposeParams);
      disposeParams(st);
      lone.forEach((o) => o.dispose());
      stacked.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
  it('refuses a learning-rate list of the wrong length', () => {
    expect(() => createOptimizer({ name: 'sgd', lr: 0.1 }, specs, [], { replicas: 2, lr: [0.1] })).toThrow(/one lr per replica/);
  });
});
