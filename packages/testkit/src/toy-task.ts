import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { API_VERSION, defineTask, type Rng, type Split } from '@goldstone/plugin-api';

const options = z.strictObject({
  inputs: z.number().int().positive().default(4),
  outputs: z.number().int().positive().default(2),
  trainSize: z.number().int().positive().default(64),
  testSize: z.number().int().positive().default(32),
  noise: z.number().min(0).default(0.1),
});

function split(n: number, inputs: number, outputs: number, w: Float32Array, noise: number, rng: Rng): Split {
  const x = rng.normalArray(n * inputs);
  const y = new Float32Array(n * outputs);
  for (let r = 0; r < n; r++)
    for (let j = 0; j < outputs; j++) {
      let s = 0;
      for (let i = 0; i < inputs; i++) s += x[r * inputs + i] * w[i * outputs + j];
      y[r * outputs + j] = s + noise * rng.normal();
    }
  return { n, x, y, xShape: [inputs], yShape: [outputs] };
}

/**
 * A tiny linear-regression task (y = x·W* + noise, Gaussian inputs, W* drawn from the seed), for
 * exercising models and analyses in tests. Loss `mse`; metrics `mse` and `r2`; one input
 * symmetry (`negate`, an exact symmetry of the input distribution used only to exercise callers).
 */
export const toyRegressionTask = defineTask({
  name: 'toy-regression',
  apiVersion: API_VERSION,
  description: 'A tiny noisy linear regression for tests.',
  options,
  create(opts, { rng }) {
    const o = options.parse(opts);
    const w = rng.split('weights').normalArray(o.inputs * o.outputs, 1 / Math.sqrt(o.inputs));
    return {
      inputShape: [o.inputs],
      outputSize: o.outputs,
      outputKind: 'regression',
      loss: 'mse',
      splits: {
        train: split(o.trainSize, o.inputs, o.outputs, w, o.noise, rng.split('train')),
        test: split(o.testSize, o.inputs, o.outputs, w, o.noise, rng.split('test')),
      },
      metrics(pred, y) {
        const p = pred.dataSync();
        const t = y.dataSync();
        let res = 0;
        let mean = 0;
        for (let i = 0; i < t.length; i++) mean += t[i] / t.length;
        let tot = 0;
        for (let i = 0; i < t.length; i++) {
          res += (p[i] - t[i]) ** 2;
          tot += (t[i] - mean) ** 2;
        }
        return { mse: res / t.length, r2: tot > 0 ? 1 - res / tot : 0 };
      },
      symmetries: [
        {
          name: 'negate',
          sample: (x: tf.Tensor, r: Rng) => tf.mul(x, r.uint32() & 1 ? 1 : -1),
        },
      ],
      info: { weights: Array.from(w), noise: o.noise },
    };
  },
});
