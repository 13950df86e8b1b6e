import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Split, Params, ParamSpec, ModelInstance, TaskInstance, TrainHooks } from '@goldstone/plugin-api';
import { createOptimizer } from './optim';
import { cloneParams, disposeParams, paramsToArray, Rng } from '@goldstone/core';
import { createTrainStep, evaluate, paramsFinite, train, type MetricRow, type Penalty, type TrainConfig } from './trainer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const D = 3;
const K = 2;
const W_TRUE = [0.5, -1, 2, 0.25, -0.75, 1.5]; // [D, K]
const B_TRUE = [0.3, -0.2];

/** y = x·W + b + small noise, x standard normal. */
function makeSplit(n: number, rng: Rng): Split {
  const x = rng.normalArray(n * D);
  const y = new Float32Array(n * K);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      let s = B_TRUE[k];
      for (let d = 0; d < D; d++) s += x[i * D + d] * W_TRUE[d * K + k];
      y[i * K + k] = s + 0.01 * rng.normal();
    }
  }
  return { n, x, y, xShape: [D], yShape: [K] };
}

function makeTask(): TaskInstance {
  const rng = new Rng(123);
  return {
    inputShape: [D],
    outputSize: K,
    outputKind: 'regression',
    loss: 'mse',
    splits: { train: makeSplit(96, rng.split('train')), test: makeSplit(40, rng.split('test')), shifted: makeSplit(10, rng.split('ood')) },
    metrics(pred, y) {
      return tf.tidy(() => ({ mae: (tf.mean(tf.abs(tf.sub(pred, y))).dataSync() as Float32Array)[0] }));
    },
  };
}

const specs: ParamSpec[] = [
  { name: 'w', shape: [D, K] },
  { name: 'b', shape: [K] },
];

const model: ModelInstance = {
  specs,
  paramCount: D * K + K,
  init(rng) {
    return { w: tf.tensor(rng.normalArray(D * K, 0.1), [D, K]), b: tf.zeros([K]) };
  },
  apply(params, x) {
    return tf.tidy(() => tf.add(tf.matMul(x, params.w), params.b));
  },
  groups: { weights: ['w'], biases: ['b'] },
};

const baseConfig: TrainConfig = { optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9 }, epochs: 4, batchSize: 16 };

async function trainArray(
  config: TrainConfig,
  seed: number,
  penalty?: Penalty,
): Promise<{ values: number[]; result: Awaited<ReturnType<typeof train>> }> {
  const result = await train({
    model,
    task: makeTask(),
    params: model.init(new Rng(seed).split('init')),
    config,
    rng: new Rng(seed).split('train'),
    penalty,
  });
  const values = Array.from(paramsToArray(result.params, specs));
  disposeParams(result.params);
  return { values, result };
}

describe('evaluate', () => {
  it('matches a dense float64 computation of loss and metrics on every split', () => {
    const task = makeTask();
    const params = model.init(new Rng(5));
    const w = Array.from(params.w.dataSync());
    const b = Array.from(params.b.dataSync());
    const got = evaluate(model, task, params, undefined, { batchSize: 7 });
    expect(Object.keys(got).sort()).toEqual(
      ['shifted.loss', 'shifted.mae', 'test.loss', 'test.mae', 'train.loss', 'train.mae'].sort(),
    );
    for (const name of ['train', 'test', 'shifted']) {
      const s = task.splits[name];
      let se = 0;
      let ae = 0;
      for (let i = 0; i < s.n; i++) {
        for (let k = 0; k < K; k++) {
          let p = b[k];
          for (let d = 0; d < D; d++) p += s.x[i * D + d] * w[d * K + k];
          se += (p - s.y[i * K + k]) ** 2;
          ae += Math.abs(p - s.y[i * K + k]);
        }
      }
      expect(got[`${name}.loss`]).toBeCloseTo(se / (s.n * K), 5);
      expect(got[`${name}.mae`]).toBeCloseTo(ae / (s.n * K), 5);
    }
    expect(evaluate(model, task, params, ['test'])).toEqual({ 'test.loss': got['test.loss'], 'test.mae': got['test.mae'] });
    expect(() => evaluate(model, task, params, ['nope'])).toThrow(/no split "nope"/);
    disposeParams(params);
  });
});

describe('createTrainStep', () => {
  it('takes the same step as the optimiser on the analytic MSE gradient, and leaks nothing over 100 steps', () => {
    const task = makeTask();
    const opt = createOptimizer({ name: 'sgd', lr: 0.1 }, specs);
    const step = createTrainStep(model, 'mse', opt);
    let params = model.init(new Rng(1));
    const s = task.splits.train;
    const x = tf.tensor(s.x, [s.n, D]);
    const y = tf.tensor(s.y, [s.n, K]);
    // one step by hand: grad_W = 2 Xᵀ(XW + b − Y)/(nK), grad_b = 2 Σ_i (XW + b − Y)_i /(nK)
    const expected = tf.tidy(() => {
      const r = tf.sub(tf.add(tf.matMul(x, params.w), params.b), y);
      const gw = tf.mul(tf.matMul(x, r, true, false), 2 / (s.n * K));
      const gb = tf.mul(tf.sum(r, 0), 2 / (s.n * K));
      return [...tf.sub(params.w, tf.mul(gw, 0.1)).dataSync(), ...tf.sub(params.b, tf.mul(gb, 0.1)).dataSync()];
    });
    const first = step(params, x, y);
    params = first.params;
    const got = Array.from(paramsToArray(params, specs));
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    const baseline = tf.memory().numTensors;
    let last = first.loss;
    for (let i = 0; i < 100; i++) ({ params, loss: last } = step(params, x, y));
    expect(tf.memory().numTensors).toBe(baseline);
    expect(last).toBeLessThan(first.loss / 10);
    disposeParams(params);
    x.dispose();
    y.dispose();
    opt.dispose();
  });
});

describe('train', () => {
  it('brings the loss down on a small regression problem', async () => {
    const task = makeTask();
    const init = model.init(new Rng(2).split('init'));
    const before = evaluate(model, task, init);
    const { result } = await trainArray({ ...baseConfig, epochs: 10, optimizer: { name: 'adam', lr: 0.2 }, schedule: { kind: 'cosine' } }, 2);
    disposeParams(init);
    expect(result.status).toBe('completed');
    expect(result.epochs).toBe(10);
    expect(result.steps).toBe(10 * 6);
    expect(result.final['train.loss']).toBeLessThan(before['train.loss'] / 50);
    expect(result.final['test.loss']).toBeLessThan(before['test.loss'] / 50);
    expect(result.final['test.loss']).toBeLessThan(0.01);
  });

  it('is deterministic per seed and depends on it', async () => {
    const a = await trainArray(baseConfig, 11);
    const b = await trainArray(baseConfig, 11);
    const c = await trainArray(baseConfig, 12);
    expect(a.values).toEqual(b.values);
    expect(a.result.final).toEqual(b.result.final);
    expect(a.values).not.toEqual(c.values);
  });

  it('leaks no tensors over 100 training steps', async () => {
    const before = tf.memory().numTensors;
    const task = makeTask();
    const result = await train({
      model,
      task,
      params: model.init(new Rng(3)),
      config: { optimizer: { name: 'adamw', lr: 0.01, weightDecay: 0.1 }, epochs: 25, batchSize: 24, logEvery: 7 },
      rng: new Rng(3),
      onCheckpoint: () => {},
      hooks: [{ onStep: () => {} }],
    });
    expect(result.steps).toBe(100);
    disposeParams(result.params);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fires hooks, metric rows and checkpoints the right number of times', async () => {
    const counts = { start: 0, step: 0, epochEnd: 0, end: 0 };
    const steps: number[] = [];
    const epochEnds: number[] = [];
    const hook: TrainHooks = {
      onStart: () => void counts.start++,
      onStep: ({ step }) => {
        counts.step++;
        steps.push(step);
      },
      onEpochEnd: async ({ epoch, metrics }) => {
        counts.epochEnd++;
        epochEnds.push(epoch);
        if (epoch % 2 === 0) expect(metrics['test.loss']).toBeGreaterThan(0);
      },
      onEnd: ({ status }) => {
        counts.end++;
        expect(status).toBe('completed');
      },
    };
    const rows: MetricRow[] = [];
    const checkpoints: number[] = [];
    const result = await train({
      model,
      task: makeTask(),
      params: model.init(new Rng(4)),
      config: { ...baseConfig, epochs: 5, batchSize: 20, logEvery: 4, evalEvery: 2, checkpointEvery: 3 },
      rng: new Rng(4),
      hooks: [hook, { onStep: () => void counts.step++ }],
      onMetrics: (row) => void rows.push(row),
      onCheckpoint: (_p, info) => void checkpoints.push(info.epoch),
    });
    disposeParams(result.params);
    // 96 examples in batches of 20: 5 batches per epoch, 25 steps
    expect(counts).toEqual({ start: 1, step: 50, epochEnd: 5, end: 1 });
    expect(steps).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(epochEnds).toEqual([1, 2, 3, 4, 5]);
    const stepRows = rows.filter((r) => r.kind === 'step');
    const epochRows = rows.filter((r) => r.kind === 'epoch');
    expect(stepRows.map((r) => r.step)).toEqual([4, 8, 12, 16, 20, 24]);
    expect(stepRows[0].epoch).toBeCloseTo(0.8, 12);
    expect(stepRows[0].lr).toBe(0.05);
    expect(epochRows.map((r) => r.epoch)).toEqual([2, 4, 5]);
    for (const key of ['train.loss', 'test.loss', 'test.mae', 'shifted.mae', 'time', 'lr', 'step']) {
      expect(typeof epochRows[0][key]).toBe('number');
    }
    expect(checkpoints).toEqual([3, 5]);
  });

  it('stops on divergence, names the step and returns the last good parameters', async () => {
    let lastCheckpoint: number[] | undefined;
    let checkpointCalls = 0;
    const ends: string[] = [];
    const result = await train({
      model,
      task: makeTask(),
      params: model.init(new Rng(6)),
      // a sane first epoch, then the step schedule multiplies the lr by 1e6
      config: { optimizer: { name: 'sgd', lr: 0.05 }, schedule: { kind: 'step', every: 1, gamma: 1e6 }, epochs: 6, batchSize: 16 },
      rng: new Rng(6),
      onCheckpoint: (params) => {
        checkpointCalls++;
        expect(paramsFinite(params)).toBe(true);
        lastCheckpoint = Array.from(paramsToArray(params, specs));
      },
      hooks: [{ onEnd: ({ status }) => void ends.push(status) }],
    });
    expect(result.status).toBe('diverged');
    expect(result.message).toMatch(/diverged at step \d+/);
    expect(ends).toEqual(['diverged']);
    expect(result.lastGoodEpoch).toBeGreaterThanOrEqual(1);
    expect(result.lastGoodEpoch).toBeLessThan(6);
    expect(result.epochs).toBe(result.lastGoodEpoch);
    expect(checkpointCalls).toBe(result.lastGoodEpoch);
    expect(result.steps).toBeGreaterThan(result.lastGoodEpoch * 6);
    expect(result.steps).toBeLessThanOrEqual((result.lastGoodEpoch + 1) * 6);
    expect(paramsFinite(result.params)).toBe(true);
    expect(Array.from(paramsToArray(result.params, specs))).toEqual(lastCheckpoint);
    expect(Number.isFinite(result.final['test.loss'])).toBe(true);
    disposeParams(result.params);
  });

  it('diverges at once with a huge lr and returns the initial parameters', async () => {
    const before = tf.memory().numTensors;
    const init = model.init(new Rng(7));
    const initValues = Array.from(paramsToArray(init, specs));
    const rows: { kind: string; step: number; loss?: number }[] = [];
    const result = await train({
      model,
      task: makeTask(),
      params: init,
      config: { ...baseConfig, optimizer: { name: 'sgd', lr: 1e12 }, logEvery: 1000 },
      rng: new Rng(7),
      onMetrics: (row) => void rows.push(row),
    });
    expect(result.status).toBe('diverged');
    expect(result.lastGoodEpoch).toBe(0);
    // the diverging step is logged though logEvery would skip it
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: 'step', step: result.steps });
    expect(Number.isFinite(rows[0].loss)).toBe(false);
    expect(Array.from(paramsToArray(result.params, specs))).toEqual(initValues);
    disposeParams(result.params);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives each model group its own lr', async () => {
    const init = model.init(new Rng(8));
    const initValues = Array.from(paramsToArray(init, specs));
    disposeParams(init);
    const { values } = await trainArray({ ...baseConfig, groups: { biases: { lr: 0 } } }, 8);
    expect(values.slice(D * K)).toEqual(initValues.slice(D * K)); // biases frozen
    expect(values.slice(0, D * K)).not.toEqual(initValues.slice(0, D * K));
    const free = await trainArray(baseConfig, 8);
    expect(free.values.slice(D * K)).not.toEqual(initValues.slice(D * K));
    await expect(trainArray({ ...baseConfig, groups: { nope: { lr: 1 } } }, 8)).rejects.toThrow(/no parameter group "nope"/);
  });

  it('resumes from a checkpoint and optimiser state to the same result as an uninterrupted run', async () => {
    const config: TrainConfig = { optimizer: { name: 'adam', lr: 0.02 }, schedule: { kind: 'cosine' }, epochs: 4, batchSize: 16 };
    const straight = await trainArray(config, 9);
    let saved: { params: Params; state: ReturnType<ReturnType<typeof createOptimizer>['getState']> } | undefined;
    const first = await train({
      model,
      task: makeTask(),
      params: model.init(new Rng(9).split('init')),
      config,
      rng: new Rng(9).split('train'),
      onCheckpoint: (params, info, state) => {
        if (info.epoch === 2) saved = { params: cloneParams(params), state };
      },
    });
    disposeParams(first.params);
    const resumed = await train({ model, task: makeTask(), params: saved!.params, config, rng: new Rng(9).split('train'), startEpoch: 2, optimizerState: saved!.state });
    expect(resumed.steps).toBe(straight.result.steps);
    expect(Array.from(paramsToArray(resumed.params, specs))).toEqual(straight.values);
    disposeParams(resumed.params);
  });

  it('adds the penalty to the loss: ½·wd·|p|² matches L2 weight decay', async () => {
    const wd = 0.5;
    const penalty = (p: Params) => tf.tidy(() => tf.mul(tf.addN(Object.values(p).map((t) => tf.sum(tf.square(t)))), wd / 2) as tf.Scalar);
    const config: TrainConfig = { ...baseConfig, optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9 } };
    const viaPenalty = await trainArray(config, 10, penalty);
    const viaDecay = await trainArray({ ...config, optimizer: { ...config.optimizer, weightDecay: wd } }, 10);
    const plain = await trainArray(config, 10);
    const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
    expect(maxDiff(viaPenalty.values, viaDecay.values)).toBeLessThan(1e-5);
    expect(maxDiff(viaPenalty.values, plain.values)).toBeGreaterThan(1e-2);
    // the logged loss includes the penalty
    expect(viaPenalty.result.final['train.loss']).toBeCloseTo(viaDecay.result.final['train.loss'], 6);
  });
});
