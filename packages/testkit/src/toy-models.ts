import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { API_VERSION, defineModel, type ParamSpec, type Params, type Rng } from '@goldstone/plugin-api';
import { sizeOf, tanh } from '@goldstone/core';

function normal(rng: Rng, shape: number[], std: number): tf.Tensor {
  return tf.tensor(rng.normalArray(sizeOf(shape), std), shape, 'float32');
}

function flatInputs(inputShape: number[]): number {
  return sizeOf(inputShape);
}

/**
 * A linear model y = x·W + b (inputs flattened), for tests. Parameters `W` [in, out] and `b`
 * [out]; `W` drawn N(0, 1/in), `b` zero.
 */
export const toyLinearModel = defineModel({
  name: 'toy-linear',
  apiVersion: API_VERSION,
  description: 'A linear model for tests.',
  options: z.strictObject({ bias: z.boolean().default(true) }),
  create(opts, ctx) {
    const inputs = flatInputs(ctx.inputShape);
    const specs: ParamSpec[] = [{ name: 'W', shape: [inputs, ctx.outputSize] }];
    if (opts.bias) specs.push({ name: 'b', shape: [ctx.outputSize] });
    return {
      specs,
      paramCount: inputs * ctx.outputSize + (opts.bias ? ctx.outputSize : 0),
      init(rng: Rng): Params {
        const p: Params = { W: normal(rng, [inputs, ctx.outputSize], 1 / Math.sqrt(inputs)) };
        if (opts.bias) p.b = tf.zeros([ctx.outputSize]);
        return p;
      },
      apply(params, x) {
        return tf.tidy(() => {
          const h = tf.matMul(tf.reshape(x, [-1, inputs]), params.W as tf.Tensor2D);
          return opts.bias ? tf.add(h, params.b) : h;
        });
      },
    };
  },
});

/**
 * A one-hidden-layer perceptron (inputs flattened) with a `relu`, `tanh` or `softplus` hidden
 * layer, for tests. Parameters `W1` [in, hidden], `b1`, `W2` [hidden, out], `b2`; He/Xavier-style
 * normal initialisation, zero biases. Uses core's second-order-safe `tanh`.
 */
export const toyMlp = defineModel({
  name: 'toy-mlp',
  apiVersion: API_VERSION,
  description: 'A one-hidden-layer MLP for tests.',
  options: z.strictObject({
    hidden: z.number().int().positive().default(8),
    activation: z.enum(['relu', 'tanh', 'softplus']).default('tanh'),
  }),
  create(opts, ctx) {
    const inputs = flatInputs(ctx.inputShape);
    const { hidden } = opts;
    const out = ctx.outputSize;
    const act = opts.activation === 'relu' ? tf.relu : opts.activation === 'softplus' ? tf.softplus : tanh;
    const gain = opts.activation === 'relu' ? 2 : 1;
    const specs: ParamSpec[] = [
      { name: 'W1', shape: [inputs, hidden] },
      { name: 'b1', shape: [hidden] },
      { name: 'W2', shape: [hidden, out] },
      { name: 'b2', shape: [out] },
    ];
    return {
      specs,
      paramCount: inputs * hidden + hidden + hidden * out + out,
      init(rng: Rng): Params {
        return {
          W1: normal(rng.split('W1'), [inputs, hidden], Math.sqrt(gain / inputs)),
          b1: tf.zeros([hidden]),
          W2: normal(rng.split('W2'), [hidden, out], Math.sqrt(1 / hidden)),
          b2: tf.zeros([out]),
        };
      },
      apply(params, x) {
        return tf.tidy(() => {
          const h = act(tf.add(tf.matMul(tf.reshape(x, [-1, inputs]), params.W1 as tf.Tensor2D), params.b1));
          return tf.add(tf.matMul(h as tf.Tensor2D, params.W2 as tf.Tensor2D), params.b2);
        });
      },
      groups: { weights: ['W1', 'W2'], biases: ['b1', 'b2'] },
      info: { hidden, activation: opts.activation },
    };
  },
});
