// Small tasks and trained models for this package's tests (not part of the public surface).
import * as tf from '@tensorflow/tfjs-core';
import { Rng, train, type ModelInstance, type OutputKind, type Params, type Split, type TaskInstance } from '@goldstone/core';
import { createMlp, type MlpOptions } from '@goldstone/models';
import { scoreTensors } from './score';

/**
 * Gaussian blobs: `classes` balanced classes in `dim` dimensions, centres drawn from the seed at
 * distance ~`separation`, unit-variance noise. `binary` gives 0/1 targets of shape [1].
 */
export function blobsTask(o: { classes?: number; perClass?: number; dim?: number; separation?: number; seed?: number; binary?: boolean } = {}): TaskInstance {
  const classes = o.binary ? 2 : (o.classes ?? 3);
  const perClass = o.perClass ?? 40;
  const dim = o.dim ?? 2;
  const rng = new Rng(o.seed ?? 7);
  const centres = rng.split('centres').normalArray(classes * dim, o.separation ?? 2);
  const make = (r: Rng): Split => {
    const n = classes * perClass;
    const x = new Float32Array(n * dim);
    const width = o.binary ? 1 : classes;
    const y = new Float32Array(n * width);
    for (let i = 0; i < n; i++) {
      const c = i % classes;
      for (let j = 0; j < dim; j++) x[i * dim + j] = centres[c * dim + j] + r.normal();
      if (o.binary) y[i] = c;
      else y[i * classes + c] = 1;
    }
    return { n, x, y, xShape: [dim], yShape: [width] };
  };
  const kind: OutputKind = o.binary ? 'binary' : 'classification';
  return {
    inputShape: [dim],
    outputSize: o.binary ? 1 : classes,
    outputKind: kind,
    loss: o.binary ? 'binary-cross-entropy' : 'softmax-cross-entropy',
    splits: { train: make(rng.split('train')), test: make(rng.split('test')) },
    metrics: (pred, y) => scoreTensors(kind, pred, y),
    symmetries: [
      { name: 'jitter', sample: (x: tf.Tensor, r: Rng) => tf.add(x, tf.tensor(r.normalArray(x.size, 0.1), x.shape, 'float32')) },
      { name: 'scale', sample: (x: tf.Tensor, r: Rng) => tf.mul(x, 1 + 0.1 * r.normal()), generator: (x: tf.Tensor) => tf.clone(x) },
    ],
  };
}

/** An mlp from @goldstone/models trained on `task` with Adam (the real trainer). Caller owns params. */
export async function trainedMlp(
  task: TaskInstance,
  options: Partial<MlpOptions> = {},
  train_: { epochs?: number; lr?: number; seed?: number } = {},
): Promise<{ model: ModelInstance; params: Params }> {
  const model = createMlp(
    { hidden: [8], activation: 'tanh', bias: true, init: 'auto', initScale: 0.1, ...options },
    { inputShape: task.inputShape, outputSize: task.outputSize },
  );
  const rng = new Rng(train_.seed ?? 3);
  const r = await train({
    model,
    task,
    params: model.init(rng.split('init')),
    config: { optimizer: { name: 'adam', lr: train_.lr ?? 0.05 }, epochs: train_.epochs ?? 20, batchSize: 32, evalEvery: 1000 },
    rng: rng.split('train'),
  });
  return { model, params: r.params };
}
