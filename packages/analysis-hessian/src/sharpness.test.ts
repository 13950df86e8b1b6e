import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, cloneParams, createAnalysisContext, disposeParams } from '@goldstone/core';
import { curvatureOperator, exactSpectrum } from '@goldstone/curvature';
import { mlp } from '@goldstone/models';
import { expectNoLeaks, testPlugin, toyRegressionTask } from '@goldstone/testkit';
import { createOptimizer, train, type OptimizerConfig } from '@goldstone/trainer';
import { headlineIssues, type HeadlineNumber, type ModelInstance, type Params, type TaskInstance, type TrainHooks } from '@goldstone/plugin-api';
import { sharpness, sharpnessOptions, sharpnessSettings, stabilityThreshold } from './sharpness';
import { BudgetPacer, recordSharpness } from './sharpness-recorder';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function toySetting(seed: number, opts: { hidden?: number[]; trainSize?: number } = {}) {
  const rng = new Rng(seed);
  const task = await toyRegressionTask.create(toyRegressionTask.options.parse({ trainSize: opts.trainSize ?? 32, inputs: 3, outputs: 1 }), { rng: rng.split('task') });
  const model = mlp.create(mlp.options.parse({ hidden: opts.hidden ?? [6], activation: 'tanh' }), { inputShape: task.inputShape, outputSize: task.outputSize, outputKind: task.outputKind });
  return { task, model, rng };
}

/** Train with the sharpness hooks (and optionally another hook after them); the caller disposes the returned params. */
async function trainWith(
  s: { task: TaskInstance; model: ModelInstance; rng: Rng },
  raw: Record<string, unknown>,
  t: { optimizer: OptimizerConfig; epochs: number; batchSize: number },
  extra: TrainHooks[] = [],
) {
  const options = sharpnessOptions.parse(raw);
  const hooks = sharpness.trainHooks!(options, { model: s.model, task: s.task, rng: s.rng.split('hooks'), train: { epochs: t.epochs, batchSize: t.batchSize, optimizer: t.optimizer.name, lr: t.optimizer.lr } });
  const r = await train({ model: s.model, task: s.task, params: s.model.init(s.rng.split('init')), rng: s.rng.split('train'), config: { optimizer: t.optimizer, epochs: t.epochs, batchSize: t.batchSize }, hooks: [hooks, ...extra] });
  const ctx = createAnalysisContext({ task: s.task, model: s.model, params: r.params, seed: 3, backend: 'cpu', analysis: 'sharpness' });
  const out = (await sharpness.run(ctx, options)) as { result: any; headline: HeadlineNumber[]; provenance: any; figures?: any[] };
  return { out, params: r.params, status: r.status };
}

/** A hook that keeps copies of the parameters at the steps the analysis measures (budget off). */
function keeper(every: number) {
  const kept = new Map<number, Params>();
  const hook: TrainHooks = {
    onStart: ({ params }) => void kept.set(0, cloneParams(params)),
    onStep: ({ step, params }) => {
      if (step % every === 0) kept.set(step, cloneParams(params));
    },
  };
  return { kept, hook };
}

async function denseAt(s: { task: TaskInstance; model: ModelInstance }, params: Params) {
  const split = s.task.splits.train;
  const x = tf.tensor(split.x, [split.n, ...split.xShape]);
  const y = tf.tensor(split.y, [split.n, ...split.yShape]);
  const op = curvatureOperator({ model: s.model, loss: s.task.loss, params, data: { x, y } });
  try {
    const { matrix, eigen } = await exactSpectrum(op);
    let trace = 0;
    for (let i = 0; i < matrix.n; i++) trace += matrix.values[i * matrix.n + i];
    return { lambdaMax: eigen.values[eigen.values.length - 1], trace };
  } finally {
    op.dispose();
    tf.dispose([x, y]);
  }
}

const SGD = (lr: number): OptimizerConfig => ({ name: 'sgd', lr });

describe('sharpness against the dense Hessian', () => {
  it('λ_max matches the dense top eigenvalue at every recorded step, and the trace error bars cover the dense trace', async () => {
    let covered = 0;
    let cases = 0;
    for (const seed of [1, 2, 3]) {
      const s = await toySetting(seed);
      const { kept, hook } = keeper(5);
      const { out, params } = await trainWith(s, { every: 5, maxExamples: 64, budget: null, tol: 1e-5, probes: 12 }, { optimizer: SGD(0.05), epochs: 30, batchSize: 32 }, [hook]);
      disposeParams(params);
      const series = out.result.series as any[];
      expect(series.map((r) => r.step)).toEqual([...kept.keys()]);
      for (const r of series) {
        const d = await denseAt(s, kept.get(r.step)!);
        expect(Math.abs(r.lambdaMax - d.lambdaMax)).toBeLessThan(1e-3 * Math.abs(d.lambdaMax) + 1e-6);
        cases++;
        if (Math.abs(r.trace - d.trace) <= 2 * r.traceStderr) covered++;
      }
      // the declared headline: the last step's λ_max (exact) and trace (its Hutchinson stderr),
      // the peak and the ratios to 2/η, each the result's own number
      expect(headlineIssues(out.headline)).toEqual([]);
      const h = Object.fromEntries(out.headline.map((x) => [x.key, x]));
      const last = series[series.length - 1];
      expect(h.lambdaMaxLast).toMatchObject({ value: last.lambdaMax, exact: true });
      expect(h.lambdaMaxPeak.value).toBe(out.result.summary.lambdaMaxPeak);
      expect(h.lastOverThreshold.value).toBe(out.result.summary.lastOverThreshold);
      expect(h.peakOverThreshold.value).toBe(out.result.summary.peakOverThreshold);
      expect(h.traceLast).toMatchObject({ value: last.trace, stderr: last.traceStderr });
      const dLast = await denseAt(s, kept.get(last.step)!);
      expect(Math.abs(h.lambdaMaxLast.value! - dLast.lambdaMax)).toBeLessThan(1e-3 * Math.abs(dLast.lambdaMax) + 1e-6);
      expect(Math.abs(h.traceLast.value! - dLast.trace)).toBeLessThan(4 * h.traceLast.stderr!);
      for (const p of kept.values()) disposeParams(p);
    }
    // ±2 sem of 12 Rademacher probes: nominally ~93 % (t with 11 d.o.f.); here 18 of the 21 steps
    expect(covered / cases).toBeGreaterThanOrEqual(0.75);
  }, 300_000);
});

describe('warm start', () => {
  it('gives the same λ_max as a cold start, with fewer products', async () => {
    const runs: Record<string, any> = {};
    for (const warmStart of [false, true]) {
      const s = await toySetting(4, { hidden: [10] });
      const { out, params } = await trainWith(s, { every: 4, maxExamples: 64, budget: null, probes: 0, warmStart, tol: 1e-4 }, { optimizer: SGD(0.05), epochs: 40, batchSize: 32 });
      disposeParams(params);
      runs[String(warmStart)] = out.result;
    }
    const cold = runs.false.series as any[];
    const warm = runs.true.series as any[];
    expect(warm.map((r) => r.step)).toEqual(cold.map((r) => r.step));
    warm.forEach((r, i) => expect(Math.abs(r.lambdaMax - cold[i].lambdaMax)).toBeLessThan(1e-3 * Math.abs(cold[i].lambdaMax)));
    const pc = runs.false.cost.lambdaMax.products;
    const pw = runs.true.cost.lambdaMax.products;
    // 11 measurements on the cpu backend: cold 89 products (8.1 each), warm 62 (the first cold,
    // then 5.4 each): 30 % fewer; tol 1e-4, warmNoise 0.05
    expect(runs.true.cost.lambdaMax.meanProductsWarm).toBeLessThan(runs.false.cost.lambdaMax.meanProducts);
    expect(pw).toBeLessThanOrEqual(0.8 * pc);
  }, 300_000);
});

describe('edge of stability', () => {
  it('plain full-batch GD at a large lr: λ_max comes down to 2/η and hovers near it', async () => {
    // Seen here (toy MLP 3-16-1 tanh, 32 examples, lr 0.5, 400 steps): λ_max·η/2 = 1.82 at the
    // start (above the threshold: the first steps catapult), 0.91 by step 20, then it rises and
    // oscillates in 0.94–1.05 for the rest of training while the loss keeps falling.
    const s = await toySetting(1, { hidden: [16] });
    const { out, params, status } = await trainWith(s, { every: 20, maxExamples: 64, budget: null, probes: 0 }, { optimizer: SGD(0.5), epochs: 400, batchSize: 32 });
    disposeParams(params);
    expect(status).toBe('completed');
    const series = out.result.series as any[];
    expect(series[0].threshold).toBeCloseTo(4, 10);
    const late = series.filter((r) => r.step >= 100).map((r) => r.lambdaMax / r.threshold);
    expect(late.length).toBeGreaterThan(10);
    for (const ratio of late) {
      expect(ratio).toBeGreaterThan(0.8);
      expect(ratio).toBeLessThan(1.25);
    }
    expect(out.result.threshold.rule).toBe('2/η');
    expect(out.result.summary.lastOverThreshold).toBeGreaterThan(0.8);
  }, 300_000);
});

describe('stability thresholds', () => {
  /** |w| after 300 steps of the trainer's optimiser on h·w²/2 from w = 1. */
  function runQuadratic(config: OptimizerConfig, h: number): number {
    const opt = createOptimizer(config, [{ name: 'w', shape: [1] }]);
    let p: Params = { w: tf.tensor1d([1]) };
    for (let i = 0; i < 300; i++) {
      const g = { w: tf.mul(p.w, h) };
      p = opt.step(p, g);
      g.w.dispose();
    }
    const w = Math.abs(p.w.dataSync()[0]);
    disposeParams(p);
    opt.dispose();
    return w;
  }

  it.each([
    { name: 'sgd', lr: 0.1 },
    { name: 'sgd', lr: 0.1, momentum: 0.9 },
    { name: 'sgd', lr: 0.1, momentum: 0.5, nesterov: true },
  ] as OptimizerConfig[])('the trainer\'s %o is stable just below the threshold and diverges just above it', (config) => {
    const th = stabilityThreshold({ optimizer: config.name, momentum: config.momentum ?? 0, nesterov: config.nesterov ?? false, beta1: 0.9 });
    const h = th.factor! / config.lr;
    expect(runQuadratic(config, 0.95 * h)).toBeLessThan(1);
    const above = runQuadratic(config, 1.05 * h);
    expect(Number.isFinite(above) ? above : Infinity).toBeGreaterThan(10); // NaN/∞: overflowed
  });

  it('says that adam has no 2/η threshold on H', () => {
    const th = stabilityThreshold({ optimizer: 'adam', momentum: 0, nesterov: false, beta1: 0.9 });
    expect(th.factor).toBeNull();
    expect(th.note).toMatch(/no 2\/η threshold/);
    expect(th.note).toMatch(/\(2\+2β₁\)\/\(\(1−β₁\)η\)/);
  });
});

describe('budget', () => {
  it('the pacer takes the first measurement, then only what keeps spent + predicted within limit × training time', () => {
    // a fake clock: each step trains 0.1 s, each measurement costs 1 s (2 s every fifth one: an
    // under-prediction the pacer absorbs, since it predicts the larger of the last and the mean cost)
    const pacer = new BudgetPacer(0.1);
    const taken: number[] = [];
    for (let step = 0; step <= 2000; step++) {
      if (step > 0) pacer.addTraining(0.1);
      if (pacer.admit()) {
        // admitted (after the first): what was spent plus the prediction fits the allowance so far
        if (taken.length > 0) expect(pacer.spentSeconds + pacer.predicted()).toBeLessThanOrEqual(0.1 * pacer.trainSeconds + 1e-9);
        taken.push(step);
        pacer.addCost(taken.length % 5 === 0 ? 2 : 1);
      }
    }
    expect(taken[0]).toBe(0);
    expect(taken[1]).toBe(200); // 1 s spent + 1 s predicted ≤ 0.1 × 20 s
    const a = pacer.account();
    expect(a.due).toBe(2001);
    expect(a.measured + a.skipped).toBe(a.due);
    expect(a.spentSeconds / a.trainSeconds).toBeLessThanOrEqual(0.1);
    expect(a.measured).toBeGreaterThan(10);
    const unlimited = new BudgetPacer(null);
    for (let i = 0; i < 10; i++) {
      expect(unlimited.admit()).toBe(true);
      unlimited.addCost(5);
    }
  });

  it('the hooks thin their schedule to the budget on a fake clock, and the result states the fraction spent', async () => {
    const s = await toySetting(5);
    let clock = 0;
    // measurement work advances the fake clock: 0.25 s per forward pass of the model
    const slow: ModelInstance = { ...s.model, curvatureProducts: undefined, apply: (p, x) => ((clock += 0.25), s.model.apply(p, x)) };
    const options = sharpnessOptions.parse({ every: 1, maxExamples: 32, probes: 4, budget: 0.1 });
    // the recorder reads the fake clock
    const fakeHooks = recordSharpness(slow, s.task, sharpnessSettings(options), { rng: s.rng.split('hooks'), train: { epochs: 300, batchSize: 32, optimizer: 'sgd', lr: 0.05 }, now: () => clock });
    const params = s.model.init(s.rng.split('init'));
    await fakeHooks.onStart!({ params, model: slow, task: s.task });
    for (let step = 1; step <= 300; step++) {
      clock += 1; // one training step: 1 s
      await fakeHooks.onStep!({ step, epoch: step - 1, params, loss: 0 });
    }
    await fakeHooks.onEnd!({ params, status: 'completed' });
    const ctx = createAnalysisContext({ task: s.task, model: slow, params, seed: 3, backend: 'cpu', analysis: 'sharpness' });
    const out = (await sharpness.run(ctx, options)) as { result: any };
    disposeParams(params);
    const b = out.result.budget;
    expect(b.trainSeconds).toBe(300);
    expect(b.due).toBe(301);
    expect(b.skipped).toBeGreaterThan(200);
    expect(b.measured).toBe(out.result.series.length);
    expect(b.measured).toBeGreaterThanOrEqual(3);
    expect(b.fraction).toBeCloseTo(b.spentSeconds / 300, 12);
    expect(b.fraction).toBeLessThanOrEqual(0.1);
    expect(b.withinBudget).toBe(true);
    // the cost of each measurement is what the fake clock says it took
    const spent = (out.result.series as any[]).reduce((t, r) => t + r.cost.lambdaMax.seconds + r.cost.trace.seconds, 0);
    expect(spent).toBeCloseTo(b.spentSeconds, 9);
  }, 120_000);
});

describe('sharpness plugin', () => {
  it('power iteration agrees with Lanczos on a positive-definite case, and costs more products', async () => {
    const res: Record<string, any> = {};
    for (const method of ['lanczos', 'power']) {
      const s = await toySetting(6);
      const { out, params } = await trainWith(s, { every: 10, maxExamples: 64, budget: null, probes: 0, method, tol: 1e-5, maxSteps: 2000 }, { optimizer: SGD(0.05), epochs: 30, batchSize: 32 });
      disposeParams(params);
      res[method] = out.result;
    }
    res.power.series.forEach((r: any, i: number) => {
      if (r.converged) expect(Math.abs(r.lambdaMax - res.lanczos.series[i].lambdaMax)).toBeLessThan(1e-3 * res.lanczos.series[i].lambdaMax);
    });
    expect(res.power.series.some((r: any) => r.converged)).toBe(true);
    expect(res.power.cost.lambdaMax.products).toBeGreaterThan(res.lanczos.cost.lambdaMax.products);
  }, 300_000);

  it('refuses to run without a recording, and leaks no tensors while recording', async () => {
    const s = await toySetting(7);
    const params = s.model.init(s.rng.split('init'));
    const ctx = createAnalysisContext({ task: s.task, model: s.model, params, seed: 3, backend: 'cpu', analysis: 'sharpness' });
    await expect(sharpness.run(ctx, sharpnessOptions.parse({}))).rejects.toThrow(/train hooks.*goldstone run/);
    disposeParams(params);
    await expectNoLeaks(async () => {
      const { params: p } = await trainWith(s, { every: 3, maxExamples: 16, budget: null, probes: 3 }, { optimizer: SGD(0.05), epochs: 6, batchSize: 16 });
      disposeParams(p);
    }, 2);
  }, 120_000);

  it('rejects one probe and names the figures', async () => {
    expect(sharpnessOptions.safeParse({ probes: 1 }).success).toBe(false);
    const s = await toySetting(8);
    const { out, params } = await trainWith(s, { every: 5, maxExamples: 32, budget: null }, { optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9 }, epochs: 10, batchSize: 16 });
    disposeParams(params);
    expect(out.figures!.map((f: any) => f.name)).toEqual(['sharpness-lambda-max', 'sharpness-trace']);
    // no run.json here: the hooks' plan (no momentum known) is what the threshold comes from, and it says so
    expect(out.result.train.source).toMatch(/train plan/);
    expect(out.result.series[1].epoch).toBeCloseTo(2.5, 12);
  }, 120_000);
});

// the conformance suite, on a model trained with the hooks
const conformance = await (async () => {
  await tf.setBackend('cpu');
  const s = await toySetting(9);
  const options = { every: 5, maxExamples: 32, probes: 4, budget: null };
  const { params } = await trainWith(s, options, { optimizer: SGD(0.05), epochs: 10, batchSize: 32 });
  return { ...s, params, options };
})();

testPlugin(sharpness, {
  options: conformance.options,
  badOptions: { every: 0 },
  context: { task: conformance.task, model: conformance.model, params: conformance.params },
  seed: 3,
});
