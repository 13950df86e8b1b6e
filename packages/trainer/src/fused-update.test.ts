import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeParams, Rng } from '@goldstone/core';
import type { Params, ParamSpec } from '@goldstone/plugin-api';
import { createOptimizer, type OptimizerConfig, type ParamGroup, type ReplicaOptions } from './optim';
import { fusedUpdateAvailable } from './fused-update';

// The fused kernel against the per-tensor op chain it replaces: identical bits, on cpu and wasm.

const specs: ParamSpec[] = [
  { name: 'dense0.weight', shape: [5, 7] },
  { name: 'dense0.bias', shape: [7] },
  { name: 'dense1.weight', shape: [7, 3] },
  { name: 'dense1.bias', shape: [3] },
  { name: 'dense2.weight', shape: [3, 1500] }, // above the default fused size (op chain)
];
const groups: ParamGroup[] = [
  { name: 'head', params: ['dense1.weight', 'dense1.bias'], lr: 0.03, weightDecay: 0.2 },
  { name: 'bias0', params: ['dense0.bias'], weightDecay: 0 },
];

const CONFIGS: [string, OptimizerConfig][] = [
  ['sgd', { name: 'sgd', lr: 0.1 }],
  ['sgd + weight decay', { name: 'sgd', lr: 0.1, weightDecay: 0.05 }],
  ['sgd + momentum', { name: 'sgd', lr: 0.05, momentum: 0.9 }],
  ['sgd + nesterov + weight decay', { name: 'sgd', lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.01 }],
  ['adam', { name: 'adam', lr: 3e-3 }],
  ['adam + L2', { name: 'adam', lr: 1e-2, weightDecay: 0.1, beta1: 0.8, beta2: 0.99, eps: 1e-6 }],
  ['adamw', { name: 'adamw', lr: 1e-2, weightDecay: 0.3 }],
];

const bits = (t: tf.Tensor): number[] => Array.from(new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer));

interface Run {
  params: Record<string, number[]>;
  state: Record<string, number[]>;
}

/** A few steps of `config` from seeded parameters and gradients (gradients include ±0, huge and tiny values). */
function run(fused: boolean | 'all', config: OptimizerConfig, opts: { groups?: ParamGroup[]; replicas?: ReplicaOptions; resumeAt?: number } = {}): Run {
  const impl = fused === 'all' ? { fused: true, fusedMaxElements: Infinity } : { fused };
  const R = opts.replicas?.replicas;
  const shapeOf = (s: ParamSpec): number[] => (R === undefined ? [...s.shape] : [R, ...s.shape]);
  const rng = new Rng(7);
  const draw = (s: ParamSpec, scale: number): tf.Tensor => {
    const n = shapeOf(s).reduce((a, b) => a * b, 1);
    const v = Float32Array.from(rng.normalArray(n), (x) => x * scale);
    v[0] = 0;
    if (n > 2) v[1] = -0;
    if (n > 3) v[2] = 1e-30;
    if (n > 4) v[3] = 3e4;
    return tf.tensor(v, shapeOf(s));
  };
  let opt = createOptimizer(config, specs, opts.groups ?? [], opts.replicas, impl);
  let params: Params = Object.fromEntries(specs.map((s) => [s.name, draw(s, 0.5)]));
  for (let t = 0; t < 6; t++) {
    if (t === opts.resumeAt) {
      const state = opt.getState();
      opt.dispose();
      opt = createOptimizer(config, specs, opts.groups ?? [], opts.replicas, impl);
      opt.setState(state);
    }
    const grads: Params = Object.fromEntries(specs.map((s) => [s.name, draw(s, 2)]));
    params = opt.step(params, grads, 1 - 0.1 * t);
    disposeParams(grads);
  }
  const out: Run = {
    params: Object.fromEntries(specs.map((s) => [s.name, bits(params[s.name])])),
    state: Object.fromEntries(opt.getState().map((e) => [e.name, Array.from(new Uint32Array(Float32Array.from(e.values).buffer))])),
  };
  disposeParams(params);
  opt.dispose();
  return out;
}

afterAll(async () => {
  await tf.setBackend('cpu');
});

for (const backend of ['cpu', 'wasm']) {
  describe(`fused optimiser update on ${backend}: bit-identical to the per-tensor op chain`, () => {
    it('runs fused on this backend', async () => {
      await tf.setBackend(backend);
      expect(fusedUpdateAvailable()).toBe(true);
    });
    for (const [label, config] of CONFIGS) {
      it(label, async () => {
        await tf.setBackend(backend);
        const before = tf.memory().numTensors;
        const reference = run(false, config);
        expect(run(true, config)).toEqual(reference);
        expect(run('all', config)).toEqual(reference);
        expect(run(true, config, { groups })).toEqual(run(false, config, { groups }));
        expect(run(true, config, { resumeAt: 3 })).toEqual(run(false, config, { resumeAt: 3 }));
        const replicas: ReplicaOptions = { replicas: 3, lr: [0.001, 0.02, 0.3] };
        expect(run('all', config, { groups, replicas })).toEqual(run(false, config, { groups, replicas }));
        expect(run(true, config, { replicas: { replicas: 2 } })).toEqual(run(false, config, { replicas: { replicas: 2 } }));
        expect(tf.memory().numTensors).toBe(before);
      });
    }
    it('keeps its state when the step runs inside a tidy', async () => {
      await tf.setBackend(backend);
      const opt = createOptimizer({ name: 'adam', lr: 0.1 }, specs.slice(0, 1));
      let p: Params = { 'dense0.weight': tf.ones([5, 7]) };
      const g = tf.ones([5, 7]);
      p = tf.tidy(() => opt.step(p, { 'dense0.weight': g }));
      p = opt.step(p, { 'dense0.weight': g });
      expect(opt.getState().find((e) => e.name === 'm/dense0.weight')?.values[0]).toBeCloseTo(0.19, 6);
      disposeParams(p);
      g.dispose();
      opt.dispose();
    });
  });
}
