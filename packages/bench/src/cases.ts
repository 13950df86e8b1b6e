import * as tf from '@tensorflow/tfjs-core';
import { Rng, flattenParams, disposeParams, flatLoss, hvp, lossFunction } from '@goldstone/core';
import { createOptimizer } from '@goldstone/trainer';
import type { ModelInstance, Params } from '@goldstone/plugin-api';
import { mlp } from '@goldstone/models';

/** One benchmark: a ReLU MLP with biases of widths `sizes`, softmax cross-entropy, float32. */
export interface BenchCase {
  name: string;
  /** `train`: forward + backward + Adam update; `hvp`: one Hessian-vector product. */
  kind: 'train' | 'hvp';
  sizes: number[];
  batch: number;
}

/** The cases, named as in torch_bench.py. */
export const CASES: readonly BenchCase[] = [
  { name: 'train-mlp-64-256-256-2', kind: 'train', sizes: [64, 256, 256, 2], batch: 256 },
  { name: 'train-mlp-784-512-512-10', kind: 'train', sizes: [784, 512, 512, 10], batch: 128 },
  { name: 'hvp-mlp-64-192-192-10', kind: 'hvp', sizes: [64, 192, 192, 10], batch: 128 },
];

export interface PreparedCase {
  /** Number of model parameters. */
  params: number;
  /** One timed unit of work; returns the loss (train) or one entry of Hv (hvp), read back to the host. */
  run(): number;
  /** Free every tensor the case holds. */
  dispose(): void;
}

const LOSS = 'softmax-cross-entropy' as const;

/** A case's model, seeded initial parameters and data (Gaussian inputs, one-hot random labels) on the current backend. */
export function buildCase(c: BenchCase, rng: Rng): { model: ModelInstance; params: Params; x: tf.Tensor2D; y: tf.Tensor2D } {
  const [inputSize, ...rest] = c.sizes;
  const outputSize = rest[rest.length - 1];
  const model = mlp.create(mlp.options.parse({ hidden: rest.slice(0, -1), activation: 'relu', bias: true, init: 'auto' }), {
    inputShape: [inputSize],
    outputSize,
    outputKind: 'classification',
  });
  const params = model.init(rng.split('init'));
  const dataRng = rng.split('data');
  const x = tf.tensor2d(dataRng.normalArray(c.batch * inputSize), [c.batch, inputSize]);
  const labels = new Float32Array(c.batch * outputSize);
  for (let i = 0; i < c.batch; i++) labels[i * outputSize + dataRng.int(outputSize)] = 1;
  const y = tf.tensor2d(labels, [c.batch, outputSize]);
  return { model, params, x, y };
}

/** Set up a case on the current backend, with data and initial parameters from `rng`. */
export function prepareCase(c: BenchCase, rng: Rng): PreparedCase {
  const { model, params: initial, x, y } = buildCase(c, rng);
  const names = model.specs.map((s) => s.name);
  if (c.kind === 'train') {
    const loss = lossFunction(LOSS);
    const optimizer = createOptimizer({ name: 'adam', lr: 1e-3 }, model.specs);
    let params = initial;
    const objective = (...ts: tf.Tensor[]): tf.Scalar => {
      const p: Params = {};
      names.forEach((n, i) => (p[n] = ts[i]));
      return loss(model.apply(p, x), y);
    };
    return {
      params: model.paramCount,
      run() {
        const { value, grads } = tf.valueAndGrads(objective)(names.map((n) => params[n]));
        const g: Params = {};
        names.forEach((n, i) => (g[n] = grads[i]));
        params = optimizer.step(params, g);
        const out = value.dataSync()[0];
        value.dispose();
        tf.dispose(grads);
        return out;
      },
      dispose() {
        disposeParams(params);
        optimizer.dispose();
        tf.dispose([x, y]);
      },
    };
  }
  const w = flattenParams(initial, model.specs);
  disposeParams(initial);
  const v = tf.tensor1d(rng.split('direction').normalArray(model.paramCount));
  const f = flatLoss(model, LOSS, x, y);
  return {
    params: model.paramCount,
    run() {
      const hv = hvp(f, w, v);
      const out = hv.dataSync()[0];
      hv.dispose();
      return out;
    },
    dispose() {
      tf.dispose([w, v, x, y]);
    },
  };
}
