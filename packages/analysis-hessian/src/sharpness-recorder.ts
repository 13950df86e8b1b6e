import * as tf from '@tensorflow/tfjs-core';
import { sampleIndices, splitTensors, yieldToEventLoop } from '@goldstone/core';
import { curvatureOperator, hutchinson, lanczos, type LinearOperator } from '@goldstone/curvature';
import type { ModelInstance, Params, Rng, TaskInstance, TrainHooks, TrainPlan } from '@goldstone/plugin-api';

/** What the recorder measures and how often (the `sharpness` options it uses). */
export interface SharpnessSettings {
  every: number;
  maxExamples: number;
  method: 'lanczos' | 'power';
  warmStart: boolean;
  warmNoise: number;
  tol: number;
  maxSteps: number;
  probes: number;
  budget: number | null;
}

/** Products and seconds one estimate cost. */
export interface Cost {
  products: number;
  seconds: number;
}

/** One measurement: λ_max and the trace at the parameters after `step` updates. */
export interface SharpnessPoint {
  step: number;
  lambdaMax: number;
  /** Ritz (or power-iteration) residual ‖Hv − λv‖ of the reported pair. */
  residual: number;
  converged: boolean;
  /** Started from the previous measurement's top eigenvector. */
  warm: boolean;
  trace: { value: number; stderr: number } | null;
  cost: { lambdaMax: Cost; trace: Cost | null };
}

/** The budget's account: due measurements, those taken and skipped, and the seconds on each side. */
export interface BudgetAccount {
  limit: number | null;
  trainSeconds: number;
  spentSeconds: number;
  due: number;
  measured: number;
  skipped: number;
}

/** What the hooks recorded while one model trained. */
export interface SharpnessRecording {
  settings: SharpnessSettings;
  examples: number;
  subset: 'all' | 'random';
  paramCount: number;
  /** Examples of the train split (batches per epoch = ⌈this / batch size⌉). */
  trainExamples: number;
  plan: TrainPlan | null;
  points: SharpnessPoint[];
  budget: BudgetAccount;
}

/**
 * The budget's schedule logic, apart from any clock: training seconds and measurement seconds are
 * added as they pass, and `admit()` says whether a due measurement fits. The first measurement is
 * always taken (before it nothing says what one costs); a later one only when the seconds spent so
 * far plus the predicted cost (the larger of the last and the mean cost) stay within
 * `limit × training seconds so far`. So the spent fraction stays under the limit from then on,
 * except for what the first measurement put above it in a run too short to pay it back.
 */
export class BudgetPacer {
  trainSeconds = 0;
  spentSeconds = 0;
  due = 0;
  skipped = 0;
  private readonly costs: number[] = [];

  constructor(readonly limit: number | null) {}

  /** The predicted cost of the next measurement (0 before the first). */
  predicted(): number {
    if (this.costs.length === 0) return 0;
    const mean = this.costs.reduce((a, b) => a + b, 0) / this.costs.length;
    return Math.max(mean, this.costs[this.costs.length - 1]);
  }

  /** A measurement is due: whether to take it (counted as skipped when not). */
  admit(): boolean {
    this.due++;
    const ok = this.limit === null || this.costs.length === 0 || this.spentSeconds + this.predicted() <= this.limit * this.trainSeconds;
    if (!ok) this.skipped++;
    return ok;
  }

  addTraining(seconds: number): void {
    this.trainSeconds += Math.max(0, seconds);
  }

  addCost(seconds: number): void {
    const s = Math.max(0, seconds);
    this.spentSeconds += s;
    this.costs.push(s);
  }

  get measured(): number {
    return this.costs.length;
  }

  account(): BudgetAccount {
    return { limit: this.limit, trainSeconds: this.trainSeconds, spentSeconds: this.spentSeconds, due: this.due, measured: this.measured, skipped: this.skipped };
  }
}

const recordings = new WeakMap<ModelInstance, Map<string, SharpnessRecording>>();

/** The key one set of options records under (several `sharpness` entries may watch one model). */
export const recordingKey = (settings: SharpnessSettings): string => JSON.stringify(settings);

/** The recording the hooks made for `model` with these settings, if any. */
export function sharpnessRecordingFor(model: ModelInstance, settings: SharpnessSettings): SharpnessRecording | undefined {
  return recordings.get(model)?.get(recordingKey(settings));
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const unit = (v: Float64Array): Float64Array => {
  const nv = Math.sqrt(dot(v, v));
  if (!(nv > 0)) throw new Error('sharpness: a zero start vector');
  return v.map((x) => x / nv);
};

/** The top pair of one estimate, with the eigenvector kept for the next warm start. */
interface TopPair {
  value: number;
  residual: number;
  converged: boolean;
  vector: Float64Array;
}

/**
 * Power iteration for the dominant eigenpair from `start`, stopping when ‖Hv − θv‖ ≤ tol·|θ|.
 * It finds the eigenvalue largest in magnitude: a negative value means |λ_min| > λ_max there.
 */
async function powerTop(op: LinearOperator, start: Float64Array, tol: number, maxIterations: number): Promise<TopPair> {
  let v = unit(start);
  let value = 0;
  let residual = Infinity;
  for (let it = 0; it < maxIterations; it++) {
    const av = op.apply(v);
    value = dot(v, av);
    let r2 = 0;
    for (let i = 0; i < v.length; i++) r2 += (av[i] - value * v[i]) ** 2;
    residual = Math.sqrt(r2);
    if (residual <= tol * Math.abs(value)) return { value, residual, converged: true, vector: v };
    const na = Math.sqrt(dot(av, av));
    if (!(na > 0)) break;
    v = av.map((x) => x / na);
    await yieldToEventLoop();
  }
  return { value, residual, converged: false, vector: v };
}

/** The warm start: the previous top eigenvector plus `noise` × a random unit vector (so no direction is missing from the Krylov space). */
function warmStart(previous: Float64Array, noise: number, rng: Rng): Float64Array {
  if (noise === 0) return Float64Array.from(previous);
  const g = unit(Float64Array.from(rng.normalArray(previous.length)));
  return previous.map((x, i) => x + noise * g[i]);
}

/**
 * Train hooks that measure λ_max of the loss Hessian (Lanczos or power iteration, warm-started from
 * the previous top eigenvector) and its Hutchinson trace on one fixed seeded batch of the train
 * split: at the start and every `every` steps, as far as the budget allows (`BudgetPacer`). Time
 * is read from `now` (seconds; `performance.now` by default, a fake clock in tests): training time
 * is what passes between the hook's calls, the cost what passes inside its measurements.
 */
export function recordSharpness(
  model: ModelInstance,
  task: TaskInstance,
  settings: SharpnessSettings,
  ctx: { rng: Rng; train?: TrainPlan; now?: () => number },
): TrainHooks {
  const now = ctx.now ?? (() => performance.now() / 1000);
  const split = task.splits.train;
  if (!split || split.n === 0) throw new Error('sharpness: the task has an empty train split');
  const pacer = new BudgetPacer(settings.budget);
  const { indices, subset } = sampleIndices(split.n, settings.maxExamples, ctx.rng.split('subset'));
  const rec: SharpnessRecording = {
    settings,
    examples: indices.length,
    subset,
    paramCount: model.paramCount,
    trainExamples: split.n,
    plan: ctx.train ?? null,
    points: [],
    budget: pacer.account(),
  };
  let batch: { x: tf.Tensor; y: tf.Tensor } | undefined;
  let previous: Float64Array | undefined;
  let lastExit = 0;
  /** The start's measurement waits for its step: that of the first update, less one (a resumed run starts later). */
  let pendingStart: SharpnessPoint | undefined;

  const measure = async (params: Params, label: string): Promise<SharpnessPoint> => {
    const t0 = now();
    const op = curvatureOperator({ model, loss: task.loss, params, data: batch! });
    try {
      const rng = ctx.rng.split(`measure:${label}`);
      const warm = settings.warmStart && previous !== undefined;
      const before = op.products;
      let top: TopPair;
      if (settings.method === 'lanczos') {
        const start = warm ? warmStart(previous!, settings.warmNoise, rng.split('warm')) : undefined;
        const r = await lanczos(op, { topK: 1, tol: settings.tol, maxSteps: settings.maxSteps, vectors: true, rng: rng.split('lanczos'), start });
        const p = r.top[0];
        top = { value: p.value, residual: p.residual, converged: p.converged, vector: p.vector! };
      } else {
        const start = warm ? warmStart(previous!, settings.warmNoise, rng.split('warm')) : Float64Array.from(rng.split('power').normalArray(op.dim));
        top = await powerTop(op, start, settings.tol, settings.maxSteps);
      }
      const t1 = now();
      const eigProducts = op.products - before;
      previous = top.vector;
      let trace: SharpnessPoint['trace'] = null;
      let traceCost: Cost | null = null;
      if (settings.probes > 0) {
        const tr = await hutchinson(op, { probes: settings.probes, rng: rng.split('trace') });
        trace = { value: tr.value, stderr: tr.stderr };
        traceCost = { products: tr.products, seconds: now() - t1 };
      }
      return {
        step: -1,
        lambdaMax: top.value,
        residual: top.residual,
        converged: top.converged,
        warm,
        trace,
        // the λ_max seconds include building the operator
        cost: { lambdaMax: { products: eigProducts, seconds: t1 - t0 }, trace: traceCost },
      };
    } finally {
      op.dispose();
      pacer.addCost(now() - t0);
    }
  };

  return {
    async onStart({ params }) {
      let byModel = recordings.get(model);
      if (!byModel) recordings.set(model, (byModel = new Map()));
      byModel.set(recordingKey(settings), rec);
      batch = splitTensors(split, indices);
      lastExit = now();
      if (pacer.admit()) pendingStart = await measure(params, 'start');
      rec.budget = pacer.account();
      lastExit = now();
    },
    async onStep({ step, params }) {
      pacer.addTraining(now() - lastExit);
      if (pendingStart) {
        rec.points.push({ ...pendingStart, step: step - 1 });
        pendingStart = undefined;
      }
      if (step % settings.every === 0 && pacer.admit()) rec.points.push({ ...(await measure(params, `step:${step}`)), step });
      rec.budget = pacer.account();
      lastExit = now();
    },
    onEnd() {
      pacer.addTraining(now() - lastExit);
      if (pendingStart) rec.points.push({ ...pendingStart, step: 0 });
      pendingStart = undefined;
      rec.budget = pacer.account();
      if (batch) tf.dispose([batch.x, batch.y]);
      batch = undefined;
    },
  };
}
