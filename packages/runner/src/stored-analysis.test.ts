/**
 * Analyses of a stored run: every stored result records the parameters it was measured at (a
 * fingerprint), so a later analysis can tell whether an earlier result is of the same parameters;
 * and `analyzeStoredRun` starts from the options the run recorded, with `set` on top.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Rng } from '@goldstone/core';
import { API_VERSION, defineTask, Registry } from '@goldstone/plugin-api';
import { RunStore } from '@goldstone/run-store';
import { toyMlp } from '@goldstone/testkit';
import { hessian } from '@goldstone/analysis-hessian';
import { robustness } from '@goldstone/analysis-robustness';
import { parseExperiment } from './experiment';
import { analyzeStoredRun, runExperiment } from './run-experiment';
import { resolveExperiment } from './resolve';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const task = defineTask({
  name: 'plain',
  apiVersion: API_VERSION,
  options: z.object({}),
  create: () => {
    const r = new Rng(1);
    const x = r.normalArray(60);
    const y = new Float32Array(30);
    for (let i = 0; i < 30; i++) y[i] = Math.hypot(x[2 * i], x[2 * i + 1]);
    const split = { n: 30, x, y, xShape: [2], yShape: [1] };
    return { inputShape: [2], outputSize: 1, outputKind: 'regression' as const, loss: 'mse' as const, splits: { train: split, test: split }, metrics: () => ({}) };
  },
});
const registry = new Registry();
for (const p of [task, toyMlp, hessian, robustness]) registry.add(p, { package: 'test', version: '0.0.0' });

const experiment = (analyses: unknown[]) =>
  parseExperiment({
    name: 'stored',
    seed: 2,
    task: { name: 'plain' },
    model: { name: 'toy-mlp', options: { hidden: 3 } },
    train: { optimizer: 'adam', lr: 0.05, epochs: 3, batchSize: 10 },
    analyses,
  });
const WEIGHT_NOISE = { sections: ['weight-noise'], weightSigmas: [0.01], weightDraws: 2, traceProbes: 4 };

describe('the parameters a stored result was measured at', () => {
  it('weight noise reuses the trace of a hessian on the same parameters and data, in the run and on the stored run, and no other', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'goldstone-stored-'));
    try {
      const exp = experiment([{ name: 'hessian', options: { method: 'exact', bottomK: 0 } }, { name: 'robustness', options: WEIGHT_NOISE }]);
      const store = await RunStore.create(dir);
      const outcome = await runExperiment({ resolved: resolveExperiment(exp, registry), store, backend: 'cpu' });
      expect(outcome.status).toBe('completed');
      const h = outcome.analyses.hessian;
      expect(h.provenance.parameters).toMatchObject({ source: 'trained', epoch: 3 });
      const trace = (outcome.analyses.robustness.result as any).weightNoise.trace;
      expect(trace).toMatchObject({ source: 'hessian-analysis', result: 'hessian', value: (h.result as any).trace.value });

      // on the stored run: the last checkpoint holds the trained parameters (the same fingerprint)
      const again = await analyzeStoredRun({ store, registry, analysis: 'robustness', id: 'robustness-again', backend: 'cpu' });
      expect(again.provenance.parameters).toMatchObject({ source: 'checkpoint last', epoch: 3, fingerprint: (h.provenance.parameters as any).fingerprint });
      expect((again.result as any).weightNoise.trace).toMatchObject({ source: 'hessian-analysis', result: 'hessian' });

      // the Gauss–Newton matrix is another operator: with only it on record, tr H is estimated
      await analyzeStoredRun({ store, registry, analysis: 'hessian', id: 'hessian', set: { operator: 'ggn' }, backend: 'cpu' });
      const ggn = await analyzeStoredRun({ store, registry, analysis: 'robustness', id: 'robustness-ggn', backend: 'cpu' });
      const t = (ggn.result as any).weightNoise.trace;
      expect(t.source).toBe('hutchinson');
      expect(t.reason).toContain('operator "ggn", expected "hessian"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('analyzeStoredRun options', () => {
  it('starts from the recorded options, --set wins key by dotted key, defaults when the run did not have the analysis', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'goldstone-stored-'));
    try {
      const exp = experiment([{ name: 'hessian', options: { method: 'exact', topK: 3, bottomK: 0, maxExamples: 12 } }]);
      const store = await RunStore.create(dir);
      const outcome = await runExperiment({ resolved: resolveExperiment(exp, registry), store, backend: 'cpu' });
      const run = outcome.analyses.hessian.result as any;
      expect(run.topEigenvalues).toHaveLength(3);
      expect(run.examples).toBe(12);

      // the same id, so the same random streams (the subset of 12 of 30 examples) as in the run
      const same = await analyzeStoredRun({ store, registry, analysis: 'hessian', backend: 'cpu' });
      expect((same.result as any).topEigenvalues).toEqual(run.topEigenvalues);
      expect((same.result as any).trace).toEqual(run.trace);
      expect(same.provenance.optionSources).toMatchObject({ recorded: 'run.json: config.analyses[0] (id "hessian")', set: [], defaults: [] });
      expect((same.provenance.optionSources as any).fromRun).toContain('maxExamples');

      const set = await analyzeStoredRun({ store, registry, analysis: 'hessian', set: { topK: 1 }, backend: 'cpu' });
      expect((set.result as any).topEigenvalues).toEqual(run.topEigenvalues.slice(0, 1));
      expect((set.result as any).examples).toBe(12); // the rest as recorded
      expect(set.provenance.optionSources).toMatchObject({ set: ['topK'] });
      expect((set.provenance.optionSources as any).fromRun).not.toContain('topK');

      const logs: string[] = [];
      const progress = { start() {}, tick() {}, stop() {}, log: (m: string) => logs.push(m) };
      const fresh = await analyzeStoredRun({ store, registry, analysis: 'robustness', set: WEIGHT_NOISE, backend: 'cpu', progress });
      expect(fresh.provenance.optionSources).toMatchObject({ recorded: null, fromRun: [] });
      expect((fresh.provenance.optionSources as any).defaults).toContain('maxExamples');
      expect(logs.join('\n')).toContain("robustness: not in the run's experiment: options are the plugin's defaults");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
