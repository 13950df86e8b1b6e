import * as tf from '@tensorflow/tfjs-core';
import { Rng, scoreTensors } from '@goldstone/core';
import { train } from '@goldstone/trainer';
import type { ModelInstance, ModelPlugin, OutputKind, Params, Split, TaskInstance } from '@goldstone/plugin-api';

/**
 * Gaussian blobs, a small classification task for tests: `classes` balanced classes in `dim`
 * dimensions, centres drawn from the seed at distance ~`separation`, unit-variance noise.
 * `binary` gives 0/1 targets of shape [1] (loss `binary-cross-entropy`), otherwise one-hot rows
 * (`softmax-cross-entropy`). Two input symmetries to exercise callers: `jitter` (sampled only) and
 * `scale` (with generator G·x = x).
 */
export function blobsTask(
  o: { classes?: number; perClass?: number; dim?: number; separation?: number; seed?: number; binary?: boolean } = {},
): TaskInstance {
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

/** `model` trained on `task` with Adam by core's real trainer, from the seed. The caller owns the params. */
export async function trainedModel(
  task: TaskInstance,
  model: ModelInstance,
  settings: { epochs?: number; lr?: number; seed?: number; batchSize?: number } = {},
): Promise<Params> {
  const rng = new Rng(settings.seed ?? 3);
  const r = await train({
    model,
    task,
    params: model.init(rng.split('init')),
    config: { optimizer: { name: 'adam', lr: settings.lr ?? 0.05 }, epochs: settings.epochs ?? 20, batchSize: settings.batchSize ?? 32, evalEvery: 1000 },
    rng: rng.split('train'),
  });
  return r.params;
}

/**
 * A model made by a model plugin (options validated by its schema) and trained on `task` with
 * `trainedModel`: the small trained setting analysis tests start from. The caller owns the params.
 */
export async function trainedPluginModel(
  plugin: ModelPlugin,
  task: TaskInstance,
  options: Record<string, unknown> = {},
  settings: Parameters<typeof trainedModel>[2] = {},
): Promise<{ model: ModelInstance; params: Params }> {
  const model = plugin.create(plugin.options.parse(options), { inputShape: task.inputShape, outputSize: task.outputSize, outputKind: task.outputKind });
  return { model, params: await trainedModel(task, model, settings) };
}
