import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Rng } from '@goldstone/core';
import { API_VERSION, defineTask, Registry, UsageError, type InputSymmetry } from '@goldstone/plugin-api';
import { RunStore } from '@goldstone/run-store';
import { toyMlp } from '@goldstone/testkit';
import { parseExperiment } from './experiment';
import { resolveExperiment, runExperiment } from './run-experiment';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Rotation of 2-D inputs by one random angle; generator G·x = (−x₂, x₁). */
const rotation: InputSymmetry = {
  name: 'rotation',
  sample(x, rng) {
    const a = 2 * Math.PI * rng.uniform();
    return tf.tidy(() => tf.matMul(x as tf.Tensor2D, tf.tensor2d([Math.cos(a), Math.sin(a), -Math.sin(a), Math.cos(a)], [2, 2])));
  },
  generator: (x) => tf.tidy(() => tf.matMul(x as tf.Tensor2D, tf.tensor2d([0, 1, -1, 0], [2, 2]))),
};

describe('train.symmetryPenalty in experiments', () => {
  const task = (withSymmetries: boolean) =>
    defineTask({
      name: withSymmetries ? 'disc' : 'plain',
      apiVersion: API_VERSION,
      options: z.object({}),
      create: () => {
        const r = new Rng(1);
        const x = r.normalArray(40);
        const y = new Float32Array(20);
        for (let i = 0; i < 20; i++) y[i] = Math.hypot(x[2 * i], x[2 * i + 1]);
        const split = { n: 20, x, y, xShape: [2], yShape: [1] };
        return {
          inputShape: [2],
          outputSize: 1,
          outputKind: 'regression' as const,
          loss: 'mse' as const,
          splits: { train: split, test: split },
          metrics: () => ({}),
          ...(withSymmetries ? { symmetries: [rotation] } : {}),
        };
      },
    });
  const registry = new Registry();
  registry.add(task(true), { package: 'test', version: '0.0.0' });
  registry.add(task(false), { package: 'test', version: '0.0.0' });
  registry.add(toyMlp, { package: 'test', version: '0.0.0' });

  it('validates the field and trains with the penalty; a task without symmetries is a UsageError naming the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'goldstone-sympen-'));
    try {
      const raw = {
        task: { name: 'disc' },
        model: { name: 'toy-mlp', options: { hidden: 4 } },
        train: { epochs: 2, batchSize: 10, symmetryPenalty: { form: 'generator', lambda: 0.5, schedule: { kind: 'step', every: 1, gamma: 0.5 } } },
      };
      expect(() => parseExperiment({ ...raw, train: { symmetryPenalty: { form: 'exact', lambda: 1 } } })).toThrow(/train\.symmetryPenalty\.form/);
      const exp = parseExperiment(raw);
      expect(exp.train.symmetryPenalty).toEqual({ form: 'generator', lambda: 0.5, schedule: { kind: 'step', every: 1, gamma: 0.5 } });
      const store = await RunStore.create(join(dir, 'a'));
      const outcome = await runExperiment({ resolved: resolveExperiment(exp, registry), store, backend: 'cpu', skipAnalyses: true });
      expect(outcome.status).toBe('completed');

      const plain = parseExperiment({ ...raw, task: { name: 'plain' } });
      const store2 = await RunStore.create(join(dir, 'b'));
      const err = await runExperiment({ resolved: resolveExperiment(plain, registry), store: store2, backend: 'cpu', skipAnalyses: true }).catch((e) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).field).toBe('train.symmetryPenalty');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
