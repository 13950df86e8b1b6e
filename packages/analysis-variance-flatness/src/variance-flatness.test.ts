import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, createAnalysisContext, paramsToArray, disposeParams } from '@goldstone/core';
import { silentProgress, type ModelInstance, type Params, type TaskInstance } from '@goldstone/plugin-api';
import { train } from '@goldstone/trainer';
import { mlp, mlpOptions } from '@goldstone/models';
import { testPlugin, toyRegressionTask } from '@goldstone/testkit';
import { varianceFlatness, varianceFlatnessOptions } from './variance-flatness';
import { defaultSubset, recordingFor } from './recorder';

const options = varianceFlatnessOptions.parse({
  windowEpochs: 3,
  every: 1,
  components: 6,
  gammaFrom: 2,
  gammaTo: 10,
  topK: 5,
  profileComponents: [2],
  profilePoints: 5,
});

async function trainedSetting(seed: number): Promise<{ task: TaskInstance; model: ModelInstance; params: Params; steps: number }> {
  const rng = new Rng(seed);
  const task = await toyRegressionTask.create({ inputs: 4, outputs: 2, trainSize: 64, testSize: 16, noise: 0.3 }, { rng: rng.split('task') });
  const model = mlp.create(mlpOptions.parse({ hidden: [6, 6], activation: 'tanh' }), { inputShape: task.inputShape, outputSize: task.outputSize, outputKind: task.outputKind });
  const hooks = varianceFlatness.trainHooks!(options, { model, task, rng: rng.split('hooks') });
  const out = await train({
    model,
    task,
    params: model.init(rng.split('init')),
    rng: rng.split('train'),
    config: { optimizer: { name: 'sgd', lr: 0.05 }, epochs: 8, batchSize: 8 },
    hooks: [hooks],
  });
  return { task, model, params: out.params, steps: out.steps };
}

let setting: Awaited<ReturnType<typeof trainedSetting>>;

beforeAll(async () => {
  await tf.setBackend('cpu');
  setting = await trainedSetting(4);
});

describe('variance-flatness plugin', () => {
  it('records the weights between the hidden layers over the last windowEpochs epochs', () => {
    const { model, params } = setting;
    expect(defaultSubset(model.specs)).toEqual(['dense1.weight']);
    const rec = recordingFor(model)!;
    expect(rec.size).toBe(36);
    // 64 examples in batches of 8: 8 steps per epoch, the last 3 of 8 epochs kept.
    expect(rec.steps).toBe(64);
    expect(rec.snapshots.map((s) => s.step)).toEqual(Array.from({ length: 24 }, (_, i) => 41 + i));
    const last = rec.snapshots[rec.snapshots.length - 1].values;
    const w = params['dense1.weight'].dataSync();
    expect(Array.from(last)).toEqual(Array.from(w));
  });

  it('runs on the recorded trajectory and reports ψ, γ, fractions, drift and figures', async () => {
    const { task, model, params } = setting;
    const ctx = createAnalysisContext({ task, model, params, seed: 4, backend: 'cpu', analysis: 'variance-flatness' });
    const before = tf.memory().numTensors;
    const r = await varianceFlatness.run(ctx, options);
    expect(tf.memory().numTensors).toBe(before);
    const res = r.result as Record<string, any>;
    expect(res.subset).toEqual({ params: ['dense1.weight'], size: 36 });
    expect(res.window).toMatchObject({ fromEpoch: 6, toEpoch: 8, snapshots: 24, every: 1 });
    expect(res.components).toHaveLength(6);
    expect(res.L0).toBeGreaterThan(0);
    // L0 is the full-training-set loss at ⟨w⟩: check against a direct evaluation.
    const flat = paramsToArray(params, model.specs);
    const mean = new Float32Array(36);
    for (const s of recordingFor(model)!.snapshots) s.values.forEach((v, j) => (mean[j] += v / 24));
    const offset = 4 * 6 + 6; // dense0.weight, dense0.bias
    flat.set(mean, offset);
    const p = (await import('@goldstone/core')).paramsFromArray(flat, model.specs);
    const x = tf.tensor(task.splits.train.x, [64, 4]);
    const y = tf.tensor(task.splits.train.y, [64, 2]);
    const l = ctx.loss(p, x, y);
    expect(res.L0).toBeCloseTo(l.dataSync()[0], 5);
    tf.dispose([x, y, l]);
    disposeParams(p);
    for (const c of res.components) {
      if (c.flatness !== null) expect(c.flatness).toBeCloseTo(c.right - c.left, 12);
      else expect(c.note).toBeTruthy();
    }
    expect(r.figures!.map((f) => f.name)).toEqual(['variance-vs-flatness', 'rank-variance', 'loss-profiles']);
    expect(r.provenance.lossEvaluations).toBeGreaterThan(10);
  });

  it('fails with a clear message when no trajectory was recorded', async () => {
    const { task, params } = setting;
    const other = mlp.create(mlpOptions.parse({ hidden: [6, 6], activation: 'tanh' }), { inputShape: [4], outputSize: 2, outputKind: 'regression' });
    const ctx = createAnalysisContext({ task, model: other, params, seed: 4, backend: 'cpu', progress: silentProgress });
    await expect(varianceFlatness.run(ctx, options)).rejects.toThrow(/no trajectory was recorded.*goldstone analyze/s);
  });

  it('names an unknown parameter with the ones the model has', () => {
    const { model, task } = setting;
    expect(() => varianceFlatness.trainHooks!({ ...options, params: ['nope'] }, { model, task, rng: new Rng(1) })).toThrow(/no parameter "nope".*dense1.weight/);
  });

  it('summarize reports ψ per setting, mean ± s.d. over seeds, against the published 4', () => {
    const mk = (psi: number, lo: number, hi: number) => ({ result: { psi: { value: psi, ci: [lo, hi] }, gamma: { value: 2 }, fractions: { top: 0.8 } }, provenance: { analysis: 'variance-flatness', seed: 1, backend: 'cpu' } });
    const out = varianceFlatness.summarize!(
      [
        { run: 'a', settings: { seed: 1, 'train.lr': 0.1 }, result: mk(3, 2, 4) },
        { run: 'b', settings: { seed: 2, 'train.lr': 0.1 }, result: mk(5, -1, 11) },
        { run: 'c', settings: { seed: 1, 'train.lr': 0.2 }, result: mk(2, 1, 3) },
      ],
      options,
    );
    const groups = (out.result as any).groups;
    expect(groups).toHaveLength(2);
    expect(groups[0].settings).toEqual({ 'train.lr': 0.1 });
    expect(groups[0].psi.mean).toBe(4);
    expect(groups[0].psi.std).toBeCloseTo(Math.SQRT2, 12);
    expect(groups[0].psiCiExcludesZero).toBe('1/2');
    expect(groups[0].psiMinusPublished).toBe(0);
    expect(groups[1].psi).toMatchObject({ mean: 2, n: 1 });
  });
});

// The conformance suite runs `run` on a setting whose training was recorded by the hooks.
const conformance = await trainedSetting(5);
testPlugin(varianceFlatness, {
  options: { windowEpochs: 2, every: 1, components: 4, gammaFrom: 2, gammaTo: 8, topK: 3, profileComponents: [2], profilePoints: 3 },
  badOptions: { every: 0 },
  context: { task: conformance.task, model: conformance.model, params: conformance.params },
  seed: 5,
});
