import * as tf from '@tensorflow/tfjs-core';
import { UsageError, type Params, type InputSymmetry, type ModelInstance, type TaskInstance, type Rng, type TrainHooks } from '@goldstone/plugin-api';
import { lrFactor, type ScheduleConfig } from './schedule';
import type { Penalty } from './trainer';

/**
 * `sampled`: λ·E‖f(g·x) − f(x)‖² over random group elements g (the task's `sample`).
 * `generator`: λ·E‖∇ₓf · (G x)‖², the directional derivative of the outputs along the task's
 * infinitesimal generator (exact, one backward pass per output; differentiable in the params).
 */
export type SymmetryPenaltyForm = 'sampled' | 'generator';

export interface SymmetryPenaltyConfig {
  form: SymmetryPenaltyForm;
  /** Strength λ ≥ 0 (0: the penalty is computed, and contributes nothing). */
  lambda: number;
  /** λ follows this schedule as a factor, exactly like the learning rate (default constant). */
  schedule?: ScheduleConfig;
  /** Which of the task's symmetries (by name; default the first, or the first with a generator). */
  symmetry?: string;
}

/**
 * The task symmetry a penalty uses. Throws a `UsageError` naming `field` when the task declares no
 * symmetries, the named one does not exist, or the generator form has no generator to use.
 */
export function resolveSymmetry(task: Pick<TaskInstance, 'symmetries'>, config: SymmetryPenaltyConfig, field = 'train.symmetryPenalty'): InputSymmetry {
  const syms = task.symmetries ?? [];
  if (syms.length === 0) {
    throw new UsageError(`${field}: the task declares no input symmetries, so there is nothing to penalise; remove ${field}`, { field });
  }
  let sym: InputSymmetry | undefined;
  if (config.symmetry !== undefined) {
    sym = syms.find((s) => s.name === config.symmetry);
    if (!sym) {
      throw new UsageError(`${field}.symmetry: the task has no symmetry "${config.symmetry}" (it has: ${syms.map((s) => s.name).join(', ')})`, {
        field: `${field}.symmetry`,
      });
    }
  } else sym = config.form === 'generator' ? (syms.find((s) => s.generator) ?? syms[0]) : syms[0];
  if (config.form === 'generator' && !sym.generator) {
    const withGen = syms.filter((s) => s.generator).map((s) => s.name);
    throw new UsageError(
      `${field}.form: the symmetry "${sym.name}" has no generator, so the generator form is not available (${withGen.length ? `symmetries with one: ${withGen.join(', ')}` : "use form: 'sampled'"})`,
      { field: `${field}.form` },
    );
  }
  if (!(config.lambda >= 0) || !Number.isFinite(config.lambda)) {
    throw new UsageError(`${field}.lambda: expected a finite number ≥ 0, got ${config.lambda}`, { field: `${field}.lambda` });
  }
  return sym;
}

/** Mean over the batch of the squared norm of each example's row. */
function meanSquaredRowNorm(t: tf.Tensor): tf.Scalar {
  const B = t.shape[0];
  return tf.div(tf.sum(tf.square(t)), B) as tf.Scalar;
}

/** E‖f(g·x) − f(x)‖² with one random group element per example (from `rng`). Differentiable in params. */
export function sampledViolation(model: ModelInstance, params: Params, x: tf.Tensor, symmetry: InputSymmetry, rng: Rng): tf.Scalar {
  return tf.tidy(() => {
    const gx = symmetry.sample(x, rng);
    return meanSquaredRowNorm(tf.sub(model.apply(params, gx), model.apply(params, x)));
  });
}

/**
 * E‖J_x f · (G x)‖²: for each output k, ∂f_k/∂x by one backward pass over the batch (examples
 * do not interact, so the batch sum's gradient is each example's), contracted with G·x.
 * Differentiable in params (the trainer's gradient is then a second-order one).
 */
export function generatorViolation(model: ModelInstance, params: Params, x: tf.Tensor, symmetry: InputSymmetry): tf.Scalar {
  if (!symmetry.generator) throw new Error(`generatorViolation: the symmetry "${symmetry.name}" has no generator`);
  const generator = symmetry.generator.bind(symmetry);
  return tf.tidy(() => {
    const B = x.shape[0];
    const gx = generator(x);
    const probe = model.apply(params, x);
    const K = probe.size / B;
    const axes = Array.from({ length: x.rank - 1 }, (_, i) => i + 1);
    let total: tf.Tensor = tf.scalar(0);
    for (let k = 0; k < K; k++) {
      const dfk = tf.grad((xx: tf.Tensor) => tf.sum(tf.slice(tf.reshape(model.apply(params, xx), [B, K]), [0, k], [B, 1])))(x);
      const jv = axes.length ? tf.sum(tf.mul(dfk, gx), axes) : tf.mul(dfk, gx);
      total = tf.add(total, tf.sum(tf.square(jv)));
    }
    return tf.div(total, B) as tf.Scalar;
  });
}

export interface SymmetryPenalty {
  /** The term for `train({ penalty })`: λ(step) × the violation on the batch. */
  penalty: Penalty;
  /** Keeps λ's schedule in step with training (pass to `train({ hooks })`). */
  hooks: TrainHooks;
  /** λ at 1-based update `step` (the schedule's factor at that step's fractional epoch). */
  lambdaAt(step: number): number;
  symmetry: InputSymmetry;
}

/**
 * A soft symmetry penalty from a task's declared input symmetries, for `train()`. λ follows
 * `config.schedule` exactly like the learning rate: at update s (1-based), the factor at epoch
 * ⌊(s−1)/m⌋ + ((s−1) mod m + 1)/m with m = `batchesPerEpoch`. The sampled form draws its group
 * elements from `rng.split('step:s')`, so a resumed run draws what an uninterrupted one would.
 */
export function createSymmetryPenalty(opts: {
  model: ModelInstance;
  task: Pick<TaskInstance, 'symmetries'>;
  config: SymmetryPenaltyConfig;
  rng: Rng;
  /** Total epochs of the run (for cosine schedules). */
  epochs: number;
  /** Updates per epoch (⌈n_train / batchSize⌉). */
  batchesPerEpoch: number;
  /** Epochs already done (resume). */
  startEpoch?: number;
  field?: string;
}): SymmetryPenalty {
  const { model, config, rng, epochs, batchesPerEpoch } = opts;
  const symmetry = resolveSymmetry(opts.task, config, opts.field);
  if (!(Number.isInteger(batchesPerEpoch) && batchesPerEpoch > 0)) throw new RangeError(`symmetry penalty: batchesPerEpoch must be a positive integer, got ${batchesPerEpoch}`);
  let nextStep = (opts.startEpoch ?? 0) * batchesPerEpoch + 1;
  const lambdaAt = (step: number): number => {
    const e = Math.floor((step - 1) / batchesPerEpoch);
    const epochFloat = e + (((step - 1) % batchesPerEpoch) + 1) / batchesPerEpoch;
    return config.lambda * lrFactor(config.schedule, epochFloat, epochs);
  };
  const penalty: Penalty = (params, x) =>
    tf.tidy(() => {
      const lambda = lambdaAt(nextStep);
      // λ = 0 contributes nothing: skip the violation (the generator form costs a backward pass per output)
      if (lambda === 0) return tf.scalar(0);
      const v =
        config.form === 'sampled' ? sampledViolation(model, params, x, symmetry, rng.split(`step:${nextStep}`)) : generatorViolation(model, params, x, symmetry);
      return tf.mul(v, lambda) as tf.Scalar;
    });
  const hooks: TrainHooks = {
    onStep: ({ step }) => {
      nextStep = step + 1;
    },
  };
  return { penalty, hooks, lambdaAt, symmetry };
}
