import * as tf from '@tensorflow/tfjs-core';
import { batchIndices, splitTensors, lossFunction, cloneParams, disposeParams, primaryMetric, yieldToEventLoop } from '@goldstone/core';
import type { LossName, OptimizerStateEntry, Params, ModelInstance, Progress, TaskInstance, Rng, TrainHooks, TrainStatus } from '@goldstone/plugin-api';
import { createOptimizer, type Optimizer, type OptimizerConfig, type ParamGroup } from './optim';
import { lrFactor, type ScheduleConfig } from './schedule';

export interface TrainConfig {
  optimizer: OptimizerConfig;
  /** Learning-rate schedule (default constant). */
  schedule?: ScheduleConfig;
  epochs: number;
  batchSize: number;
  /** Per parameter group, keyed by the model's `groups` names: absolute base lr and weight decay. */
  groups?: Record<string, { lr?: number; weightDecay?: number }>;
  /** Evaluate every this many epochs (default 1; the last epoch is always evaluated). */
  evalEvery?: number;
  /** Report a step row every this many steps (default 10). */
  logEvery?: number;
  /** Checkpoint every this many epochs (default 1; the last epoch is always checkpointed). */
  checkpointEvery?: number;
}



/** A row written every `logEvery` steps; `epoch` is fractional (epochs done, counting this step). */
export interface StepRow {
  kind: 'step';
  step: number;
  epoch: number;
  loss: number;
  lr: number;
}

/**
 * A row written every `evalEvery` epochs: `epoch` completed epochs, `time` seconds since training
 * started, `lr` the base lr at the epoch's last step, and `'<split>.loss'`, `'<split>.<metric>'` for
 * every split of the task (train, test and the out-of-distribution ones).
 */
export interface EpochRow {
  kind: 'epoch';
  epoch: number;
  step: number;
  time: number;
  lr: number;
  [metric: string]: number | string;
}

export type MetricRow = StepRow | EpochRow;

export type Penalty = (params: Params, x: tf.Tensor, y: tf.Tensor) => tf.Scalar;

/** A loss of predictions against a batch's targets (mean over the batch), differentiable. */
export type LossFunction = (pred: tf.Tensor, y: tf.Tensor) => tf.Scalar;

export type TrainStep = (params: Params, x: tf.Tensor, y: tf.Tensor, lrScale?: number) => { params: Params; loss: number };

/**
 * One forward + backward + update: returns the new parameters (the old ones are disposed) and the
 * batch loss *before* the update (including `penalty`, when given).
 */
export function createTrainStep(model: ModelInstance, loss: LossName | LossFunction, optimizer: Optimizer, penalty?: Penalty): TrainStep {
  const lossFn = typeof loss === 'function' ? loss : lossFunction(loss);
  const names = model.specs.map((s) => s.name);
  // a first-order step: the model's fused fast path, when it has one, is valid here
  const forward = (p: Params, x: tf.Tensor): tf.Tensor => (model.applyFirstOrder ? model.applyFirstOrder(p, x) : model.apply(p, x));
  return (params, x, y, lrScale = 1) => {
    const { value, grads } = tf.tidy(() => {
      const f = (...ts: tf.Tensor[]): tf.Scalar => {
        const p: Params = {};
        names.forEach((n, i) => (p[n] = ts[i]));
        const base = lossFn(forward(p, x), y);
        return penalty ? (tf.add(base, penalty(p, x, y)) as tf.Scalar) : base;
      };
      const r = tf.valueAndGrads(f)(names.map((n) => {
        const t = params[n];
        if (!t) throw new Error(`train step: missing parameter "${n}"`);
        return t;
      }));
      return { value: r.value, grads: r.grads };
    });
    const g: Params = {};
    names.forEach((n, i) => (g[n] = grads[i]));
    let next: Params;
    try {
      next = optimizer.step(params, g, lrScale);
    } finally {
      disposeParams(g);
    }
    const lossValue = (value.dataSync() as Float32Array)[0];
    value.dispose();
    return { params: next, loss: lossValue };
  };
}

/** Whether every parameter value is finite (one reduction and one read-back). */
export function paramsFinite(params: Params): boolean {
  const ts = Object.values(params);
  if (ts.length === 0) return true;
  const probe = tf.tidy(() => tf.addN(ts.map((t) => tf.sum(tf.mul(t, 0)))));
  const v = (probe.dataSync() as Float32Array)[0];
  probe.dispose();
  return Number.isFinite(v);
}

/** The task's split names in report order: train, test, then the others as declared. */
function splitOrder(task: TaskInstance): string[] {
  const rest = Object.keys(task.splits).filter((k) => k !== 'train' && k !== 'test');
  return ['train', 'test', ...rest].filter((k) => task.splits[k] !== undefined);
}

/**
 * Loss and task metrics of `params` on whole splits (default: all of the task's), as flat
 * `'<split>.loss'` and `'<split>.<metric>'`. Predictions are made `batchSize` examples at a time
 * (default 1024) and the loss and metrics computed once over the whole split, so metrics that are
 * not batch means (R², correlations) come out right. Empty splits are skipped.
 */
export function evaluate(
  model: ModelInstance,
  task: TaskInstance,
  params: Params,
  splitNames?: string[],
  options: { batchSize?: number; lossFunction?: LossFunction } = {},
): Record<string, number> {
  const batchSize = options.batchSize ?? 1024;
  const lossFn = options.lossFunction ?? lossFunction(task.loss);
  const out: Record<string, number> = {};
  for (const name of splitNames ?? splitOrder(task)) {
    const split = task.splits[name];
    if (!split) throw new Error(`evaluate: the task has no split "${name}" (it has: ${Object.keys(task.splits).join(', ')})`);
    if (split.n === 0) continue;
    const preds: tf.Tensor[] = [];
    let y: tf.Tensor | undefined;
    let pred: tf.Tensor | undefined;
    try {
      for (let start = 0; start < split.n; start += batchSize) {
        const idx = new Int32Array(Math.min(batchSize, split.n - start));
        for (let i = 0; i < idx.length; i++) idx[i] = start + i;
        const batch = splitTensors(split, idx);
        batch.y.dispose();
        preds.push(tf.tidy(() => model.apply(params, batch.x)));
        batch.x.dispose();
      }
      pred = preds.length === 1 ? preds[0] : tf.concat(preds);
      y = tf.tensor(split.y, [split.n, ...split.yShape], 'float32');
      const metrics = task.metrics(pred, y);
      for (const [k, v] of Object.entries(metrics)) out[`${name}.${k}`] = v;
      const l = tf.tidy(() => lossFn(pred!, y!));
      out[`${name}.loss`] = (l.dataSync() as Float32Array)[0];
      l.dispose();
    } finally {
      for (const p of preds) p.dispose();
      if (pred && preds.length !== 1) pred.dispose();
      y?.dispose();
    }
  }
  return out;
}

export interface TrainOptions {
  model: ModelInstance;
  task: TaskInstance;
  /** Initial parameters; ownership passes to `train`. */
  params: Params;
  config: TrainConfig;
  /** The only source of data order (epoch `e` shuffles with `rng.split('epoch:e')`). */
  rng: Rng;
  hooks?: TrainHooks[];
  progress?: Progress;
  onMetrics?(row: MetricRow): void | Promise<void>;
  /** Called with finite parameters only, every `checkpointEvery` epochs and after the last one. */
  onCheckpoint?(params: Params, info: { epoch: number; step: number }, optimizerState: OptimizerStateEntry[]): void | Promise<void>;
  /** Epochs already done (resume): training runs epochs `startEpoch … epochs − 1`. */
  startEpoch?: number;
  /** Optimiser state to resume from (as given to `onCheckpoint`). */
  optimizerState?: OptimizerStateEntry[];
  /** An extra differentiable loss term added to every batch loss (e.g. a soft-symmetry penalty). */
  penalty?: Penalty;
  /**
   * The loss to train and evaluate with instead of the task's (`task.loss`), for targets the task's
   * loss does not read (distillation's labels beside the teacher's soft targets).
   */
  lossFunction?: LossFunction;
}

export interface TrainResult {
  /** Final parameters (the caller owns them); after divergence, those of the last good epoch end. */
  params: Params;
  status: TrainStatus;
  /** Epochs completed (counting `startEpoch`); after divergence, those up to the last good state. */
  epochs: number;
  /** Updates taken (counting those before `startEpoch`), including a diverging one. */
  steps: number;
  lastGoodEpoch: number;
  /** `evaluate` of the returned parameters on every split. */
  final: Record<string, number>;
  message?: string;
}

/** The optimiser's parameter groups from `config.groups` (by the model's group names). */
export function resolveGroups(model: ModelInstance, groups: TrainConfig['groups']): ParamGroup[] {
  if (!groups) return [];
  return Object.entries(groups).map(([name, g]) => {
    const params = model.groups?.[name];
    if (!params) {
      const known = Object.keys(model.groups ?? {}).join(', ') || 'none';
      throw new Error(`train.groups.${name}: the model has no parameter group "${name}" (it has: ${known})`);
    }
    return { name, params, lr: g.lr, weightDecay: g.weightDecay };
  });
}

function positiveInt(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${field}: expected a positive integer, got ${value}`);
  return value;
}

/**
 * Train `model` on `task`'s train split with mini-batch gradient descent. Stops at once on a
 * non-finite loss (or non-finite parameters at an epoch end) with status `'diverged'`, returning
 * the parameters of the last good epoch end. Same `rng` seed → identical results.
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { model, task, config, rng } = opts;
  const hooks = opts.hooks ?? [];
  const epochs = positiveInt(config.epochs, 'train.epochs');
  const batchSize = positiveInt(config.batchSize, 'train.batchSize');
  const evalEvery = positiveInt(config.evalEvery ?? 1, 'train.evalEvery');
  const logEvery = positiveInt(config.logEvery ?? 10, 'train.logEvery');
  const checkpointEvery = positiveInt(config.checkpointEvery ?? 1, 'train.checkpointEvery');
  const startEpoch = opts.startEpoch ?? 0;
  if (!Number.isInteger(startEpoch) || startEpoch < 0 || startEpoch > epochs) {
    throw new RangeError(`train: startEpoch must be an integer in 0..${epochs}, got ${startEpoch}`);
  }
  const split = task.splits.train;
  if (!split || split.n === 0) throw new Error('train: the task has an empty train split');

  let params = opts.params;
  let lastGood: Params | undefined;
  const optimizer = createOptimizer(config.optimizer, model.specs, resolveGroups(model, config.groups));
  try {
    if (opts.optimizerState) optimizer.setState(opts.optimizerState);
    const trainStep = createTrainStep(model, opts.lossFunction ?? task.loss, optimizer, opts.penalty);
    const batchesPerEpoch = Math.ceil(split.n / batchSize);
    const baseLr = config.optimizer.lr;
    let step = startEpoch * batchesPerEpoch;
    let lastGoodEpoch = startEpoch;
    let lr = baseLr * lrFactor(config.schedule, startEpoch, epochs);
    const t0 = performance.now();
    const progress = opts.progress;

    lastGood = cloneParams(params);
    for (const h of hooks) await h.onStart?.({ params, model, task });
    progress?.start('train', (epochs - startEpoch) * batchesPerEpoch);
    /** The held-out metric shown beside the progress: the last evaluated one (test split, primary metric). */
    let heldOut: Record<string, number> = {};

    let diverged: string | undefined;
    outer: for (let epoch = startEpoch; epoch < epochs; epoch++) {
      const batches = batchIndices(split.n, batchSize, rng.split(`epoch:${epoch}`));
      for (let b = 0; b < batches.length; b++) {
        const epochFloat = epoch + (b + 1) / batches.length;
        const factor = lrFactor(config.schedule, epochFloat, epochs);
        lr = baseLr * factor;
        const { x, y } = splitTensors(split, batches[b]);
        let loss: number;
        try {
          ({ params, loss } = trainStep(params, x, y, factor));
        } finally {
          x.dispose();
          y.dispose();
        }
        step += 1;
        if (!Number.isFinite(loss)) {
          diverged = `training diverged at step ${step} (epoch ${epoch + 1}, batch ${b + 1}): loss is ${loss}`;
          // the step that diverged is always logged (its loss becomes null in JSON), whatever logEvery says
          await opts.onMetrics?.({ kind: 'step', step, epoch: epochFloat, loss, lr });
          break outer;
        }
        progress?.tick(1, { epoch: `${epoch + 1}/${epochs}`, loss: Number(loss.toPrecision(4)), ...heldOut });
        for (const h of hooks) await h.onStep?.({ step, epoch, params, loss });
        if (step % logEvery === 0) await opts.onMetrics?.({ kind: 'step', step, epoch: epochFloat, loss, lr });
        // let a Ctrl-C through between steps even when nothing is written (no store, a long logEvery)
        await yieldToEventLoop();
      }

      const done = epoch + 1;
      if (!paramsFinite(params)) {
        diverged = `training diverged by the end of epoch ${done} (step ${step}): parameters are not finite`;
        break;
      }
      disposeParams(lastGood);
      lastGood = cloneParams(params);
      lastGoodEpoch = done;

      const isLast = done === epochs;
      let metrics: Record<string, number> = {};
      if (done % evalEvery === 0 || isLast) {
        metrics = evaluate(model, task, params, undefined, { batchSize: Math.max(batchSize, 1024), lossFunction: opts.lossFunction });
        heldOut = heldOutMetric(task, metrics);
        const row: EpochRow = { kind: 'epoch', epoch: done, step, time: (performance.now() - t0) / 1000, ...metrics, lr };
        await opts.onMetrics?.(row);
      }
      for (const h of hooks) await h.onEpochEnd?.({ epoch: done, step, params, metrics });
      if (opts.onCheckpoint && (done % checkpointEvery === 0 || isLast)) {
        await opts.onCheckpoint(params, { epoch: done, step }, optimizer.getState());
      }
    }
    progress?.stop();

    let status: TrainStatus = 'completed';
    if (diverged !== undefined) {
      status = 'diverged';
      disposeParams(params);
      params = lastGood;
      lastGood = undefined;
      progress?.log(diverged);
    }
    const final = evaluate(model, task, params, undefined, { lossFunction: opts.lossFunction });
    for (const h of hooks) await h.onEnd?.({ params, status });
    const result: TrainResult = {
      params,
      status,
      epochs: status === 'completed' ? epochs : lastGoodEpoch,
      steps: step,
      lastGoodEpoch,
      final,
    };
    if (diverged !== undefined) result.message = diverged;
    return result;
  } catch (err) {
    disposeParams(params);
    throw err;
  } finally {
    if (lastGood) disposeParams(lastGood);
    optimizer.dispose();
  }
}

/**
 * The held-out number progress shows: the test split's primary metric for the task's output kind
 * (`test.mse`, `test.accuracy`, `test.auc`), or its loss where the task does not report that metric.
 */
export function heldOutMetric(task: Pick<TaskInstance, 'outputKind'>, metrics: Record<string, number>): Record<string, number> {
  for (const key of [`test.${primaryMetric(task.outputKind)}`, 'test.loss']) {
    const v = metrics[key];
    if (typeof v === 'number' && Number.isFinite(v)) return { [key]: Number(v.toPrecision(4)) };
  }
  return {};
}
