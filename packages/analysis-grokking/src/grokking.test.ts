import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, createAnalysisContext, disposeParams } from '@goldstone/core';
import { embeddingDecoder } from '@goldstone/models';
import { headlineIssues, type HeadlineNumber, type ModelInstance, type Params, type TaskInstance } from '@goldstone/plugin-api';
import { relations } from '@goldstone/task-relations';
import { silentProgress, testPlugin } from '@goldstone/testkit';
import { train } from '@goldstone/trainer';
import { grokking, grokkingIssues } from './grokking';
import { grokkingOptions } from './options';
import { grokkingRecordingFor } from './recorder';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const TRAIN = { optimizer: 'adamw' as const, lr: 1e-3, groups: { encoder: { lr: 1e-2 }, decoder: { lr: 3e-3 } } };

/** The toy's setting at test size: addition on 10 symbols, d = 2, a 32-wide tanh decoder, full batch, trained with the analysis' hooks. */
async function trainedSetting(opts: { relation?: 'addition' | 'order'; steps?: number; options?: Record<string, unknown>; seed?: number } = {}) {
  const rng = new Rng(opts.seed ?? 1);
  const relation = opts.relation ?? 'addition';
  const task: TaskInstance = await relations.create(relations.options.parse(relation === 'addition' ? { relation, trainNum: 40 } : { relation, nodes: 8, trainFraction: 0.6 }), { rng: rng.split('task') });
  const model: ModelInstance = embeddingDecoder.create(embeddingDecoder.options.parse({ dim: 2, hidden: [32], activation: 'tanh' }), { inputShape: task.inputShape, outputSize: task.outputSize, outputKind: task.outputKind });
  const options = grokkingOptions.parse({ every: 10, train: TRAIN, ...(opts.options ?? {}) });
  const hooks = grokking.trainHooks!(options, { model, task, rng: rng.split('hooks') });
  const trained = await train({
    model,
    task,
    params: model.init(rng.split('init')),
    config: { optimizer: { name: 'adamw', lr: TRAIN.lr }, groups: TRAIN.groups, epochs: opts.steps ?? 60, batchSize: task.splits.train.n, evalEvery: 1000 },
    rng: rng.split('train'),
    hooks: [hooks],
  });
  return { task, model, params: trained.params, options };
}

async function analyse(task: TaskInstance, model: ModelInstance, params: Params, options: unknown) {
  const ctx = createAnalysisContext({ task, model, params, seed: 1, backend: 'cpu', analysis: 'grokking', progress: silentProgress });
  return (await grokking.run(ctx, grokkingOptions.parse(options))) as { result: any; headline: HeadlineNumber[]; provenance: any; figures?: any[] };
}

describe('grokking on the addition toy (tens of steps)', () => {
  it('records every `every` steps, at step 0 and at the last step, and measures the parallelogram parts and the repon picture without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    const { task, model, params, options } = await trainedSetting({ steps: 65 });
    const rec = grokkingRecordingFor(model)!;
    expect(rec.step).toEqual([0, 10, 20, 30, 40, 50, 60, 65]);
    expect(rec.initial?.embedding.shape).toEqual([10, 2]);
    const r = await analyse(task, model, params, { ...options, effectiveSteps: 200 });
    const res = r.result;
    expect(res.task).toMatchObject({ relation: 'addition', nodes: 10, trainPairs: 40, testPairs: 15 });
    expect(res.steps).toBe(65);
    expect(res.trajectory.step).toEqual(rec.step);
    for (const k of ['trainAccuracy', 'testAccuracy', 'rqi', 'effectiveLoss']) {
      expect(res.trajectory[k]).toHaveLength(8);
      for (const v of res.trajectory[k]) expect(v === null || (v >= 0 && Number.isFinite(v))).toBe(true);
    }
    for (const v of res.trajectory.rqi) expect(v).toBeLessThanOrEqual(1);
    expect(['comprehension', 'grokking', 'memorisation', 'confusion']).toContain(res.phase);
    // the ideal accuracy is the toy's for this training set (tested against the toy in ideal.test.ts)
    expect(res.ideal.counts).toMatchObject({ pairs: 55, train: 40, test: 15, P0: 70 });
    expect(res.ideal.testAccuracy).toBeGreaterThan(0);
    expect(res.ideal.testAccuracy).toBeLessThanOrEqual(1);
    expect(res.ideal.measuredTestAccuracy).toBe(res.final.testAccuracy);
    // the repon part: settings from the option (no store), effective dynamics, decoder memorisation capped at the run's steps
    expect(res.repon.settingsFrom).toBe('the analysis option train');
    expect(res.repon.encoderLr).toBe(1e-2);
    expect(res.repon.decoderLr).toBe(3e-3);
    expect(res.repon.effective.steps).toBe(200);
    expect(res.repon.effective.trajectory.step[0]).toBe(0);
    expect(res.repon.memorisation.cap).toBe(65);
    expect(res.repon.memorisation.steps).toBeLessThanOrEqual(65);
    expect(['generalisation', 'memorisation', 'confusion']).toContain(res.repon.predicted);
    expect(typeof res.repon.agree).toBe('boolean');
    expect(r.figures?.map((f) => f.name)).toEqual(['grokking-training']);
    expect(r.provenance.effectiveLoss).toContain('standardised');
    // the declared headline: the final test accuracy with its binomial stderr over the test
    // examples, the reach steps, RQI and the ideal accuracy, each the result's own number
    expect(headlineIssues(r.headline)).toEqual([]);
    const h = Object.fromEntries(r.headline.map((x) => [x.key, x]));
    expect(r.headline.map((x) => x.key)).toEqual(['testAccuracy', 'stepsToTest', 'stepsToTrain', 'rqi', 'idealTestAccuracy']);
    const p = res.final.testAccuracy;
    const n = task.splits.test.n;
    expect(h.testAccuracy.value).toBe(p);
    expect(h.testAccuracy.stderr).toBeCloseTo(Math.sqrt((p * (1 - p)) / n), 12);
    expect(h.stepsToTest.value).toBe(res.reach.test);
    expect(h.stepsToTrain.value).toBe(res.reach.train);
    for (const k of ['stepsToTest', 'stepsToTrain']) expect(h[k].value === null ? h[k].note : h[k].exact).toBeTruthy();
    expect(h.rqi).toMatchObject({ value: res.final.rqi, exact: true });
    expect(h.idealTestAccuracy).toMatchObject({ value: res.ideal.testAccuracy, exact: true });
    disposeParams(params);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('the effective dynamics lowers ℓ_eff from the run\'s initial embedding', async () => {
    const { task, model, params, options } = await trainedSetting({ steps: 10 });
    const r = await analyse(task, model, params, { ...options, effectiveSteps: 400, memorisation: false });
    const l = r.result.repon.effective.trajectory.effectiveLoss;
    expect(l[l.length - 1]).toBeLessThan(l[0]);
    expect(r.result.repon.memorisation).toBeNull();
    expect(r.result.repon.predicted).toBeNull();
    disposeParams(params);
  }, 120_000);

  it('a binary relation gets the accuracies and the phase, and says why the parallelogram parts are skipped', async () => {
    const { task, model, params, options } = await trainedSetting({ relation: 'order', steps: 30 });
    const r = await analyse(task, model, params, options);
    expect(r.result.task.relation).toBe('order');
    expect(r.result.ideal).toBeNull();
    expect(r.result.repon).toBeNull();
    expect(r.result.trajectory.rqi.every((v: unknown) => v === null)).toBe(true);
    expect(r.result.trajectory.testAccuracy.every((v: unknown) => typeof v === 'number')).toBe(true);
    expect(r.result.notes[0]).toMatch(/relation is "order"/);
    const h = Object.fromEntries(r.headline.map((x) => [x.key, x]));
    expect(h.rqi).toMatchObject({ value: null, note: expect.any(String) });
    expect(h.idealTestAccuracy).toMatchObject({ value: null, note: expect.stringMatching(/addition table/) });
    disposeParams(params);
  }, 120_000);

  it('without a store or the train option the repon part is skipped with a note', async () => {
    const { task, model, params } = await trainedSetting({ steps: 10 });
    const r = await analyse(task, model, params, { every: 10 });
    expect(r.result.repon).toBeNull();
    expect(r.result.notes.join(' ')).toMatch(/no store/);
    disposeParams(params);
  }, 120_000);

  it('refuses to run on a model whose training it did not record', async () => {
    const { task, params } = await trainedSetting({ steps: 10 });
    const other = embeddingDecoder.create(embeddingDecoder.options.parse({ dim: 2, hidden: [32], activation: 'tanh' }), { inputShape: task.inputShape, outputSize: task.outputSize, outputKind: task.outputKind });
    await expect(analyse(task, other, params, {})).rejects.toThrow(/train hooks/);
    disposeParams(params);
  }, 120_000);
});

describe('check', () => {
  it('names a missing split and a metric the task does not have', async () => {
    const task = await relations.create(relations.options.parse({ relation: 'addition', trainNum: 40 }), { rng: new Rng(1) });
    expect(grokkingIssues(grokkingOptions.parse({}), { task })).toEqual([]);
    expect(grokkingIssues(grokkingOptions.parse({ testSplit: 'ood' }), { task })).toEqual([{ field: 'testSplit', message: 'the task has no split "ood" (it has: train, test)' }]);
    const [issue] = grokkingIssues(grokkingOptions.parse({ metric: 'auc' }), { task });
    expect(issue.field).toBe('metric');
    expect(issue.message).toMatch(/no "auc" \(they have: .*accuracy/);
  });
});

// The conformance suite runs `run` on a setting whose training the hooks recorded.
const conformance = await trainedSetting({ steps: 20, seed: 5 });
testPlugin(grokking, {
  options: { every: 5, train: TRAIN, effectiveSteps: 20 },
  badOptions: { every: 0 },
  context: { task: conformance.task, model: conformance.model, params: conformance.params },
  seed: 5,
});

describe('options', () => {
  it('the train option is read like an experiment\'s train: section, and a bad field is named', () => {
    expect(grokkingOptions.parse({ train: { optimizer: 'adamw', lr: 0.01, epochs: 5, groups: { encoder: { lr: 1e-3 } } } }).train).toBeDefined();
    const bad = grokkingOptions.safeParse({ train: { optimizer: 'adamw', groups: { decoder: { lr: -1 } } } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0].path).toEqual(['train', 'groups', 'decoder', 'lr']);
    const family = grokkingOptions.safeParse({ train: { optimizer: 'lbfgs' } });
    expect(family.error!.issues[0]).toMatchObject({ path: ['train', 'optimizer'], message: expect.stringContaining('sgd, adam, adamw') });
    expect(grokkingOptions.safeParse({ phaseMaps: [{ x: 'train.lr' }] }).success).toBe(false);
  });
});
