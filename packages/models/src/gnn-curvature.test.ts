import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOSSES, Rng, disposeParams } from '@goldstone/core';
import type { LossName } from '@goldstone/plugin-api';
import { createGnn, gnnOptions } from './gnn';
import { blockOnOtherSize, checkBlocks, denseFromBlocksDifference, lossTargets } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Largest difference measured over the grid below: 1.4e-6 (Hessian), 4.9e-6 (GGN) of the column norm (float32 round-off).
const TOL = 1e-5;

interface Case {
  o: Record<string, unknown>;
  inputShape: number[];
  /** Readout units (1 graph, N nodes, blocks). */
  units: number;
}

function setting(c: Case, loss: LossName, seed: number, batch = 5) {
  const out = (loss === 'binary-cross-entropy' ? 1 : 2) * c.units;
  const model = createGnn(gnnOptions.parse({ init: 'normal', initScale: 0.5, ...c.o }), { inputShape: c.inputShape, outputSize: out });
  const rng = new Rng(seed);
  const params = model.init(rng.split('init'));
  // biases and ε away from zero (they start at zero)
  for (const s of model.specs) if (s.name.endsWith('.bias') || s.name.endsWith('.eps')) {
    params[s.name].dispose();
    params[s.name] = tf.tensor(rng.split(s.name).normalArray(s.shape[0], 0.3), s.shape);
  }
  const size = c.inputShape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(rng.split('x').normalArray(batch * size), [batch, ...c.inputShape]);
  const y = lossTargets(loss, rng.split('y'), batch, out);
  return { model, params, x, y, dispose: () => (disposeParams(params), tf.dispose([x, y])) };
}

const CASES: Case[] = [
  { o: { layer: 'gcn', hidden: [4, 3], activation: 'tanh' }, inputShape: [6], units: 1 },
  { o: { layer: 'gcn', hidden: [4], activation: 'softplus', skip: true, head: [3], pool: 'sum' }, inputShape: [5, 2], units: 1 },
  { o: { layer: 'gin', hidden: [3, 3], activation: 'tanh', graph: { kind: 'complete', size: 4 } }, inputShape: [4, 2], units: 1 },
  { o: { layer: 'gin', hidden: [3], activation: 'gelu', skip: true, learnEps: false, bias: false }, inputShape: [5], units: 1 },
  { o: { layer: 'gcn', hidden: [3], activation: 'tanh', readout: 'node', graph: { kind: 'lattice-2d', size: 3 } }, inputShape: [9], units: 9 },
  { o: { layer: 'gin', hidden: [3], activation: 'sigmoid', readout: 'node', head: [2] }, inputShape: [6], units: 6 },
  { o: { layer: 'gin', hidden: [3, 2], activation: 'softplus', readout: 'block', block: 2, graph: { kind: 'lattice-1d', size: 8 } }, inputShape: [8], units: 4 },
  { o: { layer: 'gcn', hidden: [3], activation: 'relu', readout: 'block', block: 2, pool: 'sum', messages: 'block', graph: { kind: 'lattice-2d', size: 4 } }, inputShape: [16], units: 4 },
];

describe('gnn curvature products on the tape', () => {
  const grid = CASES.flatMap((c) => LOSSES.filter((l) => !(c.units > 1 && l === 'binary-cross-entropy')).map((loss) => ({ c, loss })));
  it.each(grid.map((g, i) => [`${JSON.stringify(g.c.o)} ${g.loss}`, g, i] as const))('%s: blocks of 5 match hvp / ggnProduct', (_, g, i) => {
    const r = checkBlocks(() => setting(g.c, g.loss, 80 + i), g.loss, 5, 13 + i);
    expect(r.leaked).toBe(0);
    expect(Math.max(r.hessian, r.ggn), r.message).toBeLessThan(TOL);
  });

  it('the exact Hessian from blocks equals the one from single products (GIN, learned ε, skip)', async () => {
    const s = setting({ o: { layer: 'gin', hidden: [3], activation: 'tanh', skip: true }, inputShape: [4], units: 1 }, 'mse', 9);
    const r = await denseFromBlocksDifference(s.model, s.params, s.x, s.y, 'mse');
    expect(r.blockSize).toBeGreaterThan(1);
    expect(r.difference, `largest difference ${r.difference.toExponential(2)} of the largest entry`).toBeLessThan(TOL);
    s.dispose();
  });

  it('a size-agnostic chain takes inputs of other lengths', () => {
    const s = setting({ o: { layer: 'gcn', hidden: [3], activation: 'tanh', readout: 'block', block: 2 }, inputShape: [6], units: 3 }, 'mse', 2);
    const worst = blockOnOtherSize(s, 4, 10, 5);
    expect(worst, `largest relative difference ${worst.toExponential(2)}`).toBeLessThan(TOL);
    s.dispose();
  });
});
