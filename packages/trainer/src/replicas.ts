import * as tf from '@tensorflow/tfjs-core';
import { batchIndices, cloneParams, disposeParams, logSoftmax, sizeOf, softplus, yieldToEventLoop } from '@goldstone/core';
import type { LossName, ModelInstance, OptimizerStateEntry, Params, ParamSpec, Split, TrainStatus } from '@goldstone/plugin-api';
import { createOptimizer } from './optim';
import { lrFactor } from './schedule';
import { evaluate, heldOutMetric, resolveGroups, type EpochRow, type TrainOptions, type TrainResult } from './trainer';

/**
 * Vectorised seeds: R runs of one model trained as a single batched model. Each run is given as
 * the `TrainOptions` it would pass to `train()`; the runs may differ only in their task instance
 * (data drawn from its own seed), initial parameters, rng and `config.optimizer.lr`. Parameters
 * are stacked `[R, ...shape]`, every step is one `model.applyReplicas` forward and backward on a
 * `[R, B, ...]` batch (replica r's batch drawn from its own rng exactly as `train()` draws it) and
 * one replica-stacked optimiser update, so replica r follows `train(runs[r])` to float32 round-off.
 *
 * Per run, `onMetrics` and `onCheckpoint` get the same rows and calls, at the same steps, as
 * `train()` gives them, evaluation is on the run's own task, and a run whose loss (or parameters)
 * go non-finite is marked diverged with `train()`'s message and keeps its last good epoch's
 * parameters while the others go on (replicas do not interact). Progress is reported on the first
 * run's `progress`. Returns one `TrainResult` per run, in order.
 *
 * Not supported (refused by `replicaIssues`): train hooks, a penalty, a custom loss function,
 * resuming (`startEpoch`, `optimizerState`: a vectorised group runs from scratch), and runs that
 * differ in anything else (model, config, data sizes).
 */
export async function trainReplicas(runs: readonly TrainOptions[]): Promise<TrainResult[]> {
  const issues = replicaIssues(runs);
  if (issues.length > 0) throw new Error(`trainReplicas: ${issues.join('; ')}`);
  const R = runs.length;
  const { model, config } = runs[0];
  const { epochs, batchSize } = config;
  const evalEvery = config.evalEvery ?? 1;
  const logEvery = config.logEvery ?? 10;
  const checkpointEvery = config.checkpointEvery ?? 1;
  const tasks = runs.map((r) => r.task);
  const splits = tasks.map((t) => t.splits.train);
  const lrs = runs.map((r) => r.config.optimizer.lr);
  const loss = tasks[0].loss;
  const progress = runs[0].progress;

  let params = stackParams(model.specs, runs.map((r) => r.params));
  for (const r of runs) disposeParams(r.params);
  let lastGood: Params | undefined;
  const optimizer = createOptimizer(config.optimizer, model.specs, resolveGroups(model, config.groups), { replicas: R, lr: lrs });
  /** Per run: why it diverged (undefined while it trains), and what it ended with. */
  const runState = runs.map(() => ({ diverged: undefined as string | undefined, steps: 0, lastGoodEpoch: 0, params: undefined as Params | undefined }));
  const live = (): number[] => runState.flatMap((s, r) => (s.diverged === undefined ? [r] : []));
  try {
    const step1 = replicaTrainStep(model, loss);
    const batchesPerEpoch = Math.ceil(splits[0].n / batchSize);
    let step = 0;
    const t0 = performance.now();
    lastGood = cloneParams(params);
    progress?.start('train', epochs * batchesPerEpoch);
    /** Shown beside the progress: the first live replica's last evaluated held-out metric. */
    let heldOut: Record<string, number> = {};
    let factor = lrFactor(config.schedule, 0, epochs);
    const diverge = (r: number, message: string): void => {
      const s = runState[r];
      s.diverged = message;
      s.steps = step;
      s.params = replicaParams(model.specs, lastGood!, r);
    };

    outer: for (let epoch = 0; epoch < epochs; epoch++) {
      const batches = runs.map((r) => batchIndices(splits[0].n, batchSize, r.rng.split(`epoch:${epoch}`)));
      for (let b = 0; b < batchesPerEpoch; b++) {
        const epochFloat = epoch + (b + 1) / batchesPerEpoch;
        factor = lrFactor(config.schedule, epochFloat, epochs);
        const { x, y } = stackBatches(splits, batches.map((bs) => bs[b]));
        let losses: Float32Array;
        try {
          ({ params, losses } = step1(params, x, y, optimizer, factor));
        } finally {
          x.dispose();
          y.dispose();
        }
        step += 1;
        for (const r of live()) {
          const l = losses[r];
          const row = { kind: 'step' as const, step, epoch: epochFloat, loss: l, lr: lrs[r] * factor };
          if (!Number.isFinite(l)) {
            diverge(r, `training diverged at step ${step} (epoch ${epoch + 1}, batch ${b + 1}): loss is ${l}`);
            // the step that diverged is always logged, as train() logs it
            await runs[r].onMetrics?.(row);
          } else if (step % logEvery === 0) await runs[r].onMetrics?.(row);
        }
        const alive = live();
        if (alive.length === 0) break outer;
        progress?.tick(1, { epoch: `${epoch + 1}/${epochs}`, loss: Number(losses[alive[0]].toPrecision(4)), ...heldOut });
        await yieldToEventLoop();
      }

      const done = epoch + 1;
      const finite = replicasFinite(params, R);
      for (const r of live()) if (!finite[r]) diverge(r, `training diverged by the end of epoch ${done} (step ${step}): parameters are not finite`);
      const alive = live();
      if (alive.length === 0) break;
      disposeParams(lastGood);
      lastGood = cloneParams(params);
      for (const r of alive) runState[r].lastGoodEpoch = done;

      const isLast = done === epochs;
      const evaluating = done % evalEvery === 0 || isLast;
      const checkpointing = runs.some((r) => r.onCheckpoint) && (done % checkpointEvery === 0 || isLast);
      if (!evaluating && !checkpointing) continue;
      const state = checkpointing ? optimizer.getState() : [];
      for (const r of alive) {
        const own = replicaParams(model.specs, params, r);
        try {
          if (evaluating) {
            const metrics = evaluate(runs[r].model, tasks[r], own, undefined, { batchSize: Math.max(batchSize, 1024) });
            if (r === alive[0]) heldOut = heldOutMetric(tasks[r], metrics);
            const row: EpochRow = { kind: 'epoch', epoch: done, step, time: (performance.now() - t0) / 1000, ...metrics, lr: lrs[r] * factor };
            await runs[r].onMetrics?.(row);
          }
          if (checkpointing) await runs[r].onCheckpoint?.(own, { epoch: done, step }, replicaState(state, R, r));
        } finally {
          disposeParams(own);
        }
      }
    }
    progress?.stop();

    const results: TrainResult[] = [];
    for (let r = 0; r < R; r++) {
      const s = runState[r];
      const status: TrainStatus = s.diverged === undefined ? 'completed' : 'diverged';
      const own = s.params ?? replicaParams(model.specs, params, r);
      s.params = own;
      if (s.diverged !== undefined) progress?.log(s.diverged);
      const result: TrainResult = {
        params: own,
        status,
        epochs: status === 'completed' ? epochs : s.lastGoodEpoch,
        steps: status === 'completed' ? step : s.steps,
        lastGoodEpoch: status === 'completed' ? epochs : s.lastGoodEpoch,
        final: evaluate(runs[r].model, tasks[r], own),
      };
      if (s.diverged !== undefined) result.message = s.diverged;
      results.push(result);
    }
    return results;
  } catch (err) {
    for (const s of runState) if (s.params) disposeParams(s.params);
    throw err;
  } finally {
    disposeParams(params);
    if (lastGood) disposeParams(lastGood);
    optimizer.dispose();
  }
}

/**
 * Why `runs` cannot be trained as one batched model by `trainReplicas` (empty: they can). Runs must
 * share the model (with `applyReplicas`), the configuration apart from `optimizer.lr`, the loss and
 * the shapes and size of the train split, and use no train hooks, penalty, custom loss or resume.
 */
export function replicaIssues(runs: readonly TrainOptions[]): string[] {
  if (runs.length === 0) return ['no runs to train'];
  const issues: string[] = [];
  const first = runs[0];
  const label = (first.model.info?.architecture as string | undefined) ?? 'the model';
  if (!first.model.applyReplicas) issues.push(`${label} has no applyReplicas (only plain MLPs can be trained as stacked replicas)`);
  const { epochs, batchSize } = first.config;
  for (const [field, v] of [['epochs', epochs], ['batchSize', batchSize], ['evalEvery', first.config.evalEvery ?? 1], ['logEvery', first.config.logEvery ?? 10], ['checkpointEvery', first.config.checkpointEvery ?? 1]] as const) {
    if (!Number.isInteger(v) || v < 1) issues.push(`train.${field}: expected a positive integer, got ${v}`);
  }
  const shared = canonical({ ...first.config, optimizer: { ...first.config.optimizer, lr: 0 } });
  const specs = canonical(first.model.specs);
  const split0 = first.task.splits.train;
  if (!split0 || split0.n === 0) issues.push('the task has an empty train split');
  runs.forEach((run, r) => {
    const at = `run ${r}`;
    if (run.hooks && run.hooks.length > 0) issues.push(`${at} has train hooks (analyses that record during training run one at a time)`);
    if (run.penalty) issues.push(`${at} has a penalty (a symmetry penalty is not vectorised)`);
    if (run.lossFunction) issues.push(`${at} has a custom loss function (only the task's own loss is vectorised)`);
    if ((run.startEpoch ?? 0) !== 0 || run.optimizerState) issues.push(`${at} resumes (a vectorised group always trains from scratch)`);
    if (r === 0) return;
    if (canonical({ ...run.config, optimizer: { ...run.config.optimizer, lr: 0 } }) !== shared) issues.push(`${at} differs from run 0 in its training configuration beyond optimizer.lr`);
    if (canonical(run.model.specs) !== specs) issues.push(`${at} has other parameter shapes than run 0`);
    if (run.task.loss !== first.task.loss) issues.push(`${at} has loss ${run.task.loss}, run 0 ${first.task.loss}`);
    const split = run.task.splits.train;
    if (split0 && split && (split.n !== split0.n || canonical(split.xShape) !== canonical(split0.xShape) || canonical(split.yShape) !== canonical(split0.yShape))) {
      issues.push(`${at} has a train split of ${split.n} × [${split.xShape}] → [${split.yShape}], run 0 ${split0.n} × [${split0.xShape}] → [${split0.yShape}]`);
    }
  });
  return issues;
}

/** JSON with sorted keys: equal values give equal strings whatever order their keys were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}


/** Every parameter stacked along a new leading replica axis. */
function stackParams(specs: readonly ParamSpec[], each: readonly Params[]): Params {
  const out: Params = {};
  for (const s of specs) out[s.name] = tf.stack(each.map((p) => p[s.name]));
  return out;
}

/** Replica r's parameters (new tensors, shapes as the specs). */
function replicaParams(specs: readonly ParamSpec[], stacked: Params, r: number): Params {
  const out: Params = {};
  for (const s of specs) out[s.name] = tf.tidy(() => tf.reshape(tf.slice(stacked[s.name], r, 1), s.shape));
  return out;
}

/** Replica r's optimiser state as a lone optimiser's (`[R, ...shape]` entries sliced; the step count as is). */
function replicaState(state: readonly OptimizerStateEntry[], R: number, r: number): OptimizerStateEntry[] {
  return state.map((e) => {
    if (e.shape.length === 0 || e.shape[0] !== R) return { ...e, values: Float32Array.from(e.values) };
    const size = e.values.length / R;
    return { name: e.name, values: e.values.slice(r * size, (r + 1) * size), shape: e.shape.slice(1) };
  });
}

/** Whether each replica's parameters are all finite (one reduction and one read-back). */
function replicasFinite(params: Params, R: number): boolean[] {
  const probe = tf.tidy(() => tf.addN(Object.values(params).map((t) => tf.sum(tf.reshape(tf.mul(t, 0), [R, -1]), 1))));
  const v = probe.dataSync();
  probe.dispose();
  return Array.from(v, (x) => Number.isFinite(x));
}

/** Replica r's mini-batch from its own split: x `[R, m, ...xShape]`, y `[R, m, ...yShape]`. */
function stackBatches(splits: readonly Split[], indices: readonly Int32Array[]): { x: tf.Tensor; y: tf.Tensor } {
  const R = splits.length;
  const m = indices[0].length;
  const pack = (field: 'x' | 'y', shape: number[]): tf.Tensor => {
    const size = sizeOf(shape);
    const out = new Float32Array(R * m * size);
    for (let r = 0; r < R; r++) {
      const src = splits[r][field];
      const idx = indices[r];
      for (let i = 0; i < m; i++) out.set(src.subarray(idx[i] * size, (idx[i] + 1) * size), (r * m + i) * size);
    }
    return tf.tensor(out, [R, m, ...shape], 'float32');
  };
  return { x: pack('x', splits[0].xShape), y: pack('y', splits[0].yShape) };
}

/** Each replica's mean loss `[R]` of predictions `[R, B, ...]` against targets of the same size (the losses of core, per replica). */
export function replicaLosses(name: LossName, pred: tf.Tensor, y: tf.Tensor): tf.Tensor1D {
  const R = pred.shape[0];
  if (pred.size !== y.size) throw new Error(`${name}: predictions of shape [${pred.shape}] and targets of shape [${y.shape}] differ in size`);
  return tf.tidy(() => {
    if (name === 'mse') return tf.mean(tf.reshape(tf.square(tf.sub(pred, tf.reshape(y, pred.shape))), [R, -1]), 1) as tf.Tensor1D;
    if (name === 'softmax-cross-entropy') {
      if (pred.rank !== 3) throw new Error(`softmax-cross-entropy: replica logits must be [R, B, C], got [${pred.shape}]`);
      const perExample = tf.neg(tf.sum(tf.mul(tf.reshape(y, pred.shape), logSoftmax(pred, -1)), -1));
      return tf.mean(perExample, 1) as tf.Tensor1D;
    }
    if (name === 'binary-cross-entropy') {
      const z = tf.reshape(pred, [R, -1]);
      return tf.mean(tf.sub(softplus(z), tf.mul(tf.reshape(y, [R, -1]), z)), 1) as tf.Tensor1D;
    }
    throw new Error(`replicaLosses: unknown loss "${String(name)}"`);
  });
}

type ReplicaStep = (params: Params, x: tf.Tensor, y: tf.Tensor, optimizer: ReturnType<typeof createOptimizer>, lrScale: number) => { params: Params; losses: Float32Array };

/**
 * One forward + backward + update of all replicas: the gradient of Σ_r loss_r is, parameter slice
 * by slice, each replica's own gradient. Returns the new stacked parameters (the old ones are
 * disposed) and each replica's batch loss before the update.
 */
function replicaTrainStep(model: ModelInstance, loss: LossName): ReplicaStep {
  const names = model.specs.map((s) => s.name);
  const applyReplicas = model.applyReplicas!.bind(model);
  return (params, x, y, optimizer, lrScale) => {
    let perReplica: tf.Tensor | undefined;
    const grads = tf.tidy(() => {
      const f = (...ts: tf.Tensor[]): tf.Scalar => {
        const p: Params = {};
        names.forEach((n, i) => (p[n] = ts[i]));
        const l = replicaLosses(loss, applyReplicas(p, x), y);
        perReplica = tf.keep(tf.clone(l));
        return tf.sum(l) as tf.Scalar;
      };
      return tf.grads(f)(names.map((n) => params[n]));
    });
    try {
      const next = optimizer.step(params, Object.fromEntries(names.map((n, i) => [n, grads[i]])), lrScale);
      return { params: next, losses: Float32Array.from(perReplica!.dataSync() as Float32Array) };
    } finally {
      tf.dispose([...grads, perReplica!]);
    }
  };
}
