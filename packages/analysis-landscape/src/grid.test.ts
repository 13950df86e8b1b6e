import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, disposeParams, lossFunction, splitTensors, taskLoss } from '@goldstone/core';
import type { LossName } from '@goldstone/plugin-api';
import { expectNoLeaks } from '@goldstone/testkit';
import { GridEvaluator, linspace, replicaLosses } from './grid';
import { quadraticSetting } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Largest |a − b| relative to max(|b|, floor). */
function maxRelErr(a: number[], b: number[], floor: number): number {
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]) / Math.max(Math.abs(b[i]), floor)));
}

describe('GridEvaluator on a quadratic with known Hessian', () => {
  for (const batched of [true, false]) {
    it(`2-D slices match the analytic surface L0 + gᵀδ + ½δᵀHδ to float32 round-off (${batched ? 'applyReplicas' : 'one apply per point'})`, async () => {
      const q = quadraticSetting({ n: 40, d: 6, seed: 3 });
      const rng = new Rng(11);
      const d1 = rng.normalArray(6);
      const d2 = rng.normalArray(6);
      const a = linspace(-2, 2, 9);
      const coords = a.flatMap((bv) => a.map((av) => [av, bv]));
      const { x, y } = splitTensors(q.task.splits.train);
      const ev = new GridEvaluator({ model: q.model, task: q.task, loss: taskLoss(q.task, q.model) }, { replicas: 7, maxExamples: 40, batched });
      const got = await ev.evaluate(q.w0, [d1, d2], coords, { x, y, n: 40 });
      const want = coords.map(([s, t]) => q.surface(Array.from({ length: 6 }, (_, j) => s * d1[j] + t * d2[j])));
      expect(maxRelErr(got.loss, want, q.loss0)).toBeLessThan(2e-5);
      expect(got.accuracy).toBeNull();
      const cost = ev.cost(false);
      expect(cost.evaluations).toBe(81);
      expect(cost.calls).toBe(batched ? Math.ceil(81 / 7) : 81);
      expect(cost.replicasPerCall).toBe(batched ? 7 : 1);
      expect(cost.seconds).toBeNull();
      expect(ev.cost(true).seconds).toBeGreaterThanOrEqual(0);
      tf.dispose([x, y]);
      disposeParams(q.params);
    });
  }

  it('batched and unbatched evaluation agree, and neither leaks tensors', async () => {
    const q = quadraticSetting({ n: 16, d: 4, seed: 5 });
    const { x, y } = splitTensors(q.task.splits.train);
    const dir = new Rng(2).normalArray(4);
    const coords = linspace(-1, 1, 11).map((t) => [t]);
    const run = (batched: boolean) => new GridEvaluator({ model: q.model, task: q.task, loss: taskLoss(q.task, q.model) }, { replicas: 0, maxExamples: 16, batched }).evaluate(q.w0, [dir], coords, { x, y, n: 16 });
    const [b, u] = [await run(true), await run(false)];
    expect(maxRelErr(b.loss, u.loss, 1e-3)).toBeLessThan(1e-5);
    await expectNoLeaks(() => run(true));
    await expectNoLeaks(() => run(false));
    tf.dispose([x, y]);
    disposeParams(q.params);
  });
});

describe('replicaLosses', () => {
  const cases: [LossName, number][] = [
    ['mse', 3],
    ['softmax-cross-entropy', 4],
    ['binary-cross-entropy', 1],
  ];
  for (const [name, outputs] of cases) {
    it(`${name}: replica r equals the loss of out[r]`, () => {
      const rng = new Rng(9);
      const out = tf.tensor3d(rng.normalArray(3 * 5 * outputs), [3, 5, outputs]);
      const yv = name === 'softmax-cross-entropy' ? Float32Array.from({ length: 5 * outputs }, (_, i) => (i % outputs === i % 3 ? 1 : 0)) : name === 'binary-cross-entropy' ? Float32Array.from({ length: 5 }, (_, i) => i % 2) : rng.normalArray(5 * outputs);
      const y = tf.tensor2d(yv, [5, outputs]);
      const got = replicaLosses(name, out, y);
      const want = tf.tidy(() => tf.stack(tf.unstack(out).map((o) => lossFunction(name)(o, y))));
      const g = Array.from(got.dataSync());
      Array.from(want.dataSync()).forEach((w, i) => expect(g[i]).toBeCloseTo(w, 5));
      tf.dispose([out, y, got, want]);
    });
  }
});
