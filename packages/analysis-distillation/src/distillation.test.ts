import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, createAnalysisContext, disposeParams } from '@goldstone/core';
import { headlineIssues, type HeadlineNumber, type ModelInstance, type Params, type TaskInstance } from '@goldstone/plugin-api';
import { expectNoLeaks, silentProgress, testPlugin, toyRegressionTask, blobsTask, trainedPluginModel } from '@goldstone/testkit';
import { distillation } from './distillation';
import { fidelity, softTargets } from './fidelity';
import { mlp } from '@goldstone/models';

const SMALL = { students: [[2]], sampleFractions: [0.5], epochs: 2, maxExamples: 16 };

testPlugin(distillation, { options: SMALL, badOptions: { temperature: 0 } });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function run(task: TaskInstance, model: ModelInstance, params: Params, options: Record<string, unknown>) {
  const ctx = createAnalysisContext({ task, model, params, seed: 5, backend: 'cpu', analysis: 'distillation', progress: silentProgress });
  return distillation.run(ctx, distillation.options.parse(options)) as Promise<{ result: any; headline: HeadlineNumber[]; provenance: any; figures?: any[] }>;
}

describe('fidelity and soft targets', () => {
  it('agreement of classes, of logit signs, and R² for regression', () => {
    expect(fidelity('classification', [1, 0, 0, 1, 3, 0], [2, 1, 1, 0, 0, 1], 2)).toBeCloseTo(1 / 3);
    expect(fidelity('binary', [1, -1, 2], [0.5, 0.1, 3], 1)).toBeCloseTo(2 / 3);
    expect(fidelity('regression', [1, 2, 3], [1, 2, 3], 1)).toBe(1);
    expect(fidelity('regression', [2, 2, 2], [1, 2, 3], 1)).toBe(0);
  });
  it('softmax(z/T) rows sum to one and flatten with T; σ(z/T) for binary', () => {
    const z = [2, 0, -1];
    const t1 = softTargets('classification', z, 3, 1);
    const t5 = softTargets('classification', z, 3, 5);
    expect(t1.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(t1[0]).toBeCloseTo(Math.exp(2) / (Math.exp(2) + 1 + Math.exp(-1)), 6);
    expect(t5[0]).toBeLessThan(t1[0]);
    expect(softTargets('binary', [0, 2], 1, 2)[1]).toBeCloseTo(1 / (1 + Math.exp(-1)), 6);
    expect(Array.from(softTargets('regression', [0.5, -2], 1, 3))).toEqual([0.5, -2]);
  });
});

describe('distillation analysis', () => {
  const task = blobsTask({ classes: 3, perClass: 40, separation: 2 });
  let teacher: { model: ModelInstance; params: Params };
  beforeAll(async () => {
    teacher = await trainedPluginModel(mlp, task, { hidden: [8], activation: 'tanh' }, { epochs: 20 });
  });
  afterAll(() => disposeParams(teacher.params));

  it('a student identical in architecture to the teacher reaches fidelity near 1', async () => {
    const { result, headline, provenance, figures } = await run(task, teacher.model, teacher.params, {
      students: [[1], [8]],
      activation: 'tanh',
      temperature: 2,
      sampleFractions: [0.1, 1],
      epochs: 60,
      lr: 0.02,
    });
    expect(result.metric).toBe('accuracy');
    expect(result.teacher.params).toBe(teacher.model.paramCount);
    const same = result.students[1];
    expect(same.params).toBe(teacher.model.paramCount);
    expect(same.distilled.fidelity).toBeGreaterThanOrEqual(0.95);
    expect(Math.abs(same.distilled.value - result.teacher.value)).toBeLessThanOrEqual(0.05);
    // a one-unit student cannot separate three classes: it agrees with the teacher less
    expect(result.students[0].distilled.fidelity).toBeLessThan(same.distilled.fidelity);
    expect(result.samples.map((s: any) => s.samples)).toEqual([12, 120]);
    expect(result.samples[1].student).toEqual([8]);
    expect(result.summary.minStudentParams).toBe(teacher.model.paramCount);
    expect(result.summary.compressionRatio).toBe(1);
    expect(provenance.samples.pool).toBe(120);
    expect(figures!.map((f) => f.name)).toEqual(['distillation-size', 'distillation-fidelity', 'distillation-samples']);
    // the declared headline: the summary's numbers; agreement and accuracy with their binomial
    // stderr over the 120 examples, the mean gain with its stderr over the two student sizes
    expect(headlineIssues(headline)).toEqual([]);
    const h = Object.fromEntries(headline.map((x) => [x.key, x]));
    expect(headline.map((x) => x.key)).toEqual(['fidelity', 'meanGain', 'compressionRatio', 'minSamples', 'teacherMetric']);
    const f = result.summary.largestStudentFidelity;
    expect(h.fidelity.value).toBe(f);
    expect(h.fidelity.stderr).toBeCloseTo(Math.sqrt((f * (1 - f)) / 120), 12);
    const gains = result.students.map((s: any) => s.distilled.value - s.labels.value);
    expect(h.meanGain.value).toBe(result.summary.meanGain);
    expect(h.meanGain.stderr).toBeCloseTo(Math.abs(gains[0] - gains[1]) / 2, 12);
    expect(h.compressionRatio).toMatchObject({ value: 1, exact: true });
    expect(h.minSamples.value).toBe(result.summary.minSamples);
    expect(h.teacherMetric.value).toBe(result.teacher.value);
  });

  it('distils a regression teacher by its outputs (fidelity = R²), leaking no tensors', async () => {
    const reg = await toyRegressionTask.create(toyRegressionTask.options.parse({ inputs: 3, outputs: 1, trainSize: 64 }), { rng: new Rng(2) });
    const t = await trainedPluginModel(mlp, reg, { hidden: [6], activation: 'relu' }, { epochs: 30, lr: 0.02 });
    const { result } = await run(reg, t.model, t.params, { students: [[6]], activation: 'relu', sampleFractions: [1], epochs: 200, lr: 0.02 });
    expect(result.metric).toBe('mse');
    expect(result.temperature).toBe(1);
    expect(result.students[0].distilled.fidelity).toBeGreaterThan(0.9);
    // R² is not a proportion: exact on the fixed examples, with a note; one student: an exact gain
    const h = Object.fromEntries(((await run(reg, t.model, t.params, SMALL)).headline).map((x) => [x.key, x]));
    expect(h.fidelity).toMatchObject({ exact: true, note: expect.stringMatching(/R²/) });
    expect(h.meanGain.exact).toBe(true);
    expect(h.teacherMetric).toMatchObject({ exact: true, better: 'lower' });
    await expectNoLeaks(() => run(reg, t.model, t.params, SMALL), 2);
    disposeParams(t.params);
  });

  it("Hinton's loss: a = 0 trains exactly the labels student; a > 0 moves the student towards the teacher", async () => {
    const opts = { students: [[4]], activation: 'tanh', sampleFractions: [1], epochs: 15, lr: 0.02 };
    const zero = await run(task, teacher.model, teacher.params, { ...opts, alpha: 0 });
    expect(zero.result.students[0].distilled).toEqual(zero.result.students[0].labels);
    const one = await run(task, teacher.model, teacher.params, { ...opts, alpha: 1 });
    expect(one.result.students[0].distilled.outputMse).not.toBe(one.result.students[0].labels.outputMse);
    expect(one.result.alpha).toBe(1);
    expect(one.provenance.method.loss).toMatch(/Hinton/);
  });

  it('names the option when the pool split does not exist', async () => {
    await expect(run(task, teacher.model, teacher.params, { ...SMALL, poolSplit: 'nope' })).rejects.toThrow(/poolSplit: the task has no non-empty split "nope"/);
  });
});
