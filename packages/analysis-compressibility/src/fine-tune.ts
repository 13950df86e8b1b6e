import * as tf from '@tensorflow/tfjs-core';
import { batchIndices, disposeParams, paramsFromArray, paramsToArray, splitTensors } from '@goldstone/core';
import { createOptimizer, createTrainStep, type OptimizerName } from '@goldstone/trainer';
import type { ModelInstance, Params, Rng, TaskInstance } from '@goldstone/plugin-api';

export interface FineTuneConfig {
  epochs: number;
  optimizer: OptimizerName;
  lr: number;
  batchSize: number;
}

/**
 * Fine-tune a pruned model on the task's train split with core's train step, holding the pruned
 * values at zero: after every update the parameters are multiplied by the 0/1 `mask` (flat, in
 * the order of the model's specs). Returns the fine-tuned flat parameters.
 */
export function fineTuneMasked(
  model: ModelInstance,
  task: TaskInstance,
  values: Float32Array,
  mask: Float32Array,
  config: FineTuneConfig,
  rng: Rng,
): Float32Array {
  const split = task.splits.train;
  let params: Params = paramsFromArray(values, model.specs);
  const masks = paramsFromArray(mask, model.specs);
  const optimizer = createOptimizer({ name: config.optimizer, lr: config.lr }, model.specs);
  try {
    const step = createTrainStep(model, task.loss, optimizer);
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      for (const batch of batchIndices(split.n, config.batchSize, rng.split(`epoch:${epoch}`))) {
        const { x, y } = splitTensors(split, batch);
        try {
          params = step(params, x, y).params;
        } finally {
          tf.dispose([x, y]);
        }
        const masked: Params = {};
        for (const [name, t] of Object.entries(params)) masked[name] = tf.mul(t, masks[name]);
        disposeParams(params);
        params = masked;
      }
    }
    return paramsToArray(params, model.specs);
  } finally {
    disposeParams(params);
    disposeParams(masks);
    optimizer.dispose();
  }
}
