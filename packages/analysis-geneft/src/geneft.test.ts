import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, createAnalysisContext, disposeParams } from '@goldstone/core';
import { headlineIssues, UsageError, type HeadlineNumber, type ModelInstance, type Params, type TaskInstance } from '@goldstone/plugin-api';
import { expectNoLeaks, silentProgress, testPlugin, trainedPluginModel } from '@goldstone/testkit';
import { embeddingDecoder, mlp } from '@goldstone/models';
import { relations } from '@goldstone/task-relations';
import { geneft } from './geneft';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const relationTask = (options: Record<string, unknown>, seed = 1): Promise<TaskInstance> => Promise.resolve(relations.create(relations.options.parse(options), { rng: new Rng(seed) }));

function analyse(task: TaskInstance, model: ModelInstance, params: Params, options: Record<string, unknown> = {}) {
  const ctx = createAnalysisContext({ task, model, params, seed: 7, backend: 'cpu', analysis: 'geneft', progress: silentProgress });
  return geneft.run(ctx, geneft.options.parse({ resamples: 200, ...options })) as Promise<{ result: any; headline: HeadlineNumber[]; provenance: any }>;
}

const checkCtx = (task: TaskInstance, model: ModelInstance) => ({ task, model, train: { epochs: 1, batchSize: 1, optimizer: 'adam' }, memoryLimit: 1e9 });

describe('geneft on a trained order of 10 nodes', async () => {
  // order on n = 10 nodes, 80 % of the 45 pairs train: embedding d = 4, one hidden layer of 32, Adam, full batch, 60 steps
  const task = await relationTask({ relation: 'order', nodes: 10, trainFraction: 0.8 });
  const trained = await trainedPluginModel(embeddingDecoder, task, { dim: 4, hidden: [32] }, { epochs: 60, lr: 0.03, batchSize: 1000, seed: 2 });
  afterAll(() => disposeParams(trained.params));

  testPlugin(geneft, { options: { resamples: 100 }, badOptions: { resamples: 3 }, context: { task, model: trained.model, params: trained.params } });

  it('records accuracy from the task metrics, the task information, and the embedding geometry', async () => {
    const { result: r, headline, provenance } = await analyse(task, trained.model, trained.params);
    expect(r.relation).toBe('order');
    // the declared headline: accuracies with their binomial stderr over the split, the order's ρs with their bootstrap intervals
    expect(headlineIssues(headline)).toEqual([]);
    const h = Object.fromEntries(headline.map((x) => [x.key, x]));
    expect(headline.map((x) => x.key)).toEqual(['testAccuracy', 'trainAccuracy', 'principalRho', 'distanceRho']);
    expect(h.testAccuracy.value).toBe(r.accuracy.test);
    expect(h.testAccuracy.stderr).toBeCloseTo(Math.sqrt((r.accuracy.test * (1 - r.accuracy.test)) / 18), 12);
    expect(h.trainAccuracy.stderr).toBeCloseTo(Math.sqrt((r.accuracy.train * (1 - r.accuracy.train)) / 72), 12);
    expect(h.principalRho).toMatchObject({ value: r.geometry.principal.rho, level: 0.95 });
    expect(h.principalRho.interval![0]).toBeLessThanOrEqual(r.geometry.principal.lo);
    expect(h.distanceRho.value).toBe(r.geometry.distance.rho);
    expect(r.nodes).toBe(10);
    expect(r.trainFraction).toBeCloseTo(36 / 45, 12);
    expect(r.information.bits).toBeCloseTo(Math.log2(3628800), 10);
    expect(r.information.pcInfo).toBeCloseTo(Math.log2(3628800) / 45, 10);
    expect(r.accuracy.train).toBeGreaterThan(0.95);
    expect(r.accuracy.test).toBeGreaterThan(0.7);
    expect(r.chance.test).toBeGreaterThanOrEqual(0.5);
    expect(r.embedding).toEqual({ nodes: 10, dim: 4 });
    // a generalising order embedding is ordered along its first principal axis
    expect(r.geometry.principal.absRho).toBeGreaterThan(0.8);
    expect(r.geometry.principal.lo).toBeLessThanOrEqual(r.geometry.principal.rho);
    expect(r.geometry.distance.rho).toBeGreaterThan(0.3);
    expect(r.geometry.parallelogram).toBeUndefined();
    expect(provenance.examples).toEqual({ train: 72, test: 18 });
  });

  it('leaks no tensors', async () => {
    await expectNoLeaks(() => analyse(task, trained.model, trained.params));
  });
});

describe('geneft on an equivalence', () => {
  it('measures the parallelogram residual and the class ratio (untrained embedding: no structure)', async () => {
    const task = await relationTask({ relation: 'equivalence', k: 3, nodes: 12, trainFraction: 0.5 });
    const model = embeddingDecoder.create(embeddingDecoder.options.parse({ dim: 4, hidden: [8] }), { inputShape: task.inputShape, outputSize: task.outputSize, outputKind: task.outputKind });
    const params = model.init(new Rng(1));
    try {
      const { result: r, headline } = await analyse(task, model, params);
      expect(r.k).toBe(3);
      expect(headlineIssues(headline)).toEqual([]);
      expect(headline.map((x) => x.key)).toEqual(['testAccuracy', 'trainAccuracy', 'parallelogramResidual', 'classRatio']);
      expect(headline[2]).toMatchObject({ value: r.geometry.parallelogram.residual, exact: true });
      expect(headline[3]).toMatchObject({ value: r.geometry.classRatio, exact: true });
      expect(r.geometry.parallelogram.k).toBe(3);
      expect(r.geometry.parallelogram.residual).toBeGreaterThan(0.5);
      expect(r.geometry.classRatio).toBeGreaterThan(0.4);
      expect(r.notes.join(' ')).toContain('only the order');
    } finally {
      disposeParams(params);
    }
  });
});

describe('the check hook', () => {
  it('says clearly when the model has no embedding parameter, and run refuses it with a UsageError', async () => {
    const task = await relationTask({ relation: 'order', nodes: 10 });
    const model = mlp.create(mlp.options.parse({ hidden: [8] }), { inputShape: task.inputShape, outputSize: task.outputSize, outputKind: task.outputKind });
    const issues = geneft.check!(geneft.options.parse({}), checkCtx(task, model)) ?? [];
    expect(issues).toHaveLength(1);
    expect(issues[0].message).toContain('needs a model with an "embedding" parameter [nodes, dim]');
    expect(issues[0].message).toContain('this model\'s parameters are');
    const params = model.init(new Rng(1));
    try {
      await expect(analyse(task, model, params)).rejects.toThrow(UsageError);
      await expect(analyse(task, model, params)).rejects.toThrow('"embedding" parameter');
    } finally {
      disposeParams(params);
    }
  });

  it('finds nothing wrong with a relations task and an embedding-decoder, and refuses a task without relation info', async () => {
    const task = await relationTask({ relation: 'order', nodes: 10 });
    const model = embeddingDecoder.create(embeddingDecoder.options.parse({ dim: 4 }), { inputShape: task.inputShape, outputSize: task.outputSize, outputKind: task.outputKind });
    expect(geneft.check!(geneft.options.parse({}), checkCtx(task, model)) ?? []).toEqual([]);
    const other = { ...task, info: {} };
    const issues = geneft.check!(geneft.options.parse({}), checkCtx(other, model)) ?? [];
    expect(issues.map((i) => i.message).join(' ')).toContain('needs a relations task');
  });
});
