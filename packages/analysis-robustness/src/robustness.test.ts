import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, createAnalysisContext, disposeParams, splitTensors, scoreTensors } from '@goldstone/core';
import type { AnalysisResult, ModelInstance, Params, TaskInstance } from '@goldstone/plugin-api';
import { expectNoLeaks, silentProgress, testPlugin, toyLinearModel, toyRegressionTask, blobsTask, trainedPluginModel } from '@goldstone/testkit';
import { robustness } from './robustness';
import { mlp } from '@goldstone/models';
import { hutchinsonTrace, weightNoiseSweep } from './weight-noise';

const SMALL = {
  maxExamples: 32,
  noiseSigmas: [0, 0.1],
  noiseDraws: 1,
  symmetryDraws: 1,
  epsilons: [0.05, 0.2],
  pgdSteps: 4,
  ibpEpsilons: [0.01, 0.1],
  weightSigmas: [0.01, 0.03],
  weightDraws: 2,
  traceProbes: 4,
  generatorSteps: [0.1],
};

testPlugin(robustness, { options: SMALL, badOptions: { epsilons: [-0.1] } });
testPlugin(robustness, { title: 'analysis robustness conforms (bad domain rejected)', options: { ...SMALL, sections: ['noise'] }, badOptions: { domain: { min: 1, max: 0 } } });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function run(task: TaskInstance, model: ModelInstance, params: Params, options: Record<string, unknown>, previous: Record<string, AnalysisResult> = {}) {
  const ctx = createAnalysisContext({ task, model, params, seed: 5, backend: 'cpu', analysis: 'robustness', progress: silentProgress, previous });
  return robustness.run(ctx, robustness.options.parse(options)) as Promise<{ result: any; provenance: any; figures?: any[] }>;
}

describe('weight noise against ½σ²·tr H', () => {
  it('matches exactly in expectation for linear regression, whose loss is quadratic (tr H = 2/N·Σ(‖xᵢ‖² + 1))', async () => {
    const task = await toyRegressionTask.create(toyRegressionTask.options.parse({ inputs: 3, outputs: 1, trainSize: 40 }), { rng: new Rng(1) });
    const model = toyLinearModel.create({ bias: true }, { inputShape: [3], outputSize: 1, outputKind: 'regression' });
    const params = model.init(new Rng(2));
    const ctx = createAnalysisContext({ task, model, params, seed: 1, backend: 'cpu' });
    const { x, y } = splitTensors(task.splits.train);
    let exact = 0;
    for (let i = 0; i < 40; i++) {
      let s = 1;
      for (let j = 0; j < 3; j++) s += task.splits.train.x[i * 3 + j] ** 2;
      exact += (2 / 40) * s;
    }
    const tr = hutchinsonTrace(ctx, x, y, 200, new Rng(3));
    expect(Math.abs(tr.value - exact)).toBeLessThan(4 * tr.stderr! + 1e-4 * exact);
    const sweep = weightNoiseSweep(ctx, x, y, [0.01, 0.05], 400, exact, new Rng(4));
    for (const p of sweep.points) {
      expect(p.predicted).toBeCloseTo(0.5 * p.sigma ** 2 * exact, 10);
      expect(Math.abs(p.deltaLoss - p.predicted)).toBeLessThan(4 * p.stderr! + 1e-6);
    }
    tf.dispose([x, y]);
    disposeParams(params);
  });
});

describe('robustness analysis', () => {
  const task = blobsTask({ classes: 3, perClass: 30, separation: 2 });
  let setting: { model: ModelInstance; params: Params };
  beforeAll(async () => {
    setting = await trainedPluginModel(mlp, task, { hidden: [8], activation: 'relu' }, { epochs: 15 });
  });
  afterAll(() => disposeParams(setting.params));

  it('reports accuracy for classification: clean, noise, symmetries, attacks, IBP, weight noise', async () => {
    const { result, provenance, figures } = await run(task, setting.model, setting.params, { ...SMALL, maxExamples: 90, epsilons: [0.1, 0.5], pgdSteps: 10 });
    expect(result.metric).toBe('accuracy');
    expect(result.examples).toBe(90);
    expect(result.chance).toBeCloseTo(1 / 3);
    expect(result.clean.value).toBeGreaterThan(0.6);
    expect(result.noise[0].sigma).toBe(0);
    expect(result.noise[0].value).toBe(result.clean.value);
    expect(result.symmetries.map((s: any) => s.name)).toEqual(['jitter', 'scale']);
    expect(result.symmetries[0].generator).toBeNull();
    // the generator of scaling is G·x = x: x + t·x = (1 + t)·x exactly
    const gen = result.symmetries[1].generator;
    expect(gen.map((g: any) => g.t)).toEqual(SMALL.generatorSteps);
    const scaled = tf.tidy(() => scoreTensors('classification', setting.model.apply(setting.params, tf.mul(tf.tensor2d(task.splits.test.x, [90, 2]), 1.1)), tf.tensor2d(task.splits.test.y, [90, 3])));
    expect(gen[0].value).toBe(scaled.accuracy);
    for (let i = 0; i < 2; i++) {
      expect(result.fgsm[i].value).toBeLessThanOrEqual(result.clean.value);
      // PGD ascends the loss: it is at least as strong as FGSM in loss (accuracy usually follows, but need not)
      expect(result.pgd[i].loss).toBeGreaterThanOrEqual(result.fgsm[i].loss - 1e-6);
    }
    expect(result.ibp.supported).toBe(true);
    expect(result.ibp.activation).toBe('relu');
    expect(result.ibp.points[1].meanWidth).toBeGreaterThan(result.ibp.points[0].meanWidth);
    // certified accuracy can only be below the accuracy under the strongest attack found at a larger radius
    expect(result.ibp.points[1].certified).toBeLessThanOrEqual(result.clean.value);
    expect(result.weightNoise.trace.source).toBe('hutchinson');
    expect(provenance.samples.examples).toBe(90);
    expect(figures!.map((f) => f.name)).toEqual(['robustness-noise', 'robustness-smearing', 'robustness-symmetries', 'robustness-symmetry-generator', 'robustness-attacks', 'robustness-ibp-width', 'robustness-weight-noise']);
  });

  it('uses the Hessian analysis’ trace when it ran first', async () => {
    const previous = { hessian: { result: { trace: { value: 123, stderr: 1 } }, provenance: { analysis: 'hessian', seed: 5, backend: 'cpu' } } };
    const { result } = await run(task, setting.model, setting.params, { ...SMALL, sections: ['weight-noise'] }, previous);
    expect(result.weightNoise.trace).toEqual({ value: 123, stderr: 1, source: 'hessian-analysis' });
    expect(result.weightNoise.points[0].predicted).toBeCloseTo(0.5 * 0.01 ** 2 * 123, 12);
    expect(result.fgsm).toBeUndefined();
  });

  it('reports AUC for a binary task, and leaks no tensors', async () => {
    const bin = blobsTask({ binary: true, perClass: 20 });
    const s = await trainedPluginModel(mlp, bin, { hidden: [4], activation: 'gelu' }, { epochs: 10 });
    const { result } = await run(bin, s.model, s.params, SMALL);
    expect(result.metric).toBe('auc');
    expect(result.chance).toBe(0.5);
    expect(result.clean.auc).toBe(result.clean.value);
    expect(result.ibp.activation).toBe('gelu');
    await expectNoLeaks(() => run(bin, s.model, s.params, SMALL), 2);
    disposeParams(s.params);
  });

  it('names the option when the split does not exist', async () => {
    await expect(run(task, setting.model, setting.params, { ...SMALL, split: 'ood' })).rejects.toThrow(/split: the task has no non-empty split "ood"/);
  });
});
