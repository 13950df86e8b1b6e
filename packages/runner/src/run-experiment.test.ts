import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Rng } from '@goldstone/core';
import { API_VERSION, defineAnalysis, defineTask, Registry, UsageError, type InputSymmetry } from '@goldstone/plugin-api';
import { RunStore } from '@goldstone/run-store';
import { toyMlp } from '@goldstone/testkit';
import { parseExperiment } from './experiment';
import { runExperiment } from './run-experiment';
import { analysisIds, resolveExperiment } from './resolve';

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

      // analyses see the objective that was trained: data + λ·violation (final λ) + weight decay
      const seen = defineAnalysis({
        name: 'objective-probe',
        apiVersion: API_VERSION,
        options: z.object({}),
        run: async (ctx) => {
          const s = ctx.task.splits.train;
          const [data, total] = tf.tidy(() => {
            const x = tf.tensor(s.x, [s.n, ...s.xShape]);
            const y = tf.tensor(s.y, [s.n, ...s.yShape]);
            return [ctx.loss(ctx.params, x, y).dataSync()[0], ctx.objective.total(ctx.params, x, y).dataSync()[0]];
          });
          return { result: { data, total, penalised: ctx.objective.penalised, terms: ctx.objective.terms }, provenance: { analysis: 'objective-probe', seed: ctx.seed, backend: ctx.backend } };
        },
      });
      const withProbe = new Registry();
      withProbe.add(task(true), { package: 'test', version: '0.0.0' });
      withProbe.add(toyMlp, { package: 'test', version: '0.0.0' });
      withProbe.add(seen, { package: 'test', version: '0.0.0' });
      const probed = parseExperiment({ ...raw, train: { ...raw.train, weightDecay: 0.01 }, analyses: [{ name: 'objective-probe' }] });
      const store3 = await RunStore.create(join(dir, 'c'));
      const o3 = await runExperiment({ resolved: resolveExperiment(probed, withProbe), store: store3, backend: 'cpu' });
      const r = o3.analyses['objective-probe'].result as any;
      expect(r.penalised).toBe(true);
      expect(r.terms.symmetryPenalty).toMatchObject({ form: 'generator', symmetry: 'rotation', lambda: 0.125 }); // 0.5 · 0.5², the λ of the last update
      expect(r.terms.weightDecay.values).toBeDefined();
      expect(r.total).toBeGreaterThan(r.data);

      const plain = parseExperiment({ ...raw, task: { name: 'plain' } });
      const store2 = await RunStore.create(join(dir, 'b'));
      const err = await runExperiment({ resolved: resolveExperiment(plain, registry), store: store2, backend: 'cpu', skipAnalyses: true }).catch((e) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).field).toBe('train.symmetryPenalty');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  it('stores a declared headline, and drops one that breaks the contract with a warning naming the problem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'goldstone-headline-'));
    try {
      const declaring = (name: string, headline: unknown) =>
        defineAnalysis({
          name,
          apiVersion: API_VERSION,
          options: z.object({}),
          run: async (ctx) => ({ result: { x: 1 }, headline: headline as never, provenance: { analysis: name, seed: ctx.seed, backend: ctx.backend } }),
        });
      const reg = new Registry();
      reg.add(task(false), { package: 'test', version: '0.0.0' });
      reg.add(toyMlp, { package: 'test', version: '0.0.0' });
      const good = [{ key: 'x', label: 'the x', value: 1, exact: true }];
      reg.add(declaring('good', good), { package: 'test', version: '0.0.0' });
      reg.add(declaring('bad', [{ key: 'x', label: 'the x', value: 1 }]), { package: 'test', version: '0.0.0' });
      const exp = parseExperiment({ task: { name: 'plain' }, model: { name: 'toy-mlp', options: { hidden: 2 } }, train: { epochs: 1, batchSize: 10 }, analyses: [{ name: 'good' }, { name: 'bad' }] });
      const logged: string[] = [];
      const progress = { start: () => {}, tick: () => {}, stop: () => {}, log: (m: string) => logged.push(m) } as never;
      const store = await RunStore.create(join(dir, 'run'));
      const out = await runExperiment({ resolved: resolveExperiment(exp, reg), store, backend: 'cpu', progress });
      expect(out.analyses.good.headline).toEqual(good);
      expect(out.analyses.bad.headline).toBeUndefined();
      expect(out.analyses.bad.result).toEqual({ x: 1 });
      const stored = await store.readAnalyses();
      expect(stored.good.headline).toEqual(good);
      expect('headline' in stored.bad).toBe(false);
      expect(logged.join('\n')).toContain('warning: analysis "bad" declared a headline that breaks the contract, so it is not stored: [0] (x): give exactly one of stderr, interval (with level) or exact: true, got none');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('analysis result ids', () => {
  it('gives each listed analysis its own id: explicit ids, else the name, then name-2, name-3', () => {
    expect(analysisIds([{ name: 'hessian' }, { name: 'robustness' }])).toEqual(['hessian', 'robustness']);
    expect(analysisIds([{ name: 'hessian' }, { name: 'hessian' }, { name: 'hessian' }])).toEqual(['hessian', 'hessian-2', 'hessian-3']);
    // an explicit id is never taken by a generated one
    expect(analysisIds([{ name: 'hessian' }, { name: 'hessian', id: 'hessian' }, { name: 'x', id: 'hessian-2' }])).toEqual(['hessian-3', 'hessian', 'hessian-2']);
  });

  it('refuses two analyses with the same explicit id, naming the file and field', () => {
    const err = (() => {
      try {
        analysisIds([{ name: 'hessian', id: 'h' }, { name: 'robustness', id: 'h' }], 'exp.yaml');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toBe('exp.yaml: analyses[1].id: "h" is the id of an earlier analysis; ids must be unique');
    expect((err as UsageError).field).toBe('analyses[1].id');
  });

  it('stores the same analysis listed twice as two results, and records the ids in run.json', async () => {
    const registry = new Registry();
    registry.add(toyMlp, { package: 'test', version: '0.0.0' });
    registry.add(
      defineTask({
        name: 'line',
        apiVersion: API_VERSION,
        options: z.object({}),
        create: () => {
          const split = { n: 8, x: new Float32Array(16).map((_, i) => i / 16), y: new Float32Array(8).map((_, i) => i / 8), xShape: [2], yShape: [1] };
          return { inputShape: [2], outputSize: 1, outputKind: 'regression' as const, loss: 'mse' as const, splits: { train: split, test: split }, metrics: () => ({}) };
        },
      }),
      { package: 'test', version: '0.0.0' },
    );
    registry.add(
      defineAnalysis({
        name: 'split-loss',
        apiVersion: API_VERSION,
        options: z.object({ split: z.string().default('train') }),
        run: async (ctx, o) => {
          const s = ctx.task.splits[o.split];
          const value = tf.tidy(() => ctx.loss(ctx.params, tf.tensor(s.x, [s.n, ...s.xShape]), tf.tensor(s.y, [s.n, ...s.yShape])).dataSync()[0]);
          return { result: { split: o.split, value }, provenance: { analysis: 'split-loss', seed: ctx.seed, backend: ctx.backend } };
        },
      }),
      { package: 'test', version: '0.0.0' },
    );
    const dir = await mkdtemp(join(tmpdir(), 'goldstone-ids-'));
    try {
      const exp = parseExperiment({
        task: { name: 'line' },
        model: { name: 'toy-mlp', options: { hidden: 3 } },
        train: { epochs: 1, batchSize: 4 },
        analyses: [{ name: 'split-loss' }, { name: 'split-loss', options: { split: 'test' } }, { name: 'split-loss', id: 'again' }],
      });
      const store = await RunStore.create(join(dir, 'run'));
      const outcome = await runExperiment({ resolved: resolveExperiment(exp, registry), store, backend: 'cpu' });
      expect(outcome.status).toBe('completed');
      const stored = await store.readAnalyses();
      expect(Object.keys(stored).sort()).toEqual(['again', 'split-loss', 'split-loss-2']);
      expect((stored['split-loss-2'].result as { split: string }).split).toBe('test');
      const run = (await store.readRun()) as { config: { analyses: { id: string }[] } };
      expect(run.config.analyses.map((a) => a.id)).toEqual(['split-loss', 'split-loss-2', 'again']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

});
