import * as tf from '@tensorflow/tfjs-core';
import { splitTensors } from '@goldstone/core';
import type { ModelInstance, Params, TaskInstance } from '@goldstone/plugin-api';
import { createOptimizer, createTrainStep, type OptimizerConfig, type ParamGroup } from '@goldstone/trainer';
import { effectiveLossTensor } from './geometry';
import { geometryOf, metricOn, type GeometryPlan, type HostTensor } from './recorder';

/** The effective (repon) dynamics of the embeddings alone, recorded every `every` steps. */
export interface EffectiveRun {
  step: number[];
  effectiveLoss: (number | null)[];
  rqi: (number | null)[];
  /** First recorded step with RQI ≥ the target, or null within `steps`. */
  Tr: number | null;
  steps: number;
  /** The embedding at the end (raw). */
  final: Float32Array;
}

/**
 * Descend ℓ_eff (of the standardised embedding, over P0(D)) from the embedding E0 [n, d] with the
 * optimiser `optimizer` (the run's family, its encoder learning rate and weight decay) for `steps`
 * updates; the gradient is tfjs's autodiff through the standardisation.
 */
export function simulateEffective(E0: ArrayLike<number>, plan: GeometryPlan, optimizer: OptimizerConfig, opts: { steps: number; every: number; rqiTarget: number; stopAtTarget?: boolean }): EffectiveRun {
  const { n, d } = plan;
  const opt = createOptimizer(optimizer, [{ name: 'e', shape: [n, d] }]);
  const idx = plan.trainQuads.length ? ([0, 1, 2, 3].map((c) => tf.tensor1d(plan.trainQuads.map((q) => q[c]), 'int32')) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D]) : null;
  const grad = tf.grad((e: tf.Tensor) => effectiveLossTensor(e as tf.Tensor2D, idx));
  let E: tf.Tensor = tf.tensor2d(Float32Array.from(E0), [n, d], 'float32');
  const out: EffectiveRun = { step: [], effectiveLoss: [], rqi: [], Tr: null, steps: 0, final: new Float32Array(0) };
  const record = (step: number) => {
    const g = geometryOf(E.dataSync(), plan);
    out.step.push(step);
    out.effectiveLoss.push(g.effectiveLoss);
    out.rqi.push(g.rqi);
    if (out.Tr === null && g.rqi !== null && g.rqi >= opts.rqiTarget) out.Tr = step;
  };
  try {
    record(0);
    for (let s = 1; s <= opts.steps; s++) {
      const g = grad(E);
      try {
        E = opt.step({ e: E }, { e: g }).e;
      } finally {
        g.dispose();
      }
      out.steps = s;
      if (s % opts.every === 0 || s === opts.steps) {
        record(s);
        if (opts.stopAtTarget && out.Tr !== null) break;
      }
    }
    out.final = Float32Array.from(E.dataSync() as Float32Array);
    return out;
  } finally {
    E.dispose();
    idx?.forEach((t) => t.dispose());
    opt.dispose();
  }
}

/** The decoder's memorisation time: first checked step with train `metric` ≥ threshold, or null within the cap. */
export interface MemorisationRun {
  Tm: number | null;
  steps: number;
  finalMetric: number | null;
}

/**
 * Train the decoder alone, full batch, from the initial parameters with the embedding frozen (its
 * parameters in a group of learning rate 0), with the run's optimiser and decoder settings; check
 * the train `metric` every `every` steps and stop when it reaches `threshold` or after `cap` steps.
 */
export function decoderMemorisation(
  model: ModelInstance,
  task: TaskInstance,
  initial: Record<string, HostTensor>,
  optimizer: OptimizerConfig,
  groups: ParamGroup[],
  opts: { cap: number; every: number; threshold: number; metric: string; trainSplit: string },
): MemorisationRun {
  const split = task.splits[opts.trainSplit];
  const opt = createOptimizer(optimizer, model.specs, groups);
  let params: Params = {};
  for (const s of model.specs) params[s.name] = tf.tensor(initial[s.name].values, initial[s.name].shape, 'float32');
  const all = Int32Array.from({ length: split.n }, (_, i) => i);
  const { x, y } = splitTensors(split, all);
  const step = createTrainStep(model, task.loss, opt);
  const out: MemorisationRun = { Tm: null, steps: 0, finalMetric: null };
  try {
    for (let s = 1; s <= opts.cap; s++) {
      params = step(params, x, y).params;
      out.steps = s;
      if (s % opts.every === 0 || s === opts.cap) {
        out.finalMetric = metricOn(model, task, params, split, opts.metric);
        if (out.finalMetric !== null && out.finalMetric >= opts.threshold) {
          out.Tm = s;
          break;
        }
      }
    }
    return out;
  } finally {
    for (const t of Object.values(params)) t.dispose();
    x.dispose();
    y.dispose();
    opt.dispose();
  }
}
