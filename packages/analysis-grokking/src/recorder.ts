import * as tf from '@tensorflow/tfjs-core';
import type { ModelInstance, Params, Split, TaskInstance, TrainHooks } from '@goldstone/plugin-api';
import { effectiveLoss, idealParallelograms, rqi, standardize } from './geometry';

/** A host copy of one parameter tensor. */
export interface HostTensor {
  values: Float32Array;
  shape: number[];
}

/** What the train hooks recorded for one model instance. */
export interface GrokkingRecording {
  every: number;
  /** Steps at which a row was recorded (0 = the initial parameters). */
  step: number[];
  trainAccuracy: (number | null)[];
  testAccuracy: (number | null)[];
  /** RQI and ℓ_eff of the embedding at the step (null when the task is not an addition table or the model has no embedding). */
  rqi: (number | null)[];
  effectiveLoss: (number | null)[];
  /** The initial parameters (copied in onStart). */
  initial: Record<string, HostTensor> | null;
  /** Updates seen. */
  steps: number;
  /** Milliseconds spent in the hooks. */
  hookMs: number;
}

/** What the recorder computes geometry with: the embedding's name and shape and the parallelograms (null: accuracy only). */
export interface GeometryPlan {
  embedding: string;
  n: number;
  d: number;
  rqiThreshold: number;
  /** P0(D) as quadruples [i, j, m, n]. */
  trainQuads: [number, number, number, number][];
}

const recordings = new WeakMap<ModelInstance, GrokkingRecording>();

/** The recording the hooks made while `model` trained, if any. */
export function grokkingRecordingFor(model: ModelInstance): GrokkingRecording | undefined {
  return recordings.get(model);
}

/** A host copy of every parameter. */
export function copyParams(params: Params): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(params)) out[name] = { values: Float32Array.from(t.dataSync() as Float32Array), shape: [...t.shape] };
  return out;
}

/** `metric` of the model on a whole split (one forward pass), or null when the task's metrics have no such entry. */
export function metricOn(model: ModelInstance, task: TaskInstance, params: Params, split: Split, metric: string): number | null {
  const x = tf.tensor(split.x, [split.n, ...split.xShape], 'float32');
  const y = tf.tensor(split.y, [split.n, ...split.yShape], 'float32');
  try {
    const pred = tf.tidy(() => model.apply(params, x));
    try {
      const v = task.metrics(pred, y)[metric];
      return typeof v === 'number' && Number.isFinite(v) ? v : null;
    } finally {
      pred.dispose();
    }
  } finally {
    x.dispose();
    y.dispose();
  }
}

/** RQI and ℓ_eff (of the standardised embedding over P0(D)) of a raw embedding [n, d]. */
export function geometryOf(E: ArrayLike<number>, plan: GeometryPlan, quads = idealParallelograms(plan.n)): { rqi: number | null; effectiveLoss: number | null } {
  const r = rqi(E, plan.n, plan.d, plan.rqiThreshold, quads);
  const l = effectiveLoss(standardize(E, plan.n, plan.d), plan.n, plan.d, plan.trainQuads);
  return { rqi: Number.isFinite(r) ? r : null, effectiveLoss: Number.isFinite(l) ? l : null };
}

/**
 * Train hooks that, every `every` steps, at step 0 and at the last step, record train and test
 * `metric` and (with a geometry plan) RQI and ℓ_eff from the current parameters; onStart copies the
 * initial parameters. Keyed by the model instance so that the analysis' `run` finds the recording.
 */
export function recordGrokking(
  model: ModelInstance,
  task: TaskInstance,
  opts: { every: number; metric: string; trainSplit: string; testSplit: string; geometry: GeometryPlan | null },
): TrainHooks {
  const rec: GrokkingRecording = { every: opts.every, step: [], trainAccuracy: [], testAccuracy: [], rqi: [], effectiveLoss: [], initial: null, steps: 0, hookMs: 0 };
  recordings.set(model, rec);
  const quads = opts.geometry ? idealParallelograms(opts.geometry.n) : [];
  const record = (step: number, params: Params) => {
    const t0 = performance.now();
    rec.step.push(step);
    rec.trainAccuracy.push(metricOn(model, task, params, task.splits[opts.trainSplit], opts.metric));
    rec.testAccuracy.push(metricOn(model, task, params, task.splits[opts.testSplit], opts.metric));
    const g = opts.geometry && params[opts.geometry.embedding] ? geometryOf(params[opts.geometry.embedding].dataSync(), opts.geometry, quads) : { rqi: null, effectiveLoss: null };
    rec.rqi.push(g.rqi);
    rec.effectiveLoss.push(g.effectiveLoss);
    rec.hookMs += performance.now() - t0;
  };
  return {
    onStart({ params }) {
      rec.step = [];
      rec.trainAccuracy = [];
      rec.testAccuracy = [];
      rec.rqi = [];
      rec.effectiveLoss = [];
      rec.steps = 0;
      rec.hookMs = 0;
      rec.initial = copyParams(params);
      record(0, params);
    },
    onStep({ step, params }) {
      rec.steps = step;
      if (step % rec.every === 0) record(step, params);
    },
    onEnd({ params }) {
      // the last step (the final parameters; after divergence, those of the last good epoch)
      if (rec.step[rec.step.length - 1] !== rec.steps) record(rec.steps, params);
    },
  };
}
