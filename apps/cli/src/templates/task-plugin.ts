import type { PluginNames } from './names';

/**
 * The task a new task package starts from: a small synthetic regression with a known exact
 * answer (the displacement of a damped oscillator), train and test splits from one distribution
 * and an out-of-distribution split of faster oscillators.
 */
export function taskSource({ plugin, identifier }: PluginNames): { index: string; test: string } {
  const index = `import { API_VERSION, defineTask, z, type Rng, type Split } from '@goldstone/plugin-api';
import { scoreTensors } from '@goldstone/core';

const options = z.strictObject({
  trainSize: z.number().int().min(1).max(10_000_000).default(512).describe('training examples'),
  testSize: z.number().int().min(1).max(10_000_000).default(256).describe('examples of the test split and of the out-of-distribution split'),
  damping: z.number().min(0).max(10).default(0.3).describe('γ in x(t) = exp(−γt)·cos(ωt)'),
  noise: z.number().min(0).default(0).describe('standard deviation of Gaussian noise on the training targets'),
});

/** The exact answer: displacement at time t of a damped oscillator of frequency ω released from rest at x = 1 (γ ≪ ω). */
export function displacement(t: number, omega: number, damping: number): number {
  return Math.exp(-damping * t) * Math.cos(omega * t);
}

/** n examples: inputs (t, ω), t uniform in [0, 2π], ω uniform in [lo, hi]; target x(t) (+ noise). */
function makeSplit(n: number, [lo, hi]: [number, number], damping: number, noise: number, rng: Rng): Split {
  const x = new Float32Array(2 * n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = 2 * Math.PI * rng.uniform();
    const omega = lo + (hi - lo) * rng.uniform();
    x[2 * i] = t;
    x[2 * i + 1] = omega;
    y[i] = displacement(t, omega, damping) + noise * rng.normal();
  }
  return { n, x, y, xShape: [2], yShape: [1] };
}

/** A damped oscillator: predict the displacement from time and frequency; out of distribution, faster oscillators. */
export const ${identifier} = defineTask({
  name: '${plugin}',
  apiVersion: API_VERSION,
  description: 'Displacement of a damped oscillator from (t, ω); out of distribution: faster oscillators',
  options,
  // What create allocates, from the options alone (3 float32 per example in three splits):
  // checked before anything is built, so an impossible size is exit 2 naming the option.
  estimate: (o) => ({
    bytes: 4 * 3 * (o.trainSize + 2 * o.testSize),
    largestArray: 2 * Math.max(o.trainSize, o.testSize),
    field: o.trainSize >= o.testSize ? 'trainSize' : 'testSize',
  }),
  create(o, { rng }) {
    const train: [number, number] = [1, 2];
    const ood: [number, number] = [2, 3];
    return {
      inputShape: [2],
      outputSize: 1,
      outputKind: 'regression',
      loss: 'mse',
      splits: {
        // Each split draws from its own stream: the same seed gives the same data, split by split.
        train: makeSplit(o.trainSize, train, o.damping, o.noise, rng.split('train')),
        test: makeSplit(o.testSize, train, o.damping, 0, rng.split('test')),
        'ood-fast': makeSplit(o.testSize, ood, o.damping, 0, rng.split('ood-fast')),
      },
      metrics: (pred, y) => scoreTensors('regression', pred, y),
      // Recorded in run.json: what the exact answer is.
      info: { exact: 'x(t) = exp(-damping·t)·cos(ω·t)', damping: o.damping, omegaTrain: train, omegaOod: ood },
    };
  },
});
`;

  const test = `import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { testPlugin } from '@goldstone/testkit';
import { displacement, ${identifier} } from '../src/index';

// The conformance suite every goldstone plugin passes: kind, name and API version; the options
// schema; same seed → same splits; split shapes and finite values; metrics; the size estimate.
testPlugin(${identifier}, { options: { trainSize: 64, testSize: 32 }, badOptions: { trainSize: 0 } });

describe('${plugin}', () => {
  it('targets are the exact displacement, and the out-of-distribution split oscillates faster', async () => {
    const task = await ${identifier}.create(${identifier}.options.parse({ trainSize: 50, testSize: 40 }), { rng: new Rng(3) });
    expect(Object.keys(task.splits)).toEqual(['train', 'test', 'ood-fast']);
    for (const [name, split] of Object.entries(task.splits)) {
      for (let i = 0; i < split.n; i++) {
        const [t, omega] = [split.x[2 * i], split.x[2 * i + 1]];
        expect(split.y[i]).toBeCloseTo(displacement(t, omega, 0.3), 5);
        expect(omega).toBeGreaterThanOrEqual(name === 'ood-fast' ? 2 : 1);
        expect(omega).toBeLessThanOrEqual(name === 'ood-fast' ? 3 : 2);
      }
    }
  });
});
`;
  return { index, test };
}
