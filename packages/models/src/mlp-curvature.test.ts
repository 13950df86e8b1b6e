import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIVATIONS, LOSSES, Rng, disposeParams, flatLoss, flattenParams, hvp, paramsFromArray, type ActivationName } from '@goldstone/core';
import { curvatureOperator, ggnProduct } from '@goldstone/curvature';
import type { LossName, ModelInstance, Params } from '@goldstone/plugin-api';
import { createMlp, mlpOptions } from './mlp';
import { blockAgainstSingle, denseFromBlocksDifference, mlpFixtures, relErr, worstColumn } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function make(options: Record<string, unknown>, inputShape: number[], outputSize: number): ModelInstance {
  return createMlp(mlpOptions.parse(options), { inputShape, outputSize });
}

function targets(loss: LossName, rng: Rng, batch: number, out: number): tf.Tensor {
  if (loss === 'mse') return tf.tensor2d(rng.normalArray(batch * out), [batch, out]);
  if (loss === 'binary-cross-entropy') return tf.tensor2d(Array.from({ length: batch }, () => (rng.uniform() < 0.5 ? 0 : 1)), [batch, 1]);
  const t = new Float32Array(batch * out);
  for (let b = 0; b < batch; b++) t[b * out + rng.int(out)] = 1;
  return tf.tensor2d(t, [batch, out]);
}

interface Setting {
  model: ModelInstance;
  params: Params;
  x: tf.Tensor;
  y: tf.Tensor;
  dispose(): void;
}

function setting(options: Record<string, unknown>, loss: LossName, inputShape: number[], seed: number, batch = 7): Setting {
  const out = loss === 'binary-cross-entropy' ? 1 : 3;
  const model = make(options, inputShape, out);
  const rng = new Rng(seed);
  const params = model.init(rng.split('init'));
  // biases away from zero: pre-activations rarely sit on a kink
  const x = tf.tensor(rng.split('x').normalArray(batch * inputShape.reduce((a, b) => a * b, 1)), [batch, ...inputShape]);
  const y = targets(loss, rng.split('y'), batch, out);
  return {
    model,
    params,
    x,
    y,
    dispose: () => {
      disposeParams(params);
      tf.dispose([x, y]);
    },
  };
}

/** Block products against one-vector double backprop (`hvp`) or `ggnProduct`: the worst column's relative difference. */
function compare(s: Setting, loss: LossName, kind: 'hessian' | 'ggn', k: number, seed: number): number {
  return blockAgainstSingle(s.model, s.params, s.x, s.y, loss, kind, k, seed);
}

const TOL = 1e-5;

describe('mlp curvature products (R-operator) against one-vector products', () => {
  const grid: { activation: ActivationName; hidden: number[]; bias: boolean; loss: LossName }[] = [];
  for (const loss of LOSSES) {
    for (const bias of [true, false]) {
      grid.push({ activation: 'identity', hidden: [], bias, loss }); // depth 0: the activation plays no part
      for (const activation of ACTIVATIONS) {
        grid.push({ activation, hidden: [5], bias, loss });
        grid.push({ activation, hidden: [5, 4], bias, loss });
      }
    }
  }
  it.each(grid.map((c, i) => [`${c.activation} ${c.hidden.length ? c.hidden.join('-') : 'linear'}${c.bias ? '' : ' no bias'} ${c.loss}`, c, i] as const))(
    '%s: hessian and ggn blocks of 4 match hvp / ggnProduct to float32 round-off',
    (_, c, i) => {
      const before = tf.memory().numTensors;
      // z² grows fast with depth: at scale 0.6 a 5-4 quadratic net reaches logits ~270, the softmax
      // saturates and the GGN's cancellations cost digits in both methods (against float64 PyTorch
      // the block was 3e-5 off and ggnProduct 1.4e-4; at 0.35 still 8e-6); at 0.25 both are at round-off.
      const initScale = c.activation === 'quadratic' ? 0.25 : 0.6;
      const s = setting({ hidden: c.hidden, activation: c.activation, bias: c.bias, init: 'normal', initScale }, c.loss, [4], 100 + i);
      for (const kind of ['hessian', 'ggn'] as const) {
        const worst = compare(s, c.loss, kind, 4, 7 + i);
        expect(worst, `${kind}: largest difference ${worst.toExponential(2)} of the column norm`).toBeLessThan(TOL);
      }
      s.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('takes inputs of any shape (a 3-D batch [B, 2, 3]) and blocks of one or many directions', () => {
    const s = setting({ hidden: [6, 5], activation: 'tanh' }, 'softmax-cross-entropy', [2, 3], 5, 9);
    const worst = [1, 3, 17].map((k) => compare(s, 'softmax-cross-entropy', 'hessian', k, k));
    for (const w of worst) expect(w, `largest difference ${w.toExponential(2)}`).toBeLessThan(TOL);
    s.dispose();
  });

  it('skips layers whose directions are all zero (unit columns, restricted operators) with the same products', () => {
    for (const [activation, loss] of [['tanh', 'softmax-cross-entropy'], ['relu', 'mse'], ['identity', 'binary-cross-entropy']] as const) {
      const s = setting({ hidden: [5, 4], activation }, loss, [3], 12);
      const { model, params, x, y } = s;
      const n = model.paramCount;
      const w = flattenParams(params, model.specs);
      const f = flatLoss(model, loss, x, y);
      const rng = new Rng(3);
      // each direction lives in one parameter tensor only; the last block is all zero
      const ranges: [number, number][] = [];
      let o = 0;
      for (const spec of model.specs) {
        const size = spec.shape.reduce((a, b) => a * b, 1);
        ranges.push([o, size]);
        o += size;
      }
      for (const [off, size] of [...ranges, [0, 0] as [number, number]]) {
        const dirs = [0, 1].map(() => {
          const d = new Float32Array(n);
          d.set(rng.normalArray(size), off);
          return d;
        });
        for (const kind of ['hessian', 'ggn'] as const) {
          const vectors = tf.tensor2d(dirs.map((d) => Array.from(d)), [2, n]);
          const block = model.curvatureProducts!({ params, x, y, loss, kind, vectors })!;
          const got = block.arraySync();
          const want = dirs.map((d) => tf.tidy(() => {
            const v = tf.tensor1d(d);
            return Float32Array.from((kind === 'hessian' ? hvp(f, w, v) : ggnProduct(model, loss, w, x, y, v)).dataSync());
          }));
          if (size === 0) expect(got.flat().every((t) => t === 0)).toBe(true);
          else {
            const worst = worstColumn(got, want);
            expect(worst, `${activation} ${kind} at offset ${off}: largest difference ${worst.toExponential(2)}`).toBeLessThan(TOL);
          }
          tf.dispose([vectors, block]);
        }
      }
      w.dispose();
      s.dispose();
    }
  });

  it('has rules for the quadratic activation z + αz² too (a block, on the curvature tape)', () => {
    for (const alpha of [0.5, 'learned'] as const) {
      const s = setting({ hidden: [4], activation: 'quadratic', alpha }, 'mse', [3], 1);
      const vectors = tf.zeros([2, s.model.paramCount]) as tf.Tensor2D;
      const block = s.model.curvatureProducts!({ params: s.params, x: s.x, y: s.y, loss: 'mse', kind: 'hessian', vectors });
      expect(block?.shape).toEqual([2, s.model.paramCount]);
      block?.dispose();
      vectors.dispose();
      s.dispose();
    }
  });

  it('refuses directions of the wrong length and inputs of the wrong size', () => {
    const s = setting({ hidden: [4] }, 'mse', [3], 1);
    const bad = tf.zeros([2, s.model.paramCount + 1]) as tf.Tensor2D;
    expect(() => s.model.curvatureProducts!({ params: s.params, x: s.x, y: s.y, loss: 'mse', kind: 'hessian', vectors: bad })).toThrow(/must be \[k, 31\]/);
    const good = tf.zeros([2, s.model.paramCount]) as tf.Tensor2D;
    const x = tf.zeros([7, 4]);
    expect(() => s.model.curvatureProducts!({ params: s.params, x, y: s.y, loss: 'mse', kind: 'hessian', vectors: good })).toThrow(/does not match 3 inputs/);
    tf.dispose([bad, good, x]);
    s.dispose();
  });
});

// Float64 PyTorch references of the plain mlp (packages/core/scripts/make-fixtures.py): every
// activation and loss, with and without bias, up to three hidden layers.
const fixtures = mlpFixtures();

describe('mlp curvature products against float64 PyTorch', () => {
  it.each(fixtures.cases.map((c) => [c.name, c] as const))('%s: the block [v, −2v] gives [Hv, −2Hv]', (_, c) => {
    const model = make({ hidden: c.hidden, activation: c.activation, bias: c.bias }, c.inputShape, c.outputSize);
    const x = tf.tensor(c.x, [c.batch, ...c.inputShape]);
    const y = tf.tensor(c.y, c.yShape);
    const params = paramsFromArray(Float32Array.from(c.w), model.specs);
    const vectors = tf.tensor2d([c.v, c.v.map((t) => -2 * t)]);
    const block = model.curvatureProducts!({ params, x, y, loss: c.loss, kind: 'hessian', vectors })!;
    const [hv, hv2] = block.arraySync();
    const e = Math.max(relErr(hv, c.hv), relErr(hv2, c.hv.map((t) => -2 * t)));
    expect(e, `relative difference ${e.toExponential(2)}`).toBeLessThan(1e-5);
    tf.dispose([x, y, vectors, block]);
    disposeParams(params);
  });
});

describe('curvatureOperator on an mlp: block products', () => {
  for (const kind of ['hessian', 'ggn'] as const) {
    it(`${kind}: applyBlock equals apply vector by vector, over weighted batches and a parameter subset`, () => {
      const before = tf.memory().numTensors;
      const s = setting({ hidden: [6, 5], activation: 'softplus' }, 'softmax-cross-entropy', [4], 3, 11);
      const rng = new Rng(4);
      const split = (t: tf.Tensor, at: number) => [tf.slice(t, 0, at), tf.slice(t, at)];
      const [x1, x2] = split(s.x, 4);
      const [y1, y2] = split(s.y, 4);
      for (const restrictTo of [undefined, ['dense1.weight', 'dense2.bias']]) {
        const data = [{ x: x1, y: y1 }, { x: x2, y: y2 }];
        const op = curvatureOperator({ model: s.model, loss: 'softmax-cross-entropy', params: s.params, data, kind, restrictTo });
        // the same model without rules: double backprop (or ggnProduct), one vector at a time
        const ref = curvatureOperator({ model: { ...s.model, curvatureProducts: undefined }, loss: 'softmax-cross-entropy', params: s.params, data, kind, restrictTo });
        expect(op.blockSize).toBeGreaterThan(1);
        const vs = Array.from({ length: 5 }, () => Float64Array.from(rng.normalArray(op.dim)));
        const block = op.applyBlock!(vs);
        const single = vs.map((v) => Float32Array.from(op.apply(v)));
        const reference = vs.map((v) => Float32Array.from(ref.apply(v)));
        const rows = block.map((r) => Array.from(r));
        const worst = Math.max(worstColumn(rows, single), worstColumn(rows, reference));
        expect(worst, `largest difference ${worst.toExponential(2)}`).toBeLessThan(TOL);
        expect(op.products).toBe(10);
        op.dispose();
        ref.dispose();
      }
      tf.dispose([x1, x2, y1, y2]);
      s.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('denseMatrix from blocks of columns equals the double-backprop dense Hessian to round-off', async () => {
    const s = setting({ hidden: [5, 4], activation: 'tanh' }, 'mse', [3], 8, 10);
    const r = await denseFromBlocksDifference(s.model, s.params, s.x, s.y, 'mse');
    expect(r.blockSize).toBeGreaterThanOrEqual(s.model.paramCount);
    expect(r.difference, `largest difference ${r.difference.toExponential(2)} of the largest entry`).toBeLessThan(TOL);
    expect(r.products).toBe(s.model.paramCount);
    s.dispose();
  });
});
