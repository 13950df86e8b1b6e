import * as tf from '@tensorflow/tfjs-core';
import { lossFunction } from '@goldstone/core';
import type { Json, ModelInstance, Params, Rng, TaskInstance, TrainedObjective } from '@goldstone/plugin-api';
import { resolveSymmetry, sampledViolation, generatorViolation, type SymmetryPenaltyConfig } from './symmetry-penalty';
import { lrFactor } from './schedule';

/**
 * The objective a run trained, as a deterministic function for analyses: the data loss, plus the
 * symmetry penalty at the λ training ended with (its schedule's factor at the last epoch), plus
 * weight decay as (wd/2)‖θ‖² per parameter (the group's value where a group sets one). The sampled
 * penalty draws its group elements from `rng.split('objective')` afresh on every call, so that the
 * same (params, x) always gives the same value and its Hessian is well defined. AdamW's decoupled
 * decay is not exactly the gradient of this term (Adam rescales the data gradient only); the terms
 * say so.
 */
export function trainedObjective(opts: {
  model: ModelInstance;
  task: TaskInstance;
  optimizer: string;
  weightDecay: number;
  /** Per parameter group (model group name → weight decay), replacing `weightDecay` for its parameters. */
  groupWeightDecay?: Record<string, number | undefined>;
  symmetryPenalty?: SymmetryPenaltyConfig;
  epochs: number;
  rng: Rng;
}): TrainedObjective {
  const { model, task } = opts;
  const lossFn = lossFunction(task.loss);
  const decay = new Map<string, number>(model.specs.map((s) => [s.name, opts.weightDecay]));
  for (const [group, wd] of Object.entries(opts.groupWeightDecay ?? {})) {
    if (wd === undefined) continue;
    for (const name of model.groups?.[group] ?? []) decay.set(name, wd);
  }
  const decayed = [...decay].filter(([, wd]) => wd > 0);
  const penalty = opts.symmetryPenalty;
  const symmetry = penalty ? resolveSymmetry(task, penalty) : undefined;
  const lambda = penalty ? penalty.lambda * lrFactor(penalty.schedule, opts.epochs, opts.epochs) : 0;
  const terms: Record<string, Json> = { data: task.loss };
  if (penalty && symmetry) {
    terms.symmetryPenalty = {
      form: penalty.form,
      symmetry: symmetry.name,
      lambda,
      ...(penalty.form === 'sampled' ? { groupElements: 'one fixed random element per example, the same on every evaluation' } : {}),
    };
  }
  if (decayed.length > 0) {
    terms.weightDecay = {
      form: '(wd/2)·‖θ‖² per parameter',
      values: Object.fromEntries(decayed),
      ...(opts.optimizer === 'adamw' ? { note: "adamw's decoupled decay is not exactly the gradient of this term" } : {}),
    };
  }
  const total = (params: Params, x: tf.Tensor, y: tf.Tensor): tf.Scalar =>
    tf.tidy(() => {
      let out: tf.Scalar = lossFn(model.apply(params, x), y);
      if (penalty && symmetry && lambda > 0) {
        const v = penalty.form === 'sampled' ? sampledViolation(model, params, x, symmetry, opts.rng.split('objective')) : generatorViolation(model, params, x, symmetry);
        out = tf.add(out, tf.mul(v, lambda));
      }
      for (const [name, wd] of decayed) out = tf.add(out, tf.mul(tf.sum(tf.square(params[name])), wd / 2));
      return out;
    });
  return { total, penalised: (penalty !== undefined && lambda > 0) || decayed.length > 0, terms };
}
