import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { API_VERSION, defineAnalysis, defineModel, defineTask, UsageError, type AnalysisPlugin, type ModelPlugin, type Plugin, type TaskPlugin } from '@goldstone/plugin-api';
import { Rng, flatLoss, flattenParams, hvp } from '@goldstone/core';
import { conformanceChecks, testPlugin } from './test-plugin';
import { toyLinearModel, toyMlp } from './toy-models';
import { toyRegressionTask } from './toy-task';
import { usageErrorOf } from './usage-error';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A small curvature analysis: loss, gradient norm and a Rayleigh quotient along a random direction. */
const toyCurvature = defineAnalysis({
  name: 'toy-curvature',
  apiVersion: API_VERSION,
  options: z.strictObject({ probes: z.number().int().positive().default(2) }),
  async run(ctx, opts) {
    const s = ctx.task.splits.train;
    const x = tf.tensor(s.x, [s.n, ...s.xShape]);
    const y = tf.tensor(s.y, [s.n, ...s.yShape]);
    const f = flatLoss(ctx.model, ctx.task.loss, x, y);
    const w = flattenParams(ctx.params, ctx.model.specs);
    const quotients: number[] = [];
    for (let k = 0; k < opts.probes; k++) {
      const v = tf.tensor1d(ctx.rng.rademacher(w.size));
      const hv = hvp(f, w, v);
      quotients.push(tf.tidy(() => tf.div(tf.dot(v, hv), tf.dot(v, v)).dataSync()[0]));
      tf.dispose([v, hv]);
    }
    const loss = tf.tidy(() => f(w).dataSync()[0]);
    tf.dispose([x, y, w]);
    const mean = quotients.reduce((a, q) => a + q, 0) / quotients.length;
    const sd = Math.sqrt(quotients.reduce((a, q) => a + (q - mean) ** 2, 0) / Math.max(1, quotients.length - 1));
    return {
      result: { loss, quotients },
      headline: [
        { key: 'loss', label: 'training loss', value: loss, exact: true, better: 'lower' },
        { key: 'meanQuotient', label: 'mean Rayleigh quotient (tr H / n)', value: mean, stderr: sd / Math.sqrt(quotients.length) },
      ],
      figures: [{ name: 'quotients', title: 'Rayleigh quotients', spec: { mark: 'point', data: { values: quotients.map((q, i) => ({ i, q })) } } }],
      provenance: { analysis: 'toy-curvature', seed: ctx.seed, backend: ctx.backend, estimator: 'rademacher probes', probes: opts.probes },
    };
  },
  summarize(results) {
    return { result: { runs: results.length } };
  },
});

testPlugin(toyRegressionTask, { badOptions: { inputs: 'many' } });
testPlugin(toyLinearModel, { badOptions: { bias: 'yes' } });
testPlugin(toyMlp, { badOptions: { hidden: 'wide' } });
testPlugin(toyMlp, { title: 'toy-mlp (relu, classification) conforms', options: { activation: 'relu', hidden: 5 }, modelContext: { inputShape: [2, 3], outputSize: 4, outputKind: 'classification' } });
testPlugin(toyCurvature, { badOptions: { probes: 0 } });

/** Find one check by a fragment of its name and run it. */
async function runCheck(plugin: Plugin, fragment: string, opts = {}): Promise<void> {
  const check = conformanceChecks(plugin, opts).find((c) => c.name.includes(fragment));
  if (!check) throw new Error(`no check matching "${fragment}" among ${conformanceChecks(plugin, opts).map((c) => c.name).join(' | ')}`);
  await check.run();
}

describe('the checks catch broken plugins', () => {
  it('a name that is not kebab-case, or a wrong API version', async () => {
    await expect(runCheck({ ...toyMlp, name: 'ToyMLP' } as ModelPlugin, 'kebab-case')).rejects.toThrow(/not kebab-case/);
    await expect(runCheck({ ...toyMlp, apiVersion: 0 } as ModelPlugin, 'kebab-case')).rejects.toThrow(/apiVersion is 0/);
  });

  it('a schema that accepts bad options, or rejects them without naming the field', async () => {
    const loose = { ...toyMlp, options: z.object({ hidden: z.any().default(8) }) } as ModelPlugin;
    await expect(runCheck(loose, 'rejects {"hidden"', { badOptions: { hidden: 'wide' } })).rejects.toThrow(/accepted/);
    const vague = {
      ...toyMlp,
      options: z.object({ hidden: z.number().default(8) }).refine((o) => o.hidden < 100, { message: 'too big' }),
    } as ModelPlugin;
    await expect(runCheck(vague, 'rejects {"hidden"', { badOptions: { hidden: 500 } })).rejects.toThrow(/does not name hidden/);
  });

  it('a task that draws from Math.random', async () => {
    const random = defineTask({
      ...toyRegressionTask,
      async create(o, ctx) {
        const t = await toyRegressionTask.create(o, ctx);
        t.splits.train.x[0] = Math.random();
        return t;
      },
    }) as TaskPlugin;
    await expect(runCheck(random, 'byte-identical')).rejects.toThrow(/split "train" differs/);
  });

  it('a task whose split shapes disagree with its inputShape', async () => {
    const bad = defineTask({
      ...toyRegressionTask,
      async create(o, ctx) {
        return { ...(await toyRegressionTask.create(o, ctx)), inputShape: [5] };
      },
    }) as TaskPlugin;
    await expect(runCheck(bad, 'shapes agree')).rejects.toThrow(/xShape \[4\] ≠ inputShape \[5\]/);
  });

  it('metrics that leak a tensor', async () => {
    const leaky = defineTask({
      ...toyRegressionTask,
      async create(o, ctx) {
        const t = await toyRegressionTask.create(o, ctx);
        return { ...t, metrics: (p: tf.Tensor, y: tf.Tensor) => ({ mse: tf.losses.meanSquaredError(y, p).dataSync()[0] }) };
      },
    }) as TaskPlugin;
    await expect(runCheck(leaky, 'metrics')).rejects.toThrow(/leaked tensors/);
  });

  it('a model whose paramCount is wrong, or whose init ignores the seed', async () => {
    const miscounted = defineModel({
      ...toyLinearModel,
      create(o, c) {
        return { ...toyLinearModel.create(o, c), paramCount: 1 };
      },
    }) as ModelPlugin;
    await expect(runCheck(miscounted, 'paramCount')).rejects.toThrow(/paramCount 1/);
    const fixed = defineModel({
      ...toyLinearModel,
      create(o, c) {
        const m = toyLinearModel.create(o, c);
        return { ...m, init: () => m.init(new Rng(0)) };
      },
    }) as ModelPlugin;
    await expect(runCheck(fixed, 'deterministic per seed')).rejects.toThrow(/gave the same parameters/);
  });

  it('preflight hooks that miscount: a task estimate below its data, a model estimate with the wrong paramCount, a check that rejects good options', async () => {
    const small = defineTask({ ...toyRegressionTask, estimate: () => ({ bytes: 10, field: 'trainSize' }) }) as TaskPlugin;
    await expect(runCheck(small, 'estimate (if declared)')).rejects.toThrow(/estimate says 10 bytes, but the splits alone take/);
    const elsewhere = defineTask({ ...toyRegressionTask, estimate: () => ({ bytes: 1e9, field: 'samples' }) }) as TaskPlugin;
    await expect(runCheck(elsewhere, 'estimate (if declared)')).rejects.toThrow(/field "samples" is not one of the options/);
    const miscounted = defineModel({ ...toyLinearModel, estimate: () => ({ bytes: 0, params: 7 }) }) as ModelPlugin;
    await expect(runCheck(miscounted, 'counts the parameters')).rejects.toThrow(/estimate says 7 parameters, create gives 18/);
    const picky = defineModel({ ...toyLinearModel, check: () => [{ field: 'bias', message: 'never' }] }) as ModelPlugin;
    await expect(runCheck(picky, 'counts the parameters')).rejects.toThrow(/check rejected options that create accepts: bias: never/);
    const sound = defineModel({ ...toyLinearModel, check: () => [], estimate: (_o, c) => ({ bytes: 0, params: 5 * c.outputSize + c.outputSize, field: 'bias' }) }) as ModelPlugin;
    await expect(runCheck(sound, 'counts the parameters')).resolves.toBeUndefined();
  });

  it('a model whose apply leaks', async () => {
    const leaky = defineModel({
      ...toyLinearModel,
      create(o, c) {
        const m = toyLinearModel.create(o, c);
        return { ...m, apply: (p, x) => tf.add(tf.mul(m.apply(p, x), 1), 0) };
      },
    }) as ModelPlugin;
    await expect(runCheck(leaky, 'apply maps')).rejects.toThrow(/leaked tensors/);
  });

  it('a model whose second derivative is silently lost (tf.customGrad saving a tensor)', async () => {
    // cube(x) with a hand-written gradient 3x², where x² is computed inside the forward pass: it is
    // off the tape, so the second pass sees a constant and the HVP loses the 6x term.
    const cube = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
      const x2 = tf.square(x);
      save([x2]);
      return { value: tf.mul(x2, x), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.mul(3, saved[0])) };
    }) as never) as (x: tf.Tensor) => tf.Tensor;
    const wrong = defineModel({
      ...toyMlp,
      create(o, c) {
        const m = toyMlp.create(o, c);
        return { ...m, apply: (p, x) => tf.tidy(() => cube(m.apply(p, x))) };
      },
    }) as ModelPlugin;
    await expect(runCheck(wrong, 'Hessian-vector product')).rejects.toThrow(/HVP and central differences/);
  });

  it('an analysis that returns NaN, a typed array, the wrong provenance, or depends on Math.random', async () => {
    const withResult = (result: unknown, provenance?: object): AnalysisPlugin =>
      defineAnalysis({
        ...toyCurvature,
        async run(ctx, o) {
          const r = await toyCurvature.run(ctx, o);
          return { ...r, result: result as never, provenance: { ...r.provenance, ...provenance } };
        },
      }) as AnalysisPlugin;
    await expect(runCheck(withResult({ a: [1, NaN] }), 'JSON-serialisable')).rejects.toThrow(/\$result\.a\[1\] is NaN/);
    await expect(runCheck(withResult({ a: new Float32Array(2) }), 'JSON-serialisable')).rejects.toThrow(/Float32Array/);
    await expect(runCheck(withResult({ a: undefined }), 'JSON-serialisable')).rejects.toThrow(/undefined/);
    await expect(runCheck(withResult(1, { analysis: 'other' }), 'JSON-serialisable')).rejects.toThrow(/provenance.analysis is "other"/);
    await expect(runCheck(withResult(1, { extra: () => 1 }), 'JSON-serialisable')).rejects.toThrow(/function/);
    const random = defineAnalysis({
      ...toyCurvature,
      async run(ctx, o) {
        return { ...(await toyCurvature.run(ctx, o)), result: Math.random() };
      },
    }) as AnalysisPlugin;
    await expect(runCheck(random, 'same seed')).rejects.toThrow(/different results/);
  });

  it('an analysis that leaks, or draws a figure without a spec', async () => {
    const leaky = defineAnalysis({
      ...toyCurvature,
      async run(ctx, o) {
        tf.ones([2]);
        return toyCurvature.run(ctx, o);
      },
    }) as AnalysisPlugin;
    await expect(runCheck(leaky, 'leaks no tensors')).rejects.toThrow(/leaked tensors/);
    const badFigure = defineAnalysis({
      ...toyCurvature,
      async run(ctx, o) {
        return { ...(await toyCurvature.run(ctx, o)), figures: [{ name: 'f', title: 'F', spec: undefined as never }] };
      },
    }) as AnalysisPlugin;
    await expect(runCheck(badFigure, 'figures')).rejects.toThrow(/no spec object/);
  });
});

describe('the headline check', () => {
  const withHeadline = (headline: unknown): AnalysisPlugin =>
    defineAnalysis({
      ...toyCurvature,
      async run(ctx, o) {
        const { headline: _, ...r } = await toyCurvature.run(ctx, o);
        return (headline === undefined ? r : { ...r, headline }) as never;
      },
    }) as AnalysisPlugin;

  it('passes a declared headline that keeps the contract', async () => {
    await expect(runCheck(toyCurvature, 'headline numbers')).resolves.toBeUndefined();
  });

  it('fails an analysis that declares no headline, telling the author what to return', async () => {
    await expect(runCheck(withHeadline(undefined), 'headline numbers')).rejects.toThrow(/toy-curvature declares no headline: return `headline: HeadlineNumber\[\]`/);
    await expect(runCheck(withHeadline([]), 'headline numbers')).rejects.toThrow(/the headline is empty/);
  });

  it('fails a headline that breaks the contract, naming each problem', async () => {
    const err = runCheck(withHeadline([{ key: 'a', label: 'A', value: 1 }, { key: 'b', label: 'B', value: 2, stderr: -1 }, { key: 'c', label: 'C', value: null }]), 'headline numbers');
    await expect(err).rejects.toThrow(/\[0\] \(a\): give exactly one of stderr, interval \(with level\) or exact: true, got none/);
    await expect(err).rejects.toThrow(/\[1\] \(b\): stderr must be a finite number ≥ 0, got -1/);
    await expect(err).rejects.toThrow(/\[2\] \(c\): a null value needs a note/);
  });

  it('counts a headline that changes between runs with the same seed as nondeterminism', async () => {
    const random = withHeadline(undefined);
    const flaky = defineAnalysis({
      ...random,
      async run(ctx, o) {
        return { ...(await random.run(ctx, o)), headline: [{ key: 'r', label: 'R', value: Math.random(), exact: true }] };
      },
    }) as AnalysisPlugin;
    await expect(runCheck(flaky, 'same seed')).rejects.toThrow(/different results/);
  });
});

describe('usageErrorOf', () => {
  it('returns the UsageError, and fails on success or on another error', async () => {
    const err = await usageErrorOf(Promise.reject(new UsageError('exp.yaml: x: bad', { file: 'exp.yaml', field: 'x' })));
    expect(err.field).toBe('x');
    await expect(usageErrorOf(Promise.resolve(1))).rejects.toThrow('expected a UsageError, but it succeeded');
    await expect(usageErrorOf(Promise.reject(new RangeError('boom')))).rejects.toThrow('expected a UsageError, got RangeError: boom');
  });
});
