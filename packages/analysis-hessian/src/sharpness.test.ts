import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, cloneParams, createAnalysisContext, disposeParams } from '@goldstone/core';
import { curvatureOperator, exactSpectrum } from '@goldstone/curvature';
import { mlp } from '@goldstone/models';
import { expectNoLeaks, testPlugin, toyRegressionTask } from '@goldstone/testkit';
import { createOptimizer, train, type OptimizerConfig } from '@goldstone/trainer';
import type { ModelInstance, Params, TaskInstance, TrainHooks } from '@goldstone/plugin-api';
import { sharpness, sharpnessOptions, stabilityThreshold } from './sharpness';
import { BudgetPacer } from './sharpness-recorder';

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
  const out = (await sharpness.run(ctx, options)) as { result: any; provenance: any; figures?: any[] };
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
      for (const p of kept.values()) disposeParams(p);
    }
    // ±2 sem of 12 Rademacher probes: nominally ~93 % (t with 11 d.o.f.)
    expect(covered / cases).toBeGreaterThanOrEqual(0.75);
    console.log(`trace ±2 sem covered the dense trace in ${covered} of ${cases} recorded steps`);
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
    console.log(`λ_max products over ${cold.length} measurements: cold ${pc}, warm ${pw} (mean warm ${runs.true.cost.lambdaMax.meanProductsWarm})`);
    expect(pw).toBeLessThan(pc);
  }, 300_000);
});
