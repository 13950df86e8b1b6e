import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, createAnalysisContext, disposeParams, splitTensors, scoreTensors } from '@goldstone/core';
import { headlineIssues, type AnalysisResult, type HeadlineNumber, type ModelInstance, type Params, type TaskInstance } from '@goldstone/plugin-api';
import { expectNoLeaks, silentProgress, testPlugin, toyLinearModel, toyRegressionTask, blobsTask, trainedPluginModel } from '@goldstone/testkit';
import { robustness } from './robustness';
import { mlp } from '@goldstone/models';
import { hutchinsonTrace, parameterFingerprint, weightNoiseSweep } from './weight-noise';

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
  return robustness.run(ctx, robustness.options.parse(options)) as Promise<{ result: any; headline: HeadlineNumber[]; provenance: any; figures?: any[] }>;
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

  it('declares the clean accuracy with its binomial stderr and the drops at the reference σ and ε', async () => {
    const { result, headline } = await run(task, setting.model, setting.params, { ...SMALL, sections: ['noise', 'fgsm', 'pgd'], maxExamples: 90, noiseSigmas: [0, 0.5], noiseDraws: 4, epsilons: [0.1, 0.5], referenceSigma: 0.5, referenceEpsilon: 0.5 });
    expect(headlineIssues(headline)).toEqual([]);
    const h = Object.fromEntries(headline.map((x) => [x.key, x]));
    expect(headline.map((x) => x.key)).toEqual(['clean', 'pgdDrop', 'fgsmDrop', 'noiseDrop', 'smearDrop']);
    const p = result.clean.value;
    expect(h.clean).toMatchObject({ value: p, better: 'higher' });
    expect(h.clean.stderr).toBeCloseTo(Math.sqrt((p * (1 - p)) / 90), 12);
    expect(h.pgdDrop).toMatchObject({ value: result.headline.pgdDrop, exact: true, better: 'lower' });
    expect(h.pgdDrop.value).toBe(result.pgd[1].drop);
    expect(h.fgsmDrop.value).toBe(result.fgsm[1].drop);
    // four noise draws at σ = 0.5: the stderr of their mean (the examples held fixed)
    expect(h.noiseDrop.value).toBe(result.noise[1].drop);
    expect(h.noiseDrop.stderr).toBeGreaterThan(0);
    expect(h.noiseDrop.stderr).toBeLessThan(0.5);
    expect(h.smearDrop).toMatchObject({ value: null, note: expect.stringMatching(/smearing section did not run/) });
  });

  describe('reusing an earlier Hessian trace', () => {
    // all of the train split, so that a Hessian over all of it is the same data
    const WN = { ...SMALL, maxExamples: 10_000, sections: ['weight-noise'] };
    /** A hessian result as the hessian analysis and the runner record it, with `changes` applied. */
    const hessianResult = (changes: { provenance?: Record<string, unknown> } = {}): AnalysisResult =>
      ({
        result: { operator: 'hessian', objective: 'data', trace: { value: 123, stderr: 1 } },
        provenance: {
          analysis: 'hessian',
          seed: 5,
          backend: 'cpu',
          operator: 'hessian',
          objective: 'data',
          params: null,
          data: { split: 'train', examples: task.splits.train.n, subset: 'all', batches: 1 },
          parameters: { source: 'trained', fingerprint: parameterFingerprint(setting.params, setting.model.specs) },
          ...changes.provenance,
        },
      }) as AnalysisResult;

    it('uses a trace of the same operator, objective, parameters and data, and says why', async () => {
      const { result, provenance } = await run(task, setting.model, setting.params, WN, { hessian: hessianResult() });
      expect(result.weightNoise.trace).toMatchObject({ value: 123, stderr: 1, source: 'hessian-analysis', result: 'hessian' });
      expect(result.weightNoise.trace.reason).toContain(`all ${task.splits.train.n} examples of train`);
      expect(provenance.trace.source).toBe('hessian-analysis');
      expect(result.weightNoise.points[0].predicted).toBeCloseTo(0.5 * 0.01 ** 2 * 123, 12);
      expect(result.fgsm).toBeUndefined();
    });

    it('does not use a trace of another operator, objective, restriction, split, subset or parameters: it estimates tr H itself', async () => {
      const own = (await run(task, setting.model, setting.params, WN)).result.weightNoise.trace;
      expect(own.source).toBe('hutchinson');
      expect(own.reason).toContain('no earlier hessian result');
      const other = tf.tidy(() => Object.fromEntries(Object.entries(setting.params).map(([k, v]) => [k, tf.keep(tf.add(v, 1e-3))])));
      const data = { split: 'train', examples: task.splits.train.n, subset: 'all', batches: 1 };
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ operator: 'ggn' }, /operator "ggn", expected "hessian"/],
        [{ objective: 'total' }, /objective "total", expected "data"/],
        [{ params: ['dense0.weight'] }, /restricted to parameters \["dense0.weight"\]/],
        [{ data: { ...data, split: 'test' } }, /split "test", expected "train"/],
        [{ data: { ...data, examples: 32, subset: 'random' } }, /a random subset of 32 examples, the noise check uses all/],
        [{ parameters: { source: 'checkpoint epoch 3', fingerprint: parameterFingerprint(other, setting.model.specs) } }, /other parameters \(checkpoint epoch 3, fingerprint/],
        [{ parameters: undefined }, /no parameter fingerprint recorded/],
      ];
      disposeParams(other);
      for (const [changes, why] of cases) {
        const { result } = await run(task, setting.model, setting.params, WN, { hessian: hessianResult({ provenance: changes }) });
        const trace = result.weightNoise.trace;
        expect(trace.source, JSON.stringify(changes)).toBe('hutchinson');
        expect(trace.value).toBe(own.value); // the estimate on the noise check's own data, not 123
        expect(trace.rejected).toHaveLength(1);
        expect(trace.rejected[0].mismatches.join('; ')).toMatch(why);
        expect(trace.reason).toMatch(why);
      }
    });

    it('picks the matching one of several hessian results', async () => {
      const previous = { hessian: hessianResult({ provenance: { operator: 'ggn' } }), 'hessian-all': hessianResult() };
      const { result } = await run(task, setting.model, setting.params, WN, previous);
      expect(result.weightNoise.trace).toMatchObject({ value: 123, source: 'hessian-analysis', result: 'hessian-all' });
    });
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
