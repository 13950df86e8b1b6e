import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOSSES, Rng, disposeParams } from '@goldstone/core';
import type { LossName } from '@goldstone/plugin-api';
import { createEmbeddingDecoder, embeddingDecoderOptions } from './embedding-decoder';
import { checkBlocks, denseFromBlocksDifference, lossTargets } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Largest difference measured over the grid below: 1.3e-7 (Hessian), 6.1e-7 (GGN) of the column norm (float32 round-off).
const TOL = 1e-5;
const NODES = 5;

function setting(options: Record<string, unknown>, oneHot: boolean, loss: LossName, seed: number, batch = 8) {
  const out = loss === 'binary-cross-entropy' ? 1 : 3;
  const model = createEmbeddingDecoder(embeddingDecoderOptions.parse({ init: 'normal', initScale: 0.5, ...(oneHot ? {} : { nodes: NODES }), ...options }), {
    inputShape: oneHot ? [2, NODES] : [2],
    outputSize: out,
  });
  const rng = new Rng(seed);
  const params = model.init(rng.split('init'));
  for (const s of model.specs) if (s.name.endsWith('.bias')) {
    params[s.name].dispose();
    params[s.name] = tf.tensor(rng.split(s.name).normalArray(s.shape[0], 0.3), s.shape);
  }
  // pairs with repeats (the scatter-add sums several examples into one embedding row)
  const pairs = Array.from({ length: batch * 2 }, () => rng.int(NODES));
  const x = oneHot ? tf.tidy(() => tf.cast(tf.reshape(tf.oneHot(tf.tensor1d(pairs, 'int32'), NODES), [batch, 2, NODES]), 'float32')) : tf.tensor2d(pairs, [batch, 2]);
  const y = lossTargets(loss, rng.split('y'), batch, out);
  return { model, params, x, y, dispose: () => (disposeParams(params), tf.dispose([x, y])) };
}

describe('embedding-decoder curvature products on the tape', () => {
  const grid = (['concat', 'sum', 'product'] as const).flatMap((combine) =>
    [false, true].flatMap((oneHot) => LOSSES.map((loss) => ({ combine, oneHot, loss, activation: combine === 'product' ? 'softplus' : 'tanh' }))),
  );
  it.each(grid.map((c, i) => [`${c.combine} ${c.oneHot ? 'one-hot' : 'indices'} ${c.activation} ${c.loss}`, c, i] as const))('%s: blocks of 5 match hvp / ggnProduct', (_, c, i) => {
    const r = checkBlocks(() => setting({ dim: 3, hidden: [4, 3], combine: c.combine, activation: c.activation }, c.oneHot, c.loss, 100 + i), c.loss, 5, 17 + i);
    expect(r.leaked).toBe(0);
    expect(Math.max(r.hessian, r.ggn), r.message).toBeLessThan(TOL);
  });

  it('the exact Hessian from blocks equals the one from single products (product combine, index inputs)', async () => {
    const s = setting({ dim: 2, hidden: [3], combine: 'product', activation: 'tanh' }, false, 'softmax-cross-entropy', 4);
    const r = await denseFromBlocksDifference(s.model, s.params, s.x, s.y, 'softmax-cross-entropy');
    expect(r.blockSize).toBeGreaterThan(1);
    expect(r.difference, `largest difference ${r.difference.toExponential(2)} of the largest entry`).toBeLessThan(TOL);
    s.dispose();
  });
});
