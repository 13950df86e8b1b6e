import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LossName } from '@goldstone/plugin-api';
import { gradientOf, hvp } from './hvp';
import { lossFunction } from './losses';
import { lossRules, type DirectionLayout } from './loss-rules';
import { Rng } from './rng';
import { relErr } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface Case {
  name: string;
  loss: LossName;
  predShape: number[];
  targets: (rng: Rng, n: number) => number[];
}

const oneHot = (rows: number, cols: number) => (rng: Rng) => {
  const t = new Array(rows * cols).fill(0);
  for (let r = 0; r < rows; r++) t[r * cols + Math.floor(rng.uniform() * cols)] = 1;
  return t;
};

const CASES: Case[] = [
  { name: 'mse [6, 3]', loss: 'mse', predShape: [6, 3], targets: (rng, n) => Array.from(rng.normalArray(n)) },
  { name: 'mse [5, 1]', loss: 'mse', predShape: [5, 1], targets: (rng, n) => Array.from(rng.normalArray(n)) },
  { name: 'softmax-cross-entropy [6, 4], one-hot', loss: 'softmax-cross-entropy', predShape: [6, 4], targets: oneHot(6, 4) },
  // targets that do not sum to one: the Hessian carries the factor Σ_c y_c per example
  { name: 'softmax-cross-entropy [5, 3], unnormalised', loss: 'softmax-cross-entropy', predShape: [5, 3], targets: (rng, n) => Array.from({ length: n }, () => 2 * rng.uniform()) },
  { name: 'binary-cross-entropy [7, 1]', loss: 'binary-cross-entropy', predShape: [7, 1], targets: (rng, n) => Array.from({ length: n }, () => (rng.uniform() < 0.5 ? 0 : 1)) },
  { name: 'binary-cross-entropy [7]', loss: 'binary-cross-entropy', predShape: [7], targets: (rng, n) => Array.from({ length: n }, () => (rng.uniform() < 0.5 ? 0 : 1)) },
];

describe('lossRules against tf.grad of the loss itself', () => {
  for (const c of CASES) {
    for (const layout of ['block-first', 'batch-first'] as DirectionLayout[]) {
      it(`${c.name}, ${layout}: gradient and a block of 5 Hessian products`, () => {
        const before = tf.memory().numTensors;
        const rng = new Rng(11);
        const n = c.predShape.reduce((a, b) => a * b, 1);
        const k = 5;
        const pred = tf.tensor(rng.normalArray(n, 1.5), c.predShape);
        const y = tf.tensor(c.targets(rng, n), c.predShape);
        const L = lossFunction(c.loss);
        const f = (w: tf.Tensor1D) => L(tf.reshape(w, c.predShape), y);
        const w = tf.reshape(pred, [-1]) as tf.Tensor1D;
        const dirs = Array.from({ length: k }, () => Array.from(rng.normalArray(n)));
        const rules = lossRules(c.loss, pred, y);
        const g = rules.gradient();
        const gRef = gradientOf(f, w);
        expect(g.shape).toEqual(c.predShape);
        expect(relErr(g.dataSync(), gRef.dataSync())).toBeLessThan(1e-6);
        // the block: [k, ...pred] or [B, k, ...rest]
        const block = tf.tidy(() => {
          const u = tf.tensor(dirs.flat(), [k, ...c.predShape]);
          return layout === 'block-first' ? u : tf.transpose(u, [1, 0, ...c.predShape.slice(1).map((_, i) => i + 2)]);
        });
        const hu = rules.hessianProduct(block, layout);
        expect(hu.shape).toEqual(block.shape);
        const huFirst = layout === 'block-first' ? hu : tf.transpose(hu, [1, 0, ...c.predShape.slice(1).map((_, i) => i + 2)]);
        const flatRows = tf.tidy(() => tf.reshape(huFirst, [k, n]).arraySync() as number[][]);
        let worst = 0;
        for (let j = 0; j < k; j++) {
          const v = tf.tensor1d(dirs[j]);
          const ref = hvp(f, w, v);
          worst = Math.max(worst, relErr(flatRows[j], ref.dataSync()));
          tf.dispose([v, ref]);
        }
        expect(worst, `largest relative difference ${worst.toExponential(2)}`).toBeLessThan(1e-6);
        rules.dispose();
        tf.dispose([pred, y, w, g, gRef, block, hu, huFirst]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }

  it('refuses directions that do not match the predictions', () => {
    const pred = tf.zeros([4, 3]);
    const y = tf.zeros([4, 3]);
    const rules = lossRules('mse', pred, y);
    const u = tf.zeros([2, 4, 2]);
    expect(() => rules.hessianProduct(u)).toThrow(/do not match predictions \[4,3\]/);
    const wrongLayout = tf.zeros([2, 4, 3]);
    expect(() => rules.hessianProduct(wrongLayout, 'batch-first')).toThrow(/batch-first/);
    const y2 = tf.zeros([4, 2]);
    expect(() => lossRules('mse', pred, y2)).toThrow(/differ in size/);
    const flat = tf.zeros([4]);
    expect(() => lossRules('softmax-cross-entropy', flat, flat)).toThrow(/\[B, C\]/);
    tf.dispose([pred, y, u, wrongLayout, y2, flat]);
  });
});
