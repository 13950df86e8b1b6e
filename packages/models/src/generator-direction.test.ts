import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, disposeParams, flattenParams, generatorMatrix, unflattenParams } from '@goldstone/core';
import type { ModelInstance, Params } from '@goldstone/plugin-api';
import { createDeepSets, deepSetsOptions } from './deep-sets';
import { createMlp, mlpOptions } from './mlp';
import { elementBlock, transposedTimes } from './generator-direction';
import { maxAbs, maxAbsDiff, outputs } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const N = 4;
const F = 3;

/** Rotation of channels (a, b) of [B, N, F] inputs: (Gx)_a = −x_b, (Gx)_b = x_a, other channels 0. */
function rotation(a: number, b: number, only?: number) {
  return (x: tf.Tensor): tf.Tensor =>
    tf.tidy(() => {
      const [B, n, f] = x.shape;
      const parts = Array.from({ length: f! }, (_, c) => {
        const col = c === a ? tf.neg(tf.slice(x, [0, 0, b], [B, n!, 1])) : c === b ? tf.slice(x, [0, 0, a], [B, n!, 1]) : tf.zeros([B, n!, 1]);
        if (only === undefined) return col;
        const keep = tf.reshape(tf.oneHot(tf.tensor1d([only], 'int32'), n!), [1, n!, 1]);
        return tf.mul(col, keep);
      });
      return tf.concat(parts, 2);
    });
}

/** Padded sets [B, N, F] with the first sizes[b] elements present; channel 0 positive (a weight). */
function sets(rng: Rng, sizes: number[]): tf.Tensor {
  const v = new Float32Array(sizes.length * N * F);
  sizes.forEach((n, b) => {
    for (let i = 0; i < n; i++) for (let f = 0; f < F; f++) v[(b * N + i) * F + f] = f === 0 ? 0.1 + rng.uniform() : rng.normal();
  });
  return tf.tensor3d(v, [sizes.length, N, F]);
}

/**
 * For ε in `eps`: e = max |f(θ + εv, x) − f(θ, x + εGx)| and m = max |f(θ + εv, x) − f(θ, x)|
 * (the first-order change), host numbers.
 */
function firstOrder(model: ModelInstance, params: Params, G: Float32Array, v: Float32Array, x: tf.Tensor, eps: number[]) {
  const D = G.length ** 0.5;
  const f0 = outputs(model, params, x);
  return eps.map((e) => {
    const moved = tf.tidy(() => unflattenParams(tf.add(flattenParams(params, model.specs), tf.mul(tf.tensor1d(v), e)) as tf.Tensor1D, model.specs));
    const xg = tf.tidy(() => {
      const flat = tf.reshape(x, [x.shape[0], D]);
      const gx = tf.matMul(flat, tf.tensor2d(G, [D, D]), false, true); // rows: (G x_b)ᵀ
      return tf.reshape(tf.add(flat, tf.mul(gx, e)), x.shape);
    });
    const a = outputs(model, moved, x);
    const b = outputs(model, params, xg);
    disposeParams(moved);
    xg.dispose();
    return { eps: e, err: maxAbsDiff(a, b), change: maxAbsDiff(a, f0) };
  });
}

function direction(model: ModelInstance, params: Params, G: Float32Array): Float32Array {
  const d = model.generatorDirection!(params, G);
  if ('unsupported' in d) throw new Error(d.unsupported);
  expect(d.direction).toHaveLength(model.paramCount);
  return d.direction;
}

/** f(θ + εv, x) = f(θ, x + εGx) to first order (here exactly: the first layer is linear), and −v is not the direction. */
function expectRealises(model: ModelInstance, params: Params, G: Float32Array, x: tf.Tensor) {
  const v = direction(model, params, G);
  const rows = firstOrder(model, params, G, v, x, [1e-2, 5e-3]);
  for (const r of rows) {
    expect(r.change).toBeGreaterThan(1e-4); // the direction moves the outputs …
    expect(r.err / r.change).toBeLessThan(2e-3); // … as rotating the inputs does
  }
  // the change is first order (halving ε halves it) and the error does not grow relative to it
  expect(rows[0].change / rows[1].change).toBeGreaterThan(1.8);
  expect(rows[0].change / rows[1].change).toBeLessThan(2.2);
  const wrong = firstOrder(model, params, G, v.map((a) => -a), x, [1e-2])[0];
  expect(wrong.err / wrong.change).toBeGreaterThan(1.5);
}

describe('generatorDirection', () => {
  const G = generatorMatrix(rotation(1, 2), [N, F]);

  it('Gᵀ·W and the per-element block of a rotation are what they should be', () => {
    // G = [[0, −1], [1, 0]], W = [[1, 2], [3, 4]]: GᵀW = [[3, 4], [−1, −2]]
    expect(Array.from(transposedTimes([0, -1, 1, 0], 2, [1, 2, 3, 4], 2))).toEqual([3, 4, -1, -2]);
    const found = elementBlock(G, N, F);
    expect('block' in found && Array.from(found.block, (v) => v + 0)).toEqual([0, 0, 0, 0, 0, -1, 0, 1, 0]);
  });

  it('mlp: δ(dense0.weight) = GᵀW realises a rotation of (Δη, Δφ) on [N, 3] inputs', () => {
    const rng = new Rng(3);
    const model = createMlp(mlpOptions.parse({ hidden: [6, 5], activation: 'tanh' }), { inputShape: [N, F], outputSize: 2 });
    const params = model.init(rng.split('init'));
    const x = sets(rng, [4, 3, 4, 2]);
    const d = model.generatorDirection!(params, G);
    expect('params' in d && d.params).toEqual(['dense0.weight']);
    // zero outside the first weight
    const v = direction(model, params, G);
    expect(maxAbs(v.subarray(N * F * 6))).toBe(0);
    expectRealises(model, params, G, x);
    expect(model.generatorDirection!(params, new Float32Array(4))).toEqual({ unsupported: expect.stringMatching(/4 values, expected 12×12/) });
    disposeParams(params);
    x.dispose();
  });

  const cases: [string, Record<string, unknown>, string[]][] = [
    ['equivariant layers', { equivariant: [5], phi: [4], rho: [3], activation: 'tanh' }, ['eq0.lambda', 'eq0.gamma']],
    ['φ only', { phi: [5, 4], rho: [3], activation: 'tanh' }, ['phi.dense0.weight']],
    ['energy flow (weight channel 0)', { phi: [5], rho: [3], activation: 'tanh', weightChannel: 0 }, ['phi.dense0.weight']],
    ['energy flow with equivariant layers, mean pool', { equivariant: [4], phi: [5], rho: [3], activation: 'tanh', weightChannel: 0, pool: 'mean' }, ['eq0.lambda', 'eq0.gamma']],
    ['element readout', { equivariant: [4], phi: [5], rho: [3], activation: 'tanh', readout: 'element' }, ['eq0.lambda', 'eq0.gamma']],
    ['no φ (ρ first)', { phi: [], rho: [3], activation: 'tanh', weightChannel: 0 }, ['rho.dense0.weight']],
  ];
  for (const [label, opts, moved] of cases) {
    it(`deep-sets (${label}): δW = ĝᵀW on the first per-element layer realises the rotation on padded sets`, () => {
      const rng = new Rng(5);
      const outputSize = opts.readout === 'element' ? 2 * N : 2;
      const model = createDeepSets(deepSetsOptions.parse(opts), { inputShape: [N, F], outputSize });
      const params = model.init(rng.split('init'));
      const x = sets(rng, [4, 3, 1, 2]);
      const d = model.generatorDirection!(params, G);
      expect('params' in d && d.params).toEqual(moved);
      expectRealises(model, params, G, x);
      disposeParams(params);
      x.dispose();
    });
  }

  it('deep-sets: generators the first layer cannot absorb are unsupported, with the reason', () => {
    const rng = new Rng(1);
    const plain = createDeepSets(deepSetsOptions.parse({ phi: [4], rho: [] }), { inputShape: [N, F], outputSize: 1 });
    const eflow = createDeepSets(deepSetsOptions.parse({ phi: [4], rho: [], weightChannel: 0 }), { inputShape: [N, F], outputSize: 1 });
    const p = plain.init(rng.split('a'));
    const q = eflow.init(rng.split('b'));
    const mixing = generatorMatrix((x) => tf.tidy(() => tf.concat([tf.neg(tf.slice(x, [0, 1, 0], [-1, 1, -1])), tf.slice(x, [0, 0, 0], [-1, 1, -1]), tf.zerosLike(tf.slice(x, [0, 2, 0], [-1, 2, -1]))], 1)), [N, F]);
    expect(plain.generatorDirection!(p, mixing)).toEqual({ unsupported: expect.stringMatching(/mixes elements/) });
    const oneElement = generatorMatrix(rotation(1, 2, 2), [N, F]);
    expect(plain.generatorDirection!(p, oneElement)).toEqual({ unsupported: expect.stringMatching(/differently on element/) });
    const touchesWeight = generatorMatrix(rotation(0, 1), [N, F]);
    expect(eflow.generatorDirection!(q, touchesWeight)).toEqual({ unsupported: expect.stringMatching(/weight channel 0/) });
    // without a weight channel the same rotation is fine
    expect('direction' in plain.generatorDirection!(p, touchesWeight)).toBe(true);
    disposeParams(p);
    disposeParams(q);
  });

  it('leaks no tensors', () => {
    const rng = new Rng(2);
    const model = createDeepSets(deepSetsOptions.parse({ equivariant: [3], phi: [4], rho: [] }), { inputShape: [N, F], outputSize: 1 });
    const params = model.init(rng);
    const before = tf.memory().numTensors;
    model.generatorDirection!(params, G);
    expect(tf.memory().numTensors).toBe(before);
    disposeParams(params);
  });
});
