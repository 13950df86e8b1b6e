import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOSSES, Rng, disposeParams } from '@goldstone/core';
import type { LossName } from '@goldstone/plugin-api';
import { createDeepSets, deepSetsOptions } from './deep-sets';
import { checkBlocks, denseFromBlocksDifference, lossTargets } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Largest difference measured over the grid below: 3.8e-7 (Hessian), 9.2e-7 (GGN) of the column norm (float32 round-off).
const TOL = 1e-5;
const [N, F] = [4, 3];

/** Padded sets: element n of set b present for n < count_b (1…N), padding all zeros; channel 0 a positive weight. */
function sets(rng: Rng, batch: number): tf.Tensor {
  const v = rng.normalArray(batch * N * F);
  for (let b = 0; b < batch; b++) {
    const count = 1 + (b % N);
    for (let n = 0; n < N; n++) for (let f = 0; f < F; f++) {
      const i = (b * N + n) * F + f;
      v[i] = n < count ? (f === 0 ? Math.abs(v[i]) + 0.1 : v[i]) : 0;
    }
  }
  return tf.tensor3d(v, [batch, N, F]);
}

function setting(options: Record<string, unknown>, loss: LossName, seed: number, batch = 6) {
  const perOutput = loss === 'binary-cross-entropy' ? 1 : 2;
  const out = options.readout === 'element' ? perOutput * N : perOutput;
  const model = createDeepSets(deepSetsOptions.parse({ init: 'normal', initScale: 0.5, ...options }), { inputShape: [N, F], outputSize: out });
  const rng = new Rng(seed);
  const params = model.init(rng.split('init'));
  for (const s of model.specs) if (s.name.endsWith('.bias')) {
    params[s.name].dispose();
    params[s.name] = tf.tensor(rng.split(s.name).normalArray(s.shape[0], 0.3), s.shape);
  }
  const x = sets(rng.split('x'), batch);
  const y = lossTargets(loss, rng.split('y'), batch, out);
  return { model, params, x, y, dispose: () => (disposeParams(params), tf.dispose([x, y])) };
}

const CONFIGS: Record<string, unknown>[] = [
  { phi: [5, 4], rho: [3], activation: 'tanh' },
  { phi: [5], rho: [], activation: 'softplus', pool: 'mean', mask: 'none' },
  { equivariant: [4], phi: [3], rho: [3], activation: 'tanh', pool: 'mean' },
  { equivariant: [4, 3], phi: [], rho: [3], activation: 'gelu', bias: false },
  { phi: [4, 4], rho: [4], activation: 'tanh', weightChannel: 0 },
  { phi: [4], rho: [3], activation: 'relu', weightChannel: 0, pool: 'mean' },
  { equivariant: [3], phi: [4], rho: [3], activation: 'sigmoid', readout: 'element' },
  { phi: [4], rho: [], activation: 'tanh', readout: 'element', weightChannel: 0, mask: 'none' },
];

describe('deep-sets curvature products on the tape', () => {
  const grid = CONFIGS.flatMap((o) => LOSSES.filter((l) => !(o.readout === 'element' && l === 'binary-cross-entropy')).map((loss) => ({ o, loss })));
  it.each(grid.map((c, i) => [`${JSON.stringify(c.o)} ${c.loss}`, c, i] as const))('%s: blocks of 5 match hvp / ggnProduct', (_, c, i) => {
    const r = checkBlocks(() => setting(c.o, c.loss, 60 + i), c.loss, 5, 11 + i);
    expect(r.leaked).toBe(0);
    expect(Math.max(r.hessian, r.ggn), r.message).toBeLessThan(TOL);
  });

  it('the exact Hessian from blocks equals the one from single products (energy flow, equivariant layer, padding)', async () => {
    const s = setting({ equivariant: [3], phi: [3], rho: [2], activation: 'tanh', weightChannel: 0, pool: 'mean' }, 'softmax-cross-entropy', 7);
    const r = await denseFromBlocksDifference(s.model, s.params, s.x, s.y, 'softmax-cross-entropy');
    expect(r.blockSize).toBeGreaterThan(1);
    expect(r.difference, `largest difference ${r.difference.toExponential(2)} of the largest entry`).toBeLessThan(TOL);
    s.dispose();
  });
});
