import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOSSES, Rng, disposeParams } from '@goldstone/core';
import type { LossName } from '@goldstone/plugin-api';
import { blockMlpOptions, createBlockMlp } from './block-mlp';
import { blockOnOtherSize, checkBlocks, denseFromBlocksDifference, lossTargets } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Largest difference measured over the grid below: 4.6e-7 (Hessian and GGN) of the column norm (float32 round-off).
const TOL = 1e-5;
const SITES = 8;

function setting(options: Record<string, unknown>, loss: LossName, seed: number, batch = 6) {
  // binary cross-entropy takes one logit per example: a free or tied map with one output
  const out = loss === 'binary-cross-entropy' ? 1 : options.shared ? 8 : 3;
  const model = createBlockMlp(blockMlpOptions.parse({ init: 'normal', initScale: 0.5, ...options }), { inputShape: [SITES], outputSize: out });
  const rng = new Rng(seed);
  const params = model.init(rng.split('init'));
  // biases away from zero (they start at zero)
  for (const s of model.specs) if (s.name.endsWith('.bias')) {
    params[s.name].dispose();
    params[s.name] = tf.tensor(rng.split(s.name).normalArray(s.shape[0], 0.3), s.shape);
  }
  const x = tf.tensor2d(rng.split('x').normalArray(batch * SITES), [batch, SITES]);
  const y = lossTargets(loss, rng.split('y'), batch, out);
  return { model, params, x, y, dispose: () => (disposeParams(params), tf.dispose([x, y])) };
}

const STRUCTURES: Record<string, unknown>[] = [
  { hidden: [4], activation: 'tanh' },
  { hidden: [4], activation: 'softplus', block: 2, tied: true },
  { hidden: [4, 3], activation: 'tanh', block: 2, shared: true },
  { hidden: [3], activation: 'gelu', block: 2, tied: true, shared: true },
  { hidden: [4], activation: 'relu', sign: 'nonnegative' },
  { hidden: [4], activation: 'tanh', scale: 'unit-norm' },
  { hidden: [4], activation: 'sigmoid', block: 2, tied: true, sign: 'nonnegative', scale: 'unit-norm' },
  { hidden: [4], activation: 'quadratic', alpha: 'learned', alphaInit: 0.3, block: 2, shared: true },
  { hidden: [4], activation: 'quadratic', alpha: 0.5, bias: false },
  { hidden: [], activation: 'identity', block: 2, tied: true, shared: true },
];

describe('block-mlp curvature products on the tape', () => {
  const grid = STRUCTURES.flatMap((o) => LOSSES.filter((l) => !(o.shared && l === 'binary-cross-entropy')).map((loss) => ({ o, loss })));
  it.each(grid.map((c, i) => [`${JSON.stringify(c.o)} ${c.loss}`, c, i] as const))('%s: blocks of 5 match hvp / ggnProduct', (_, c, i) => {
    const r = checkBlocks(() => setting(c.o, c.loss, 40 + i), c.loss, 5, 9 + i);
    expect(r.leaked).toBe(0);
    expect(Math.max(r.hessian, r.ggn), r.message).toBeLessThan(TOL);
  });

  it('the exact Hessian from blocks equals the one from single products (tied, nonnegative, unit-norm)', async () => {
    const s = setting({ hidden: [3], activation: 'tanh', block: 2, tied: true, sign: 'nonnegative', scale: 'unit-norm' }, 'mse', 3);
    const r = await denseFromBlocksDifference(s.model, s.params, s.x, s.y, 'mse');
    expect(r.blockSize).toBeGreaterThan(1);
    expect(r.difference, `largest difference ${r.difference.toExponential(2)} of the largest entry`).toBeLessThan(TOL);
    s.dispose();
  });

  it('shared maps take inputs of other sizes (a multiple of the block)', () => {
    const s = setting({ hidden: [3], activation: 'tanh', block: 2, shared: true }, 'mse', 4);
    const worst = blockOnOtherSize(s, 5, 12, 1);
    expect(worst, `largest relative difference ${worst.toExponential(2)}`).toBeLessThan(TOL);
    s.dispose();
  });
});
