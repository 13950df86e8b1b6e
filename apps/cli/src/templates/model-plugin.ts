import type { PluginNames } from './names';

/**
 * The model a new model package starts from: a one-hidden-layer perceptron written as a pure
 * function of named parameters, with core's second-order-safe activations.
 */
export function modelSource({ plugin, identifier }: PluginNames): { index: string; test: string } {
  const index = `import * as tf from '@tensorflow/tfjs-core';
import { API_VERSION, defineModel, z, type ModelCreateContext, type ParamSpec, type Params, type Rng } from '@goldstone/plugin-api';
import { activation, sizeOf } from '@goldstone/core';

const options = z.strictObject({
  hidden: z.number().int().min(1).max(65_536).default(16).describe('hidden units'),
  // Second-order safe (core's versions): stock tf.tanh gives wrong Hessian-vector products.
  activation: z.enum(['tanh', 'softplus', 'relu']).default('tanh').describe('hidden-layer activation'),
});

/** Parameter layout, in flattening order: everything in parameter space (HVPs, trajectories) uses it. */
function specsOf(inputs: number, hidden: number, outputs: number): ParamSpec[] {
  return [
    { name: 'W1', shape: [inputs, hidden] },
    { name: 'b1', shape: [hidden] },
    { name: 'W2', shape: [hidden, outputs] },
    { name: 'b2', shape: [outputs] },
  ];
}

function normal(rng: Rng, shape: number[], std: number): tf.Tensor {
  return tf.tensor(rng.normalArray(sizeOf(shape), std), shape, 'float32');
}

/** A one-hidden-layer perceptron y = act(x·W1 + b1)·W2 + b2 (inputs flattened). */
export const ${identifier} = defineModel({
  name: '${plugin}',
  apiVersion: API_VERSION,
  description: 'A one-hidden-layer perceptron with second-order-safe activations',
  options,
  // The parameter count before create: the host estimates training memory from it.
  estimate: (o, ctx: ModelCreateContext) => {
    const params = specsOf(sizeOf(ctx.inputShape), o.hidden, ctx.outputSize).reduce((n, s) => n + sizeOf(s.shape), 0);
    return { bytes: 4 * params, params, field: 'hidden' };
  },
  create(o, ctx) {
    const inputs = sizeOf(ctx.inputShape);
    const specs = specsOf(inputs, o.hidden, ctx.outputSize);
    const act = activation(o.activation);
    const gain = o.activation === 'relu' ? 2 : 1;
    return {
      specs,
      paramCount: specs.reduce((n, s) => n + sizeOf(s.shape), 0),
      // Randomness only from the rng handed in: the same seed gives the same parameters.
      init: (rng: Rng): Params => ({
        W1: normal(rng.split('W1'), [inputs, o.hidden], Math.sqrt(gain / inputs)),
        b1: tf.zeros([o.hidden]),
        W2: normal(rng.split('W2'), [o.hidden, ctx.outputSize], Math.sqrt(1 / o.hidden)),
        b2: tf.zeros([ctx.outputSize]),
      }),
      // A pure function of its parameters, differentiable twice.
      apply: (params, x) =>
        tf.tidy(() => {
          const h = act(tf.add(tf.matMul(tf.reshape(x, [-1, inputs]) as tf.Tensor2D, params.W1 as tf.Tensor2D), params.b1));
          return tf.add(tf.matMul(h as tf.Tensor2D, params.W2 as tf.Tensor2D), params.b2);
        }),
      groups: { weights: ['W1', 'W2'], biases: ['b1', 'b2'] },
      info: { hidden: o.hidden, activation: o.activation },
    };
  },
});
`;

  const test = `import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { paramsFromArray } from '@goldstone/core';
import { testPlugin } from '@goldstone/testkit';
import { ${identifier} } from '../src/index';

// The conformance suite every goldstone plugin passes: kind, name and API version; the options
// schema; parameter layout and count; init per seed; apply's shape, purity and leaks; and the
// Hessian-vector product against finite differences (what catches ops that are wrong at second order).
testPlugin(${identifier}, { modelContext: { inputShape: [4], outputSize: 2, outputKind: 'regression' }, badOptions: { hidden: 0 } });

describe('${plugin}', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('computes relu(x·W1 + b1)·W2 + b2', async () => {
    const model = ${identifier}.create(${identifier}.options.parse({ hidden: 2, activation: 'relu' }), { inputShape: [2], outputSize: 1, outputKind: 'regression' });
    // W1 = [[1, -1], [2, 0]], b1 = [0, 1], W2 = [[3], [4]], b2 = [0.5]
    const params = paramsFromArray(new Float32Array([1, -1, 2, 0, 0, 1, 3, 4, 0.5]), model.specs);
    const x = tf.tensor2d([[1, 1], [-1, 0]]);
    const y = model.apply(params, x);
    // row 1: h = relu([3, 0]) = [3, 0] → 9.5; row 2: h = relu([-1, 2]) = [0, 2] → 8.5
    expect(Array.from(await y.data())).toEqual([9.5, 8.5]);
    tf.dispose([x, y, ...Object.values(params)]);
  });
});
`;
  return { index, test };
}
