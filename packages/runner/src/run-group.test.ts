import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeParams, paramsToArray } from '@goldstone/core';
import { z } from 'zod';
import { API_VERSION, defineAnalysis, Registry, UsageError, type Json } from '@goldstone/plugin-api';
import { RunStore } from '@goldstone/run-store';
import { blockMlp, mlp } from '@goldstone/models';
import { clt } from '@goldstone/task-clt';
import { hessian } from '@goldstone/analysis-hessian';
import { parseExperiment } from './experiment';
import { prepareExperiment } from './preflight';
import { resolveExperiment } from './resolve';
import { runExperiment } from './run-experiment';
import { replicaDifferences, replicaIssue, runExperimentGroup } from './run-group';

const registry = new Registry();
for (const p of [clt, mlp, blockMlp, hessian]) registry.add(p, { package: 'test', version: '0.0.0' });

function experiment(seed: number, lr: number, changes: { model?: Record<string, unknown>; batchSize?: number } = {}) {
  return parseExperiment({
    seed,
    task: { name: 'clt', options: { sites: 8, block: 2, trainSize: 150, testSize: 60, oodSize: 40, ood: ['gaussian'] } },
    model: changes.model ?? { name: 'mlp', options: { hidden: [6], activation: 'tanh' } },
    train: { optimizer: 'adam', lr, epochs: 3, batchSize: changes.batchSize ?? 32, logEvery: 2, checkpointEvery: 2 },
    analyses: [{ name: 'hessian', options: { method: 'exact', maxExamples: 60 } }],
  });
}

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'goldstone-group-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** What a run directory holds, timings and dates aside: run.json, metrics rows, every checkpoint, analyses. */
async function contents(dir: string): Promise<Record<string, unknown>> {
  const store = await RunStore.create(dir, { resume: true });
  const run = Object.fromEntries(Object.entries(await store.readRun()).filter(([k]) => !k.endsWith('At')));
  const metrics = (await store.readMetrics()).map(({ time: _t, ...row }) => row);
  const checkpoints: Record<string, unknown> = {};
  for (const tag of await store.listCheckpoints()) {
    const c = await store.loadCheckpoint(tag);
    checkpoints[tag] = { params: Array.from(paramsToArray(c.params, c.specs)), meta: c.meta, state: c.optimizerState?.map((e) => ({ ...e, values: Array.from(e.values) })) ?? null };
    disposeParams(c.params);
  }
  const analyses = JSON.parse(JSON.stringify(await store.readAnalyses()), (k, v: unknown) => (k === 'seconds' || k === 'durationMs' || k === 'elapsed' ? 0 : v)) as Json;
  return { run, metrics, checkpoints, analyses, files: (await readdir(dir)).sort() };
}

/** Largest |a − b| over two JSON-like values (anything but numbers must be equal). */
function largest(a: unknown, b: unknown, at = ''): number {
  if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b)) ? 0 : Math.abs(a - b);
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) return a.reduce((m: number, x, i) => Math.max(m, largest(x, b[i], `${at}[${i}]`)), 0);
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    expect(Object.keys(a).sort(), at).toEqual(Object.keys(b).sort());
    return Object.keys(a).reduce((m, k) => Math.max(m, largest((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`)), 0);
  }
  expect(a, at).toEqual(b);
  return 0;
}

describe('runExperimentGroup', () => {
  it('writes each run directory as runExperiment does, trained as one vectorised group', async () => {
    const settings: [number, number][] = [[1, 0.01], [2, 0.01], [3, 0.03]];
    for (const [i, [seed, lr]] of settings.entries()) {
      const store = await RunStore.create(join(root, `alone-${i}`));
      const outcome = await runExperiment({ resolved: resolveExperiment(experiment(seed, lr), registry), store, backend: 'cpu' });
      expect(outcome.status).toBe('completed');
    }
    const members = [];
    for (const [i, [seed, lr]] of settings.entries()) {
      members.push({ prepared: await prepareExperiment(resolveExperiment(experiment(seed, lr), registry)), store: await RunStore.create(join(root, `group-${i}`)) });
    }
    const heard: number[] = [];
    const before = tf.memory().numTensors;
    const results = await runExperimentGroup({ members, backend: 'cpu', onSettled: (i) => void heard.push(i) });
    expect(tf.memory().numTensors).toBe(before);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value.status : String(r.reason)))).toEqual(['completed', 'completed', 'completed']);
    // analyses ran one run after another, in order
    expect(heard).toEqual([0, 1, 2]);
    let diff = 0;
    for (let i = 0; i < settings.length; i++) diff = Math.max(diff, largest(await contents(join(root, `group-${i}`)), await contents(join(root, `alone-${i}`))));
    // largest |difference| over run.json, every metrics row, every checkpoint (params and optimiser
    // state) and the Hessian analysis: 0 on cpu when measured (bit-identical)
    expect(diff).toBeLessThan(1e-5);
  }, 300_000);

  it('refuses, before writing anything, runs that cannot be stacked or differ beyond seed and lr', async () => {
    const block = { name: 'mlp', options: { hidden: [6], block: 2, tied: true } };
    const cases: [ReturnType<typeof experiment>[], RegExp][] = [
      [[experiment(1, 0.01, { model: block }), experiment(2, 0.01, { model: block })], /the model "mlp" \(.*\) has no applyReplicas: only a plain mlp/],
      [[experiment(1, 0.01), experiment(2, 0.01, { batchSize: 16 })], /may differ only in seed and train\.lr, this one differs from .* in train\.batchSize/],
    ];
    for (const [k, [exps, message]] of cases.entries()) {
      const members = [];
      for (const [i, e] of exps.entries()) members.push({ prepared: await prepareExperiment(resolveExperiment(e, registry)), store: await RunStore.create(join(root, `refused-${k}-${i}`)) });
      const err = await runExperimentGroup({ members, backend: 'cpu' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(message);
      for (const m of members) {
        expect((await m.store.readRun()).config).toBeUndefined();
        expect(existsSync(join(m.store.dir, 'checkpoints', 'init'))).toBe(false);
      }
    }
    expect(replicaDifferences(resolveExperiment(experiment(1, 0.01), registry), resolveExperiment(experiment(5, 0.2), registry))).toEqual([]);
    expect(replicaIssue(resolveExperiment(experiment(1, 0.01), registry))).toBeUndefined();
    // an analysis that records during training keeps its runs apart
    const hooked = defineAnalysis({ name: 'hooked', apiVersion: API_VERSION, options: z.object({}), trainHooks: () => ({}), run: async () => ({ result: {}, provenance: {} }) as never });
    const withHooks = new Registry();
    for (const p of [clt, mlp, hooked]) withHooks.add(p, { package: 'test', version: '0.0.0' });
    const exp = experiment(1, 0.01);
    exp.analyses = [{ ...exp.analyses[0], name: 'hooked', options: {} }];
    expect(replicaIssue(resolveExperiment(exp, withHooks))).toMatch(/analyses "hooked" record during training \(train hooks\)/);
  }, 120_000);
});
