import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeParams, initBackend, lossFunction, paramsToArray, Rng } from '@goldstone/core';
import type { LossName, ModelInstance, OptimizerStateEntry, ParamSpec, Split, TaskInstance } from '@goldstone/plugin-api';
import { replicaIssues, replicaLosses, trainReplicas } from './replicas';
import { train, type MetricRow, type TrainConfig, type TrainOptions, type TrainResult } from './trainer';

const D = 3;
const H = 5;
const K = 2;

/** Regression data whose inputs and targets depend on the seed (as a task's data may). */
function makeSplit(n: number, rng: Rng): Split {
  const x = rng.normalArray(n * D);
  const y = new Float32Array(n * K);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) y[i * K + k] = Math.sin(x[i * D] + k) + 0.5 * x[i * D + 1] * x[i * D + 2] + 0.05 * rng.normal();
  return { n, x, y, xShape: [D], yShape: [K] };
}

function makeTask(seed: number, loss: LossName = 'mse'): TaskInstance {
  const rng = new Rng(seed).split('task');
  const splits = { train: makeSplit(86, rng.split('train')), test: makeSplit(30, rng.split('test')) };
  if (loss === 'softmax-cross-entropy') {
    // one-hot targets: the larger of the two regression targets
    for (const s of Object.values(splits)) for (let i = 0; i < s.n; i++) {
      const c = s.y[i * K] > s.y[i * K + 1] ? 0 : 1;
      s.y[i * K] = c === 0 ? 1 : 0;
      s.y[i * K + 1] = c;
    }
  }
  return {
    inputShape: [D],
    outputSize: K,
    outputKind: loss === 'mse' ? 'regression' : 'classification',
    loss,
    splits,
    metrics(pred, y) {
      return tf.tidy(() => ({ mae: (tf.mean(tf.abs(tf.sub(pred, y))).dataSync() as Float32Array)[0] }));
    },
  };
}

const specs: ParamSpec[] = [
  { name: 'w0', shape: [D, H] },
  { name: 'b0', shape: [H] },
  { name: 'w1', shape: [H, K] },
  { name: 'b1', shape: [K] },
];

/** A one-hidden-layer tanh network with its stacked-replica forward (batched matMul). */
const model: ModelInstance = {
  specs,
  paramCount: D * H + H + H * K + K,
  init(rng) {
    return {
      w0: tf.tensor(rng.split('w0').normalArray(D * H, 0.5), [D, H]),
      b0: tf.tensor(rng.split('b0').normalArray(H, 0.1), [H]),
      w1: tf.tensor(rng.split('w1').normalArray(H * K, 0.5), [H, K]),
      b1: tf.zeros([K]),
    };
  },
  apply(p, x) {
    return tf.tidy(() => tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(x as tf.Tensor2D, p.w0 as tf.Tensor2D), p.b0)), p.w1 as tf.Tensor2D), p.b1));
  },
  applyReplicas(p, x) {
    return tf.tidy(() => {
      const R = x.shape[0];
      const h = tf.tanh(tf.add(tf.matMul(x as tf.Tensor3D, p.w0 as tf.Tensor3D), tf.reshape(p.b0, [R, 1, H])));
      return tf.add(tf.matMul(h, p.w1 as tf.Tensor3D), tf.reshape(p.b1, [R, 1, K]));
    });
  },
  groups: { hidden: ['w0', 'b0'], out: ['w1', 'b1'] },
};

interface Record_ {
  rows: MetricRow[];
  checkpoints: { epoch: number; step: number; params: number[]; state: OptimizerStateEntry[] }[];
}

/** The options `train()` would get for seed `seed` and base lr `lr`, recording what it reports. */
function runOptions(seed: number, lr: number, config: TrainConfig, loss: LossName = 'mse'): { opts: TrainOptions; rec: Record_ } {
  const rec: Record_ = { rows: [], checkpoints: [] };
  const opts: TrainOptions = {
    model,
    task: makeTask(seed, loss),
    params: model.init(new Rng(seed).split('init')),
    config: { ...config, optimizer: { ...config.optimizer, lr } },
    rng: new Rng(seed).split('train'),
    onMetrics: (row) => void rec.rows.push({ ...row }),
    onCheckpoint: (params, info, state) => void rec.checkpoints.push({ ...info, params: Array.from(paramsToArray(params, specs)), state }),
  };
  return { opts, rec };
}

/** Largest |a − b| over equal-shaped numeric structures (strings and keys must match exactly; `time` is skipped). */
function largestDiff(a: unknown, b: unknown, path = ''): number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) && Number.isNaN(b)) return 0;
    if (a === b) return 0;
    return Math.abs(a - b);
  }
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) return largestDiff(Array.from(a as Float32Array), Array.from(b as Float32Array), path);
  if (Array.isArray(a) && Array.isArray(b)) {
    expect(a.length, path).toBe(b.length);
    return a.reduce((m: number, x, i) => Math.max(m, largestDiff(x, b[i], `${path}[${i}]`)), 0);
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).filter((k) => k !== 'time').sort();
    expect(ka, path).toEqual(Object.keys(b).filter((k) => k !== 'time').sort());
    return ka.reduce((m, k) => Math.max(m, largestDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`)), 0);
  }
  expect(a, path).toEqual(b);
  return 0;
}

function summary(r: TrainResult): unknown {
  return { params: Array.from(paramsToArray(r.params, specs)), status: r.status, epochs: r.epochs, steps: r.steps, lastGoodEpoch: r.lastGoodEpoch, final: r.final, message: r.message ?? null };
}

/** R lone runs and the same R runs as replicas; returns the largest difference anywhere. */
async function compare(seeds: number[], lrs: number[], config: TrainConfig, loss: LossName = 'mse'): Promise<{ diff: number; replicas: TrainResult[] }> {
  const lone: unknown[] = [];
  const loneRec: Record_[] = [];
  for (let r = 0; r < seeds.length; r++) {
    const { opts, rec } = runOptions(seeds[r], lrs[r], config, loss);
    const res = await train(opts);
    lone.push(summary(res));
    loneRec.push(rec);
    disposeParams(res.params);
  }
  const runs = seeds.map((s, r) => runOptions(s, lrs[r], config, loss));
  const before = tf.memory().numTensors;
  const replicas = await trainReplicas(runs.map((r) => r.opts));
  const got = replicas.map(summary);
  for (const r of replicas) disposeParams(r.params);
  // the inputs' parameters were handed over (4 per run) and everything else is freed
  expect(tf.memory().numTensors).toBe(before - 4 * seeds.length);
  const diff = Math.max(largestDiff(got, lone), largestDiff(runs.map((r) => r.rec), loneRec));
  // the same rows at the same steps, and the same checkpoints
  runs.forEach((r, i) => {
    expect(r.rec.rows.map((x) => `${x.kind}:${x.step}`)).toEqual(loneRec[i].rows.map((x) => `${x.kind}:${x.step}`));
    expect(r.rec.checkpoints.map((c) => c.epoch)).toEqual(loneRec[i].checkpoints.map((c) => c.epoch));
  });
  return { diff, replicas };
}

const SEEDS = [1, 2, 3, 4];
const LRS = [0.01, 0.02, 0.005, 0.03];
const CONFIG: TrainConfig = {
  optimizer: { name: 'adam', lr: 0 },
  schedule: { kind: 'cosine', warmupEpochs: 1 },
  epochs: 4,
  batchSize: 16, // 86 examples: the last batch of each epoch has 6
  logEvery: 3,
  evalEvery: 2,
  checkpointEvery: 3,
  groups: { out: { weightDecay: 0.01 } },
};

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`trainReplicas on ${backend}`, () => {
    beforeAll(async () => {
      if (backend === 'wasm') await initBackend('wasm');
      else await tf.setBackend('cpu');
    });
    afterAll(async () => {
      await tf.setBackend('cpu');
    });

    it('gives each of 4 replicas (seeds and lrs differ) what 4 separate train() calls give: params, rows, checkpoints', async () => {
      const { diff } = await compare(SEEDS, LRS, CONFIG);
      // largest |difference| over final params, every metrics row, checkpoint params and optimiser
      // state, and final metrics: 0 on cpu and on wasm (bit-identical) when measured; the bound is float32 round-off
      expect(diff).toBeLessThan(1e-5);
    }, 120_000);

    it('also with sgd + nesterov momentum and softmax cross-entropy', async () => {
      const { diff } = await compare(SEEDS, [0.1, 0.3, 0.05, 0.2], { optimizer: { name: 'sgd', lr: 0, momentum: 0.9, nesterov: true }, epochs: 3, batchSize: 20, logEvery: 2 }, 'softmax-cross-entropy');
      expect(diff).toBeLessThan(1e-5);
    }, 120_000);

    it('marks a replica that diverges as train() does and lets the others go on', async () => {
      const { diff, replicas } = await compare(SEEDS, [0.05, 1e6, 0.1, 0.02], { optimizer: { name: 'sgd', lr: 0 }, epochs: 3, batchSize: 16, logEvery: 4 });
      expect(diff).toBeLessThan(1e-5);
      expect(replicas.map((r) => r.status)).toEqual(['completed', 'diverged', 'completed', 'completed']);
      expect(replicas[1].message).toMatch(/^training diverged (at step|by the end of epoch)/);
    }, 120_000);
  });
}

describe('trainReplicas refusals and losses', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('states every reason it cannot vectorise, before touching the parameters', async () => {
    const base = () => SEEDS.slice(0, 2).map((s) => runOptions(s, 0.01, CONFIG).opts);
    const cases: [string, (runs: TrainOptions[]) => TrainOptions[], RegExp][] = [
      ['hooks', (r) => [{ ...r[0], hooks: [{}] }, r[1]], /run 0 has train hooks/],
      ['penalty', (r) => [r[0], { ...r[1], penalty: () => tf.scalar(0) }], /run 1 has a penalty/],
      ['loss', (r) => [{ ...r[0], lossFunction: lossFunction('mse') }, r[1]], /custom loss function/],
      ['resume', (r) => [r[0], { ...r[1], startEpoch: 1 }], /run 1 resumes/],
      ['config', (r) => [r[0], { ...r[1], config: { ...r[1].config, batchSize: 8 } }], /run 1 differs from run 0 in its training configuration beyond optimizer\.lr/],
      ['data', (r) => [r[0], { ...r[1], task: { ...r[1].task, splits: { ...r[1].task.splits, train: makeSplit(40, new Rng(9)) } } }], /run 1 has a train split of 40/],
      ['model', (r) => r.map((o) => ({ ...o, model: { ...model, applyReplicas: undefined, info: { architecture: 'toy 3-5-2' } } })), /toy 3-5-2 has no applyReplicas/],
      ['none', () => [], /no runs/],
    ];
    for (const [, change, message] of cases) {
      const runs = base();
      const changed = change(runs);
      expect(replicaIssues(changed).join('; ')).toMatch(message);
      const before = tf.memory().numTensors;
      await expect(trainReplicas(changed)).rejects.toThrow(message);
      expect(tf.memory().numTensors).toBe(before);
      for (const r of runs) disposeParams(r.params);
    }
    const ok = base();
    expect(replicaIssues(ok)).toEqual([]);
    for (const r of ok) disposeParams(r.params);
  });

  it('replicaLosses are each replica’s core loss', () => {
    const rng = new Rng(5);
    const R = 3;
    const B = 7;
    const pred = tf.tensor(rng.normalArray(R * B * K), [R, B, K]);
    const cases: [LossName, tf.Tensor, tf.Tensor][] = [
      ['mse', pred, tf.tensor(rng.normalArray(R * B * K), [R, B, K])],
      ['softmax-cross-entropy', pred, tf.tidy(() => tf.cast(tf.reshape(tf.oneHot(tf.tensor1d(Array.from({ length: R * B }, (_, i) => i % K), 'int32'), K), [R, B, K]), 'float32'))],
      ['binary-cross-entropy', tf.slice(pred, [0, 0, 0], [R, B, 1]), tf.tensor(Array.from({ length: R * B }, (_, i) => i % 2), [R, B, 1])],
    ];
    for (const [name, p, y] of cases) {
      const got = tf.tidy(() => Array.from(replicaLosses(name, p, y).dataSync()));
      const want = tf.tidy(() => Array.from({ length: R }, (_, r) => lossFunction(name)(tf.squeeze(tf.slice(p, r, 1), [0]), tf.squeeze(tf.slice(y, r, 1), [0])).dataSync()[0]));
      expect(Math.max(...got.map((g, r) => Math.abs(g - want[r])))).toBeLessThan(1e-6);
    }
    tf.dispose([pred, ...cases.flatMap((c) => [c[1], c[2]])]);
  });
});
