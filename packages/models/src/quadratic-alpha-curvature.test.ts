import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOSSES, Rng, disposeParams } from '@goldstone/core';
import type { LossName } from '@goldstone/plugin-api';
import { createMlp, mlpOptions } from './mlp';
import { checkBlocks, denseFromBlocksDifference, lossTargets } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Largest difference measured over the grid below: 1.2e-7 (Hessian and GGN) of the column norm (float32 round-off).
const TOL = 1e-5;

function setting(options: Record<string, unknown>, loss: LossName, seed: number, batch = 7) {
  const out = loss === 'binary-cross-entropy' ? 1 : 3;
  const model = createMlp(mlpOptions.parse({ activation: 'quadratic', init: 'normal', initScale: 0.4, ...options }), { inputShape: [4], outputSize: out });
  const rng = new Rng(seed);
  const params = model.init(rng.split('init'));
  const x = tf.tensor2d(rng.split('x').normalArray(batch * 4), [batch, 4]);
  const y = lossTargets(loss, rng.split('y'), batch, out);
  return { model, params, x, y, dispose: () => (disposeParams(params), tf.dispose([x, y])) };
}

describe('quadratic-alpha mlp (z + αz²) curvature products on the tape', () => {
  const grid = LOSSES.flatMap((loss) => [0.5, 'learned' as const].flatMap((alpha) => [[5], [5, 4]].map((hidden) => ({ loss, alpha, hidden }))));
  it.each(grid.map((c, i) => [`α ${c.alpha} ${c.hidden.join('-')} ${c.loss}`, c, i] as const))('%s: blocks of 6 match hvp / ggnProduct', (_, c, i) => {
    const r = checkBlocks(() => setting({ hidden: c.hidden, alpha: c.alpha, ...(c.alpha === 'learned' ? { alphaInit: 0.3 } : {}) }, c.loss, 20 + i), c.loss, 6, 3 + i);
    expect(r.leaked).toBe(0);
    expect(Math.max(r.hessian, r.ggn), r.message).toBeLessThan(TOL);
  });

  it('the exact Hessian from blocks equals the one from single products (learned α, its second-order terms included)', async () => {
    const s = setting({ hidden: [4, 3], alpha: 'learned', alphaInit: 0.3 }, 'softmax-cross-entropy', 5);
    const r = await denseFromBlocksDifference(s.model, s.params, s.x, s.y, 'softmax-cross-entropy');
    expect(r.blockSize).toBeGreaterThan(1);
    expect(r.difference, `largest difference ${r.difference.toExponential(2)} of the largest entry`).toBeLessThan(TOL);
    s.dispose();
  });
});
