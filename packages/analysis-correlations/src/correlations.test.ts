import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAnalysisContext, disposeParams, predictSplit, scoreArrays } from '@goldstone/core';
import { mlp } from '@goldstone/models';
import { headlineIssues, type AnalysisResult, type Json } from '@goldstone/plugin-api';
import { blobsTask, expectNoLeaks, silentProgress, testPlugin, trainedPluginModel } from '@goldstone/testkit';
import { correlations } from './correlations';
import type { CorrelationRow } from './summary';

const hessian: AnalysisResult = {
  result: {
    topEigenvalues: [4, 2],
    trace: { value: 9, stderr: 0.1 },
    effectiveDimensionRelative: { value: 3, stderr: 0 },
    logDetRelative: { value: 1.5, stderr: 0 },
    nearZeroModes: { value: 10, stderr: 0 },
    // the hessian analysis' headline: what is fit to quote (here everything)
    headline: {
      topEigenvalues: [{ value: 4 }, { value: 2 }],
      trace: { value: 9, stderr: 0.1 },
      effectiveDimensionRelative: { value: 3, stderr: 0 },
      logDetRelative: { value: 1.5, stderr: 0 },
      nearZeroModes: { value: 10, stderr: 0 },
      excluded: [],
    },
  },
  provenance: { analysis: 'hessian', seed: 1, backend: 'cpu' },
};

testPlugin(correlations, { options: { resamples: 200 }, badOptions: { resamples: 1 } });
testPlugin(correlations, { title: 'analysis correlations conforms after a hessian result', options: { resamples: 200 }, context: { previous: { hessian } } });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('correlations.run', () => {
  it("records the complexity read from earlier results and the run's own outcomes (AUC on a binary task)", async () => {
    const task = blobsTask({ binary: true, perClass: 40, seed: 3 });
    task.splits['ood-shift'] = { ...task.splits.test, x: task.splits.test.x.map((v) => v + 0.5) };
    const { model, params } = await trainedPluginModel(mlp, task, { hidden: [8] }, { epochs: 5 });
    try {
      const robustness: AnalysisResult = { result: { headline: { pgdDrop: 0.25 } }, provenance: { analysis: 'robustness', seed: 1, backend: 'cpu' } };
      const ctx = createAnalysisContext({ task, model, params, seed: 4, backend: 'cpu', analysis: 'correlations', progress: silentProgress, previous: { hessian, robustness } });
      const opts = correlations.options.parse({ outcomes: { robustness: 'robustness.result.headline.pgdDrop', distillation: 'distillation.result.efficiency' } });
      const out = await correlations.run(ctx, opts);
      const row = out.result as unknown as CorrelationRow;
      expect(row.metric).toBe('auc');
      expect(row.complexity).toEqual({ lambdaMax: 4, trace: 9, effectiveDimension: 3, logDet: 1.5, nearZeroModes: 10 });
      const auc = (name: string) => scoreArrays('binary', predictSplit(model, params, task.splits[name]), task.splits[name].y, 1).auc;
      expect(row.outcomes['test.auc']).toBeCloseTo(auc('test'), 12);
      expect(row.outcomes['ood-shift.auc']).toBeCloseTo(auc('ood-shift'), 12);
      expect(row.outcomes['gap.auc']).toBeCloseTo(auc('train') - auc('test'), 12);
      expect(row.outcomes.robustness).toBe(0.25);
      expect(row.outcomes.distillation).toBeNull();
      expect(row.notes).toEqual([expect.stringMatching(/^outcome distillation: distillation\.result\.efficiency: no analysis "distillation" ran before this one \(ran: hessian, robustness\)/)]);
      expect(out.provenance).toMatchObject({ analysis: 'correlations', seed: 4, performance: { metric: 'auc', examples: { train: 80, test: 80, 'ood-shift': 80 } }, previous: ['hessian', 'robustness'] });
      await expectNoLeaks(() => correlations.run(ctx, opts), 2);
      // the declared headline: the row's own outcomes (AUC on fixed examples: exact, with a note) and the measures read
      expect(headlineIssues(out.headline)).toEqual([]);
      expect(out.headline!.map((h) => h.key)).toEqual(['test.auc', 'gap.auc', 'ood-shift.auc', 'measuresRead']);
      expect(out.headline![0]).toMatchObject({ value: row.outcomes['test.auc'], exact: true, better: 'higher' });
      expect(out.headline![1]).toMatchObject({ value: row.outcomes['gap.auc'], exact: true, better: 'lower' });
      expect(out.headline![2].value).toBe(row.outcomes['ood-shift.auc']);
      expect(out.headline![3]).toMatchObject({ value: 5, exact: true });
    } finally {
      disposeParams(params);
    }
  }, 120_000);

  it('declares an accuracy and its gap with binomial stderrs over the scored examples', async () => {
    const task = blobsTask({ classes: 3, perClass: 30, seed: 2 });
    const { model, params } = await trainedPluginModel(mlp, task, { hidden: [8] }, { epochs: 5 });
    try {
      const ctx = createAnalysisContext({ task, model, params, seed: 4, backend: 'cpu', analysis: 'correlations', progress: silentProgress, previous: {} });
      const out = await correlations.run(ctx, correlations.options.parse({}));
      const row = out.result as unknown as CorrelationRow;
      expect(headlineIssues(out.headline)).toEqual([]);
      const h = Object.fromEntries(out.headline!.map((x) => [x.key, x]));
      const test = row.outcomes['test.accuracy']!;
      const train = test + row.outcomes['gap.accuracy']!;
      const n = task.splits.test.n;
      const m = task.splits.train.n;
      expect(h['test.accuracy'].value).toBe(test);
      expect(h['test.accuracy'].stderr).toBeCloseTo(Math.sqrt((test * (1 - test)) / n), 12);
      expect(h['gap.accuracy'].value).toBe(row.outcomes['gap.accuracy']);
      expect(h['gap.accuracy'].stderr).toBeCloseTo(Math.sqrt((test * (1 - test)) / n + (train * (1 - train)) / m), 10);
      // no earlier analyses: none of the default measures resolves, and the note names them
      expect(h.measuresRead).toMatchObject({ value: 0, note: expect.stringMatching(/^missing: lambdaMax/) });
    } finally {
      disposeParams(params);
    }
  }, 120_000);

  it('a number the hessian left out of its headline (unreliable SLQ count, unconverged bound) is missing, with a note', async () => {
    const task = blobsTask({ perClass: 20, seed: 2 });
    const { model, params } = await trainedPluginModel(mlp, task, { hidden: [4] }, { epochs: 2 });
    try {
      const full = hessian.result as Record<string, Json>;
      const { nearZeroModes: _dropped, ...kept } = full.headline as Record<string, Json>;
      const flagged: AnalysisResult = {
        ...hessian,
        result: { ...full, headline: { ...kept, excluded: [{ field: 'nearZeroModes', reason: 'quadrature bracket 900 wider than 0.25 × |value|' }] } },
      };
      const ctx = createAnalysisContext({ task, model, params, seed: 1, backend: 'cpu', analysis: 'correlations', progress: silentProgress, previous: { hessian: flagged } });
      const row = (await correlations.run(ctx, correlations.options.parse({ performance: false }))).result as unknown as CorrelationRow & { notes: string[] };
      expect(row.complexity.nearZeroModes).toBeNull();
      expect(row.complexity.lambdaMax).toBe(4);
      expect(row.notes.some((n) => n.includes('nearZeroModes'))).toBe(true);
    } finally {
      disposeParams(params);
    }
  }, 120_000);

  it('the gap is test − train for MSE (larger is worse), and performance: false skips scoring', async () => {
    const task = blobsTask({ perClass: 20, seed: 1 });
    const { model, params } = await trainedPluginModel(mlp, task, { hidden: [4] }, { epochs: 2 });
    try {
      const ctx = createAnalysisContext({ task: { ...task, outputKind: 'regression' }, model, params, seed: 1, backend: 'cpu', analysis: 'correlations', progress: silentProgress });
      const row = (await correlations.run(ctx, correlations.options.parse({ complexity: {} }))).result as unknown as CorrelationRow;
      const mse = (name: string) => scoreArrays('regression', predictSplit(model, params, task.splits[name]), task.splits[name].y, 3).mse;
      expect(row.metric).toBe('mse');
      expect(row.outcomes['gap.mse']).toBeCloseTo(mse('test') - mse('train'), 10);
      const none = (await correlations.run(ctx, correlations.options.parse({ performance: false }))).result as unknown as CorrelationRow;
      expect(none.outcomes).toEqual({});
      expect(none.metric).toBeNull();
      expect(none.complexity.lambdaMax).toBeNull();
    } finally {
      disposeParams(params);
    }
  }, 120_000);
});
