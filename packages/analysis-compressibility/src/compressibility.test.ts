import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, createAnalysisContext, disposeParams, paramsFromArray, paramsToArray } from '@goldstone/core';
import { headlineIssues, type HeadlineNumber, type ModelInstance, type Params, type TaskInstance } from '@goldstone/plugin-api';
import { expectNoLeaks, silentProgress, testPlugin, blobsTask, trainedPluginModel } from '@goldstone/testkit';
import { compressibility } from './compressibility';
import { mlp } from '@goldstone/models';

const SMALL = { maxExamples: 32, sparsities: [0, 0.5, 1], bits: [32, 4], fineTune: { epochs: 1, sparsities: [0.5] } };

testPlugin(compressibility, { options: SMALL, badOptions: { bits: [1] } });
testPlugin(compressibility, { title: 'analysis compressibility conforms (all parameters, no fine-tuning)', options: { ...SMALL, include: 'all', fineTune: { epochs: 0 } }, badOptions: { sparsities: [1.5] } });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function run(task: TaskInstance, model: ModelInstance, params: Params, options: Record<string, unknown>) {
  const ctx = createAnalysisContext({ task, model, params, seed: 5, backend: 'cpu', analysis: 'compressibility', progress: silentProgress });
  return compressibility.run(ctx, compressibility.options.parse(options)) as Promise<{ result: any; headline: HeadlineNumber[]; provenance: any; figures?: any[] }>;
}

describe('compressibility analysis (3 balanced classes, trained MLP)', () => {
  const task = blobsTask({ classes: 3, perClass: 30, separation: 2.5 });
  let setting: { model: ModelInstance; params: Params };
  beforeAll(async () => {
    setting = await trainedPluginModel(mlp, task, { hidden: [16, 8], activation: 'relu' }, { epochs: 20 });
  });
  afterAll(() => disposeParams(setting.params));

  it('pruning starts at the unpruned accuracy and ends at chance; 32 bits change nothing', async () => {
    const { result, headline, provenance, figures } = await run(task, setting.model, setting.params, {
      sparsities: [0, 0.3, 0.6, 0.9, 1],
      bits: [32, 8, 2],
      fineTune: { epochs: 2, sparsities: [0.9] },
    });
    expect(result.metric).toBe('accuracy');
    expect(result.base.value).toBeGreaterThan(0.7);
    expect(result.chance).toBeCloseTo(1 / 3, 12);
    for (const scope of ['global', 'layer']) {
      const rows = result.pruning.filter((r: any) => r.scope === scope);
      expect(rows[0].sparsity).toBe(0);
      expect(rows[0].value).toBe(result.base.value);
      expect(rows[0].loss).toBe(result.base.loss);
      expect(rows.at(-1).sparsity).toBe(1);
      // every weight zero: the output is a constant, so it predicts one class of three balanced ones
      expect(rows.at(-1).value).toBeCloseTo(result.chance, 12);
    }
    for (const scope of ['global+fine-tune', 'layer+fine-tune']) {
      const ft = result.pruning.filter((r: any) => r.scope === scope);
      expect(ft).toHaveLength(1);
      // the pruned weights stay at zero through fine-tuning
      expect(ft[0].sparsity).toBeGreaterThanOrEqual(0.9 - 1e-9);
      expect(result.summary.maxSparsity).toHaveProperty(scope);
    }
    const q32 = result.quantization.find((r: any) => r.bits === 32);
    expect(q32.value).toBe(result.base.value);
    expect(q32.loss).toBeCloseTo(result.base.loss, 6);
    expect(q32.maxAbsChange).toBeLessThan(1e-8);
    expect(result.summary.minBits).toBeLessThanOrEqual(32);
    expect(result.summary.maxSparsity.global).not.toBeNull();
    const dl = result.summary.descriptionLength;
    expect(dl.bits).toBeGreaterThan(0);
    expect(dl.bits).toBeLessThanOrEqual(dl.dense32Bits + 32 * 6);
    expect(result.lowRank.map((l: any) => l.layer)).toEqual(['dense0.weight', 'dense1.weight', 'dense2.weight']);
    const full = result.lowRank[0].points.at(-1);
    expect(full.rank).toBe(2);
    expect(full.value).toBe(result.base.value);
    expect(provenance.samples.examples).toBe(90);
    expect(figures!.map((f) => f.name)).toEqual(['compressibility-pruning', 'compressibility-quantization', 'compressibility-low-rank']);
    // the declared headline: the summary's numbers, exact counts and thresholds, accuracies with their binomial stderr
    expect(headlineIssues(headline)).toEqual([]);
    const h = Object.fromEntries(headline.map((x) => [x.key, x]));
    expect(headline.map((x) => x.key)).toEqual(['bitsPerParameter', 'maxSparsity', 'maxSparsityFineTuned', 'minBits', 'compressedMetric', 'baseMetric']);
    expect(h.bitsPerParameter).toMatchObject({ value: dl.bitsPerParameter, exact: true, unit: 'bits', better: 'lower' });
    expect(h.maxSparsity).toMatchObject({ value: result.summary.maxSparsity.global, exact: true });
    expect(h.maxSparsityFineTuned.value).toBe(result.summary.maxSparsity['global+fine-tune']);
    expect(h.minBits).toMatchObject({ value: result.summary.minBits, exact: true });
    expect(h.compressedMetric.value).toBe(dl.value);
    const p = result.base.value;
    expect(h.baseMetric).toMatchObject({ value: p, better: 'higher' });
    expect(h.baseMetric.stderr).toBeCloseTo(Math.sqrt((p * (1 - p)) / 90), 12);
  });

  it('a model whose smallest weights are exactly zero loses nothing when they are pruned', async () => {
    const values = paramsToArray(setting.params, setting.model.specs);
    // zero every other weight of every matrix (biases stay): half of the compressible weights
    let offset = 0;
    let count = 0;
    let total = 0;
    for (const s of setting.model.specs) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      if (s.shape.length === 2) {
        for (let i = 0; i < size; i += 2) {
          values[offset + i] = 0;
          count++;
        }
        total += size;
      }
      offset += size;
    }
    const params = paramsFromArray(values, setting.model.specs);
    const s = Math.floor((count / total) * 100) / 100;
    const { result } = await run(task, setting.model, params, { sections: ['pruning'], sparsities: [0, s / 2, s], scopes: ['global'], fineTune: { epochs: 0 } });
    for (const row of result.pruning) {
      expect(row.value).toBe(result.base.value);
      expect(row.loss).toBe(result.base.loss);
    }
    disposeParams(params);
  });

  it('a rank-r layer truncated at rank r is unchanged', async () => {
    const values = paramsToArray(setting.params, setting.model.specs);
    // make dense0.weight [2, 16]… it has full rank 2 already; make dense1.weight [16, 8] rank 3
    const rng = new Rng(9);
    const a = rng.normalArray(16 * 3, 0.5);
    const b = rng.normalArray(3 * 8, 0.5);
    const offset = 2 * 16 + 16;
    for (let i = 0; i < 16; i++) for (let j = 0; j < 8; j++) values[offset + i * 8 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[8 + j] + a[i * 3 + 2] * b[16 + j];
    const params = paramsFromArray(values, setting.model.specs);
    const { result } = await run(task, setting.model, params, { sections: ['low-rank'], ranks: [1, 2, 3, 8] });
    const layer = result.lowRank.find((l: any) => l.layer === 'dense1.weight');
    expect(layer.singularValues[3]).toBeLessThan(1e-5 * layer.singularValues[0]);
    const at3 = layer.points.find((p: any) => p.rank === 3);
    expect(at3.value).toBe(result.base.value);
    expect(at3.loss).toBeCloseTo(result.base.loss, 5);
    expect(result.summary.minRank['dense1.weight']).toBeLessThanOrEqual(3);
    disposeParams(params);
  });

  it('ends at an AUC of ½ on a binary task, and leaks no tensors', async () => {
    const bin = blobsTask({ binary: true, perClass: 20 });
    const s = await trainedPluginModel(mlp, bin, { hidden: [6], activation: 'tanh' }, { epochs: 10 });
    const { result } = await run(bin, s.model, s.params, SMALL);
    expect(result.metric).toBe('auc');
    const last = result.pruning.filter((r: any) => r.scope === 'global').at(-1);
    expect(last.value).toBe(0.5);
    await expectNoLeaks(() => run(bin, s.model, s.params, SMALL), 2);
    disposeParams(s.params);
  });
});
