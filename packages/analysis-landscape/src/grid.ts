import * as tf from '@tensorflow/tfjs-core';
import { logSoftmax, scoreArrays, sizeOf, softplus, unflattenParams, yieldToEventLoop } from '@goldstone/core';
import type { AnalysisContext, LossName, ModelInstance, Params, Progress, TaskInstance } from '@goldstone/plugin-api';

/** Values of the input tensor a batched call may hold (R copies of the examples), at most. */
export const REPLICA_INPUT_BUDGET = 2 ** 24;
/** Parameter points per batched call, at most (auto). */
export const MAX_REPLICAS = 64;
/**
 * Auto batches only while examples × parameters per point is at most this: below it a point costs
 * a few dispatches and stacking points saves them (wasm, a 314-parameter MLP on 128 examples: 0.12
 * against 1.6 ms per point); above it the stacked (batched) matrix products of tfjs are slower than
 * one product per point (a 784-50-50-10 MLP on 256 examples: 16 against 9 ms per point).
 */
export const BATCH_WORK_LIMIT = 2 ** 18;

/** The examples a loss is averaged over. */
export interface EvalData {
  x: tf.Tensor;
  y: tf.Tensor;
  n: number;
}

/** Loss (and accuracy, where the task's output kind has one) at each point of a grid. */
export interface PointValues {
  loss: number[];
  accuracy: number[] | null;
}

/** What the grid evaluation cost. */
export interface GridCost {
  /** Loss evaluations (parameter points × splits). */
  evaluations: number;
  /** Forward calls made (a batched call evaluates many points). */
  calls: number;
  /** Parameter points per batched call (1: the model has no `applyReplicas`, one point per call). */
  replicasPerCall: number;
  batched: boolean;
  /** Wall-clock seconds of the evaluations (null when timing is off). */
  seconds: number | null;
}

/**
 * Per-replica mean loss of outputs `[R, B, …]` against targets `[B, …]` shared by every replica:
 * `[R]`, replica r equal to `lossFunction(name)(out[r], y)` to float32 round-off.
 */
export function replicaLosses(name: LossName, out: tf.Tensor, y: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const r = out.shape[0];
    const b = y.shape[0];
    const pred = tf.reshape(out, [r, b, -1]);
    const target = tf.reshape(y, [1, b, -1]);
    if (name === 'mse') return tf.mean(tf.square(tf.sub(pred, target)), [1, 2]) as tf.Tensor1D;
    if (name === 'softmax-cross-entropy') return tf.mean(tf.neg(tf.sum(tf.mul(target, logSoftmax(pred, -1)), -1)), 1) as tf.Tensor1D;
    const z = tf.reshape(pred, [r, b]);
    const t = tf.reshape(target, [1, b]);
    return tf.mean(tf.sub(softplus(z), tf.mul(t, z)), 1) as tf.Tensor1D;
  });
}

/**
 * Evaluates the loss at many parameter points θ = origin + Σⱼ cⱼ·dⱼ. With the model's
 * `applyReplicas`, R points share one forward call (parameters stacked along a replica axis, the
 * examples broadcast to every replica); otherwise one `apply` per point. Counts its cost.
 */
export class GridEvaluator {
  private readonly batch: number;
  private evaluations = 0;
  private calls = 0;
  private millis = 0;

  constructor(
    private readonly ctx: Pick<AnalysisContext, 'loss'> & { model: ModelInstance; task: TaskInstance },
    opts: { replicas: number; maxExamples: number; batched?: boolean },
  ) {
    const can = (opts.batched ?? true) && typeof ctx.model.applyReplicas === 'function';
    const perReplica = Math.max(1, opts.maxExamples * sizeOf(ctx.task.inputShape));
    const auto = opts.maxExamples * ctx.model.paramCount <= BATCH_WORK_LIMIT ? Math.max(1, Math.min(MAX_REPLICAS, Math.floor(REPLICA_INPUT_BUDGET / perReplica))) : 1;
    this.batch = !can ? 1 : opts.replicas > 0 ? opts.replicas : auto;
  }

  /** Parameter points per call. */
  get replicasPerCall(): number {
    return this.batch;
  }

  cost(timing: boolean): GridCost {
    return { evaluations: this.evaluations, calls: this.calls, replicasPerCall: this.batch, batched: this.batch > 1, seconds: timing ? Math.round(this.millis) / 1000 : null };
  }

  /**
   * Loss (and accuracy) on `data` at origin + Σⱼ coords[p][j]·directions[j] for every point p;
   * `progress` ticks once per point. The event loop turns between calls.
   */
  async evaluate(origin: Float32Array, directions: readonly Float32Array[], coords: readonly number[][], data: EvalData, progress?: Progress): Promise<PointValues> {
    const { model, task } = this.ctx;
    const k = directions.length;
    const n = origin.length;
    const withAccuracy = task.outputKind !== 'regression';
    const loss: number[] = [];
    const accuracy: number[] = [];
    const yData = withAccuracy ? (data.y.dataSync() as Float32Array) : null;
    const outputs = task.outputSize;
    const base = tf.tensor2d(origin, [1, n]);
    const dirs = k > 0 ? tf.tensor2d(concat(directions, n), [k, n]) : null;
    // the examples repeated for every replica, made on the host (tf.broadcastTo is slow on wasm), per chunk size
    const tiles = new Map<number, tf.Tensor>();
    const xData = this.batch > 1 ? (data.x.dataSync() as Float32Array) : null;
    const tiled = (r: number): tf.Tensor => {
      let t = tiles.get(r);
      if (!t) {
        const values = new Float32Array(r * xData!.length);
        for (let i = 0; i < r; i++) values.set(xData!, i * xData!.length);
        t = tf.tensor(values, [r, ...data.x.shape], 'float32');
        tiles.set(r, t);
      }
      return t;
    };
    const started = performance.now();
    try {
      for (let start = 0; start < coords.length; start += this.batch) {
        const chunk = coords.slice(start, start + this.batch);
        const r = chunk.length;
        const xr = this.batch > 1 ? tiled(r) : null; // kept across chunks: made outside the tidy
        const [losses, preds] = tf.tidy(() => {
          const flat = dirs ? tf.add(base, tf.matMul(tf.tensor2d(chunk.flat(), [r, k]), dirs)) : tf.tile(base, [r, 1]);
          if (this.batch > 1) {
            const params: Params = {};
            let off = 0;
            for (const s of model.specs) {
              const size = sizeOf(s.shape);
              params[s.name] = tf.reshape(tf.slice(flat, [0, off], [r, size]), [r, ...s.shape]);
              off += size;
            }
            const out = model.applyReplicas!(params, xr!);
            return [replicaLosses(task.loss, out, data.y), withAccuracy ? out : null];
          }
          const params = unflattenParams(tf.reshape(flat, [n]) as tf.Tensor1D, model.specs);
          const out = withAccuracy ? model.apply(params, data.x) : null;
          return [tf.reshape(this.ctx.loss(params, data.x, data.y), [1]), out ? tf.expandDims(out, 0) : null];
        });
        try {
          loss.push(...(losses.dataSync() as Float32Array));
          if (preds && yData) {
            const all = preds.dataSync() as Float32Array;
            const per = all.length / r;
            for (let i = 0; i < r; i++) accuracy.push(scoreArrays(task.outputKind, all.subarray(i * per, (i + 1) * per), yData, outputs).accuracy);
          }
        } finally {
          tf.dispose([losses, preds ?? []]);
        }
        this.calls++;
        this.evaluations += r;
        progress?.tick(r);
        await yieldToEventLoop();
      }
    } finally {
      this.millis += performance.now() - started;
      tf.dispose([base, dirs ?? [], ...tiles.values()]);
    }
    return { loss, accuracy: withAccuracy ? accuracy : null };
  }
}

/** The vectors one after another in one array. */
function concat(vs: readonly Float32Array[], n: number): Float32Array {
  const out = new Float32Array(vs.length * n);
  vs.forEach((v, i) => out.set(v, i * n));
  return out;
}

/** `points` evenly spaced values from `a` to `b`. */
export function linspace(a: number, b: number, points: number): number[] {
  return Array.from({ length: points }, (_, i) => (points === 1 ? a : a + ((b - a) * i) / (points - 1)));
}
