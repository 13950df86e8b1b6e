import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, createAnalysisContext, paramsFromArray, paramsToArray, disposeParams } from '@goldstone/core';
import { headlineIssues, silentProgress, type ModelInstance, type Params, type TaskInstance } from '@goldstone/plugin-api';
import { train } from '@goldstone/trainer';
import { mlp, mlpOptions } from '@goldstone/models';
import { testPlugin, toyRegressionTask } from '@goldstone/testkit';
import { planWindows, stabilisedWindow, varianceFlatness, varianceFlatnessOptions, withRunSettings } from './variance-flatness';
import { defaultSubset, recordingFor } from './recorder';
import type { PsiFits } from './analyze';

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

/** Every parameter at every step (an independent record, to check the window means against). */
type FullTrace = Map<number, Float32Array>;

async function trainedSetting(
  seed: number,
  opts: Record<string, unknown> = options,
  spy?: (step: number, model: ModelInstance) => void,
): Promise<{ task: TaskInstance; model: ModelInstance; params: Params; steps: number; trace: FullTrace }> {
  const rng = new Rng(seed);
  const task = await toyRegressionTask.create({ inputs: 4, outputs: 2, trainSize: 64, testSize: 16, noise: 0.3 }, { rng: rng.split('task') });
  const model = mlp.create(mlpOptions.parse({ hidden: [6, 6], activation: 'tanh' }), { inputShape: task.inputShape, outputSize: task.outputSize, outputKind: task.outputKind });
  const hooks = varianceFlatness.trainHooks!(varianceFlatnessOptions.parse(opts), { model, task, rng: rng.split('hooks') });
  const trace: FullTrace = new Map();
  const out = await train({
    model,
    task,
    params: model.init(rng.split('init')),
    rng: rng.split('train'),
    config: { optimizer: { name: 'sgd', lr: 0.05 }, epochs: 8, batchSize: 8 },
    hooks: [hooks, { onStep: ({ step, params }) => { trace.set(step, paramsToArray(params, model.specs)); spy?.(step, model); } }],
  });
  return { task, model, params: out.params, steps: out.steps, trace };
}

/** Mean of every parameter over the given steps of a trace. */
function traceMean(trace: FullTrace, steps: number[]): Float32Array {
  const n = trace.get(steps[0])!.length;
  const acc = new Float64Array(n);
  for (const s of steps) trace.get(s)!.forEach((v, j) => (acc[j] += v));
  return Float32Array.from(acc, (v) => v / steps.length);
}

/** The full-training-set loss at a flat parameter vector. */
function lossAtFlat(ctx: ReturnType<typeof createAnalysisContext>, task: TaskInstance, model: ModelInstance, flat: Float32Array): number {
  const p = paramsFromArray(flat, model.specs);
  const x = tf.tensor(task.splits.train.x, [64, 4]);
  const y = tf.tensor(task.splits.train.y, [64, 2]);
  const l = ctx.loss(p, x, y);
  const v = l.dataSync()[0];
  tf.dispose([x, y, l]);
  disposeParams(p);
  return v;
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
    expect(rec.windows).toHaveLength(1);
    const w = rec.windows[0];
    expect([w.firstStep, w.lastStep, w.count, w.closed]).toEqual([41, 64, 24, true]);
    // a closed window keeps its PCA, not its snapshots
    expect(w.snapshots).toEqual([]);
    expect(w.pca!.snapshots).toBe(24);
    expect(Array.from(w.last!)).toEqual(Array.from(params['dense1.weight'].dataSync()));
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
    // L0 is the full-training-set loss with EVERY parameter at its window mean (not only the recorded
    // subset): check against a direct evaluation at the mean of an independent trace of all parameters.
    const steps = Array.from({ length: 24 }, (_, i) => 41 + i);
    const allMean = traceMean(setting.trace, steps);
    expect(res.L0).toBeCloseTo(lossAtFlat(ctx, task, model, allMean), 5);
    // and it differs from centring the subset only, the other layers at their final values
    const subsetOnly = paramsToArray(params, model.specs);
    const offset = 4 * 6 + 6; // dense0.weight, dense0.bias
    subsetOnly.set(allMean.subarray(offset, offset + 36), offset);
    expect(Math.abs(res.L0 - lossAtFlat(ctx, task, model, subsetOnly))).toBeGreaterThan(1e-6);
    expect(r.provenance.center).toMatch(/^mean: every parameter/);
    expect(res.fits.ols.value).toBeCloseTo(res.psi.value, 12);
    for (const e of ['ols', 'reverse', 'rma']) expect(res.fits[e].ci[0]).toBeLessThanOrEqual(res.fits[e].ci[1]);
    for (const c of res.components) {
      if (c.flatness !== null) expect(c.flatness).toBeCloseTo(c.right - c.left, 12);
      else expect(c.note).toBeTruthy();
    }
    expect(r.figures!.map((f) => f.name)).toEqual(['variance-vs-flatness', 'psi-convergence', 'psi-vs-pcs', 'rank-variance', 'loss-profiles']);
    expect(r.provenance.lossEvaluations).toBeGreaterThan(10);
    // the declared headline: the reported window's ψ by each fit with its bootstrap interval over
    // PCs (whose coverage fit.test.ts measures), r², γ with its slope stderr, the top-K fraction
    expect(headlineIssues(r.headline)).toEqual([]);
    const h = Object.fromEntries(r.headline!.map((x) => [x.key, x]));
    expect(r.headline!.map((x) => x.key)).toEqual(['psi', 'psiRma', 'psiReverse', 'r2', 'gamma', 'topVariance']);
    for (const [key, fit] of [['psi', 'ols'], ['psiRma', 'rma'], ['psiReverse', 'reverse']]) {
      expect(h[key].value).toBe(res.fits[fit].value);
      expect(h[key].level).toBe(res.fits.level);
      const [lo, hi] = res.fits[fit].ci;
      if (lo <= res.fits[fit].value && res.fits[fit].value <= hi) expect(h[key].interval).toEqual([lo, hi]);
      else expect(h[key].note).toMatch(/widened/);
    }
    expect(h.r2).toMatchObject({ value: res.fits.r2, exact: true });
    expect(h.gamma).toMatchObject({ value: res.gamma.value, stderr: res.gamma.stdErr });
    expect(h.topVariance).toMatchObject({ value: res.fractions.top, exact: true });
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

  it('center: final puts every parameter at its value at the window\'s last snapshot', async () => {
    const { task, model, params } = setting;
    const ctx = createAnalysisContext({ task, model, params, seed: 4, backend: 'cpu', analysis: 'variance-flatness', progress: silentProgress });
    const r = await varianceFlatness.run(ctx, { ...options, center: 'final' });
    const res = r.result as Record<string, any>;
    expect(res.L0).toBeCloseTo(lossAtFlat(ctx, task, model, paramsToArray(params, model.specs)), 5);
    expect(r.provenance.center).toMatch(/^final:/);
  });
});

describe('windows placed in learning time t = α·steps', () => {
  it('plans the steps of each window from lr, windowLength and windowEnds', () => {
    const plan = planWindows(varianceFlatnessOptions.parse({ lr: 0.05, windowLength: 0.5, windowEnds: [3.2, 1.5] }));
    expect(plan.mode).toBe('learning-time');
    // length 0.5/0.05 = 10 steps; ends at steps 1.5/0.05 = 30 and 3.2/0.05 = 64, in increasing order
    expect(plan.windows.map((w) => w.spec)).toEqual([
      { kind: 'steps', fromStep: 21, toStep: 30, endTime: 1.5, length: 0.5 },
      { kind: 'steps', fromStep: 55, toStep: 64, endTime: 3.2, length: 0.5 },
    ]);
    expect(plan.main).toBe(1);
    // windowEnd picks the reported window and joins the scan
    const p2 = planWindows(varianceFlatnessOptions.parse({ lr: 0.1, windowLength: 1, windowEnds: [2, 4], windowEnd: 3 }));
    expect(p2.windows.map((w) => w.endTime)).toEqual([2, 3, 4]);
    expect(p2.main).toBe(1);
    // the same learning time at twice the rate is half the steps
    const fast = planWindows(varianceFlatnessOptions.parse({ lr: 0.1, windowLength: 0.5, windowEnds: [3.2] })).windows[0].spec;
    expect(fast).toMatchObject({ fromStep: 28, toStep: 32 });
    expect(planWindows(varianceFlatnessOptions.parse({})).windows[0].spec).toEqual({ kind: 'trailing', epochs: 10 });
  });

  it("without lr and an end, the run's train.lr places the window and it ends with the training", () => {
    // 64 examples in batches of 8 for 8 epochs: 64 steps, t = 0.05 · 64 = 3.2 at the end
    const run = { lr: 0.05, epochs: 8, batchSize: 8, trainN: 64 };
    const implicit = withRunSettings(varianceFlatnessOptions.parse({ windowLength: 0.5 }), run);
    expect(implicit).toMatchObject({ lr: 0.05, windowEnd: 3.2 });
    expect(planWindows(implicit)).toEqual(planWindows(varianceFlatnessOptions.parse({ lr: 0.05, windowLength: 0.5, windowEnd: 3.2 })));
    // given values stay (the check reports an lr that differs from the run's); scans keep their ends
    expect(withRunSettings(varianceFlatnessOptions.parse({ lr: 0.1, windowLength: 0.5, windowEnds: [1, 2] }), run)).toMatchObject({ lr: 0.1, windowEnds: [1, 2] });
    expect(withRunSettings(varianceFlatnessOptions.parse({ windowLength: 0.5, windowEnds: [1, 2] }), run).windowEnd).toBeUndefined();
    // epoch windows are untouched
    expect(withRunSettings(varianceFlatnessOptions.parse({ windowEpochs: 3 }), run)).toEqual(varianceFlatnessOptions.parse({ windowEpochs: 3 }));
  });

  it('records each window at its steps, holds snapshots only while a window is in flight, and reports the scan', async () => {
    const seen: { step: number; held: number[] }[] = [];
    const opts = { ...options, windowEpochs: undefined, lr: 0.05, windowLength: 0.5, windowEnds: [1.5, 2.4, 3.2] };
    const s = await trainedSetting(6, opts, (step, model) => {
      if (step === 35 || step === 50 || step === 60) seen.push({ step, held: recordingFor(model)!.windows.map((w) => w.snapshots.length) });
    });
    const rec = recordingFor(s.model)!;
    expect(rec.windows.map((w) => [w.firstStep, w.lastStep, w.count])).toEqual([
      [21, 30, 10],
      [39, 48, 10],
      [55, 64, 10],
    ]);
    // at step 35 the first window is closed (no snapshots) and the second has not begun; at 60 only the third holds any
    expect(seen).toEqual([
      { step: 35, held: [0, 0, 0] },
      { step: 50, held: [0, 0, 0] },
      { step: 60, held: [0, 0, 6] },
    ]);
    const ctx = createAnalysisContext({ task: s.task, model: s.model, params: s.params, seed: 6, backend: 'cpu', analysis: 'variance-flatness', progress: silentProgress });
    const r = await varianceFlatness.run(ctx, opts);
    const res = r.result as Record<string, any>;
    expect(res.windows.map((w: any) => [w.fromTime, w.endTime, w.snapshots])).toEqual([
      [1, 1.5, 10],
      [1.9, 2.4, 10],
      [2.7, 3.2, 10],
    ]);
    expect(res.window).toMatchObject({ firstStep: 55, lastStep: 64, endTime: 3.2, placement: 'learning-time' });
    expect(res.setting).toMatchObject({ lr: 0.05, trainSize: 64, endTime: 3.2 });
    // each window is centred at its own all-layer mean
    expect(res.windows[0].L0).toBeCloseTo(lossAtFlat(ctx, s.task, s.model, traceMean(s.trace, Array.from({ length: 10 }, (_, i) => 21 + i))), 5);
    expect(res.convergence.rule).toMatch(/successive windows/);
    expect(res.convergence.windows).toBe(3);
  });

  it('the stabilisation rule: the earliest window from which successive estimates sit in each other\'s intervals', () => {
    const f = (v: number, h: number): { fits: PsiFits } => ({ fits: Object.fromEntries(['ols', 'reverse', 'rma'].map((e) => [e, { value: v, ci: [v - h, v + h], intercept: 0 }])) as unknown as PsiFits });
    expect(stabilisedWindow([f(1, 0.1), f(2, 0.3), f(2.2, 0.3), f(2.1, 0.3)])).toBe(1);
    expect(stabilisedWindow([f(1, 0.1), f(2, 0.3), f(3, 0.3)])).toBeNull();
    expect(stabilisedWindow([f(2, 0.1)])).toBeNull();
    expect(stabilisedWindow([{ fits: null }, f(2, 0.3), f(2.1, 0.3)])).toBe(1);
  });
});

describe('variance-flatness summary', () => {
  const mk = (ols: number, rma: number, rev: number, setting: Record<string, unknown>) => ({
    result: {
      fits: { ols: { value: ols, ci: [ols - 1, ols + 1] }, reverse: { value: rev, ci: [rev - 1, rev + 1] }, rma: { value: rma, ci: [rma - 1, rma + 1] }, r2: 0.6 },
      psi: { value: ols, ci: [ols - 1, ols + 1] },
      setting,
      gamma: { value: 2 },
      fractions: { top: 0.8 },
    },
    provenance: { analysis: 'variance-flatness', seed: 1, backend: 'cpu' },
  });
  const pubSetting = { lr: 0.1, batchSize: 50, trainSize: 9000, endTime: 900 };

  it('groups by part and setting, with a bootstrap interval over seeds per fit, the learning time and a verdict', () => {
    const results = [
      ...[2.3, 2.5, 2.4, 2.6, 2.2].map((v, i) => ({ run: `p${i}`, part: 'alpha-b', settings: { seed: i + 1, 'train.lr': 0.1, 'train.batchSize': 50 }, result: mk(v, v + 0.7, v + 1.6, pubSetting) })),
      ...[3.0, 3.2, 3.1, 3.3, 2.9].map((v, i) => ({ run: `q${i}`, part: 'alpha-b', settings: { seed: i + 1, 'train.lr': 0.2, 'train.batchSize': 50 }, result: mk(v, v + 0.5, v + 1, { ...pubSetting, lr: 0.2 }) })),
      ...[1.5, 1.7, 1.6, 1.4, 1.8].map((v, i) => ({ run: `t${i}`, part: 'train-size', settings: { seed: i + 1, 'task.options.trainSize': 2250 }, result: mk(v, v + 1, v + 2, { ...pubSetting, trainSize: 2250 }) })),
    ];
    const out = varianceFlatness.summarize!(results as never, options);
    const res = out.result as any;
    expect(res.groups).toHaveLength(3);
    const pub = res.groups[0];
    expect(pub).toMatchObject({ part: 'alpha-b', seeds: 5, lr: 0.1, batchSize: 50, noiseScale: 0.002, trainSize: 9000, learningTime: 900 });
    expect(pub.psi.ols.mean).toBeCloseTo(2.4, 12);
    expect(pub.psi.ols.ci[0]).toBeGreaterThanOrEqual(2.2);
    expect(pub.psi.ols.ci[1]).toBeLessThanOrEqual(2.6);
    expect(pub.psi.ols.ci[0]).toBeLessThan(2.4);
    expect(pub.psi.reverse.mean).toBeCloseTo(4.0, 12);
    // deterministic
    expect((varianceFlatness.summarize!(results as never, options).result as any).groups[0].psi.ols.ci).toEqual(pub.psi.ols.ci);
    const [sign, four, ab, ts] = res.claims;
    expect(sign.verdict).toBe('reproduced');
    // only the reverse fit's interval over seeds covers 4
    expect(four.verdict).toBe('partly');
    expect(four.reason).toMatch(/only the reverse interval covers 4/);
    expect(ab.verdict).toBe('not reproduced');
    // the trainSize scan includes the published point at 9,000 digits (same t): ψ rises with the set
    expect(ts.verdict).toBe('partly');
    expect(ts.reason).toMatch(/^2250: .*; 9000: /);
    expect(out.figures!.map((f) => f.name)).toEqual(['psi-vs-noise-scale', 'psi-vs-train-size']);
    // the reference line ψ = 4 is inside the ψ axis and the points carry their numbers
    const spec = JSON.stringify(out.figures![0].spec);
    expect(spec).toContain('"published":4');
    expect(spec).toContain('"type":"text"');
    const domain = (out.figures![1].spec as any).layer[1].encoding.y.scale.domain;
    expect(domain[0]).toBeLessThanOrEqual(4);
    expect(domain[1]).toBeGreaterThan(4);
  });

  it('no published setting: the verdict is not measured; runs with only a legacy psi still count', () => {
    const out = varianceFlatness.summarize!([{ run: 'a', settings: { seed: 1, 'train.lr': 0.3 }, result: { result: { psi: { value: 3, ci: [2, 4] } }, provenance: { analysis: 'variance-flatness', seed: 1, backend: 'cpu' } } }], options);
    const res = out.result as any;
    expect(res.groups[0].psi.ols.mean).toBe(3);
    expect(res.claims.map((c: any) => c.verdict)).toEqual(['not measured', 'not measured']);
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
