import * as tf from '@tensorflow/tfjs-core';
import { silentProgress, type AnalysisContext, type AnalysisResult, type AnalysisStore, type ModelInstance, type Params, type Progress, type TaskInstance, type TrainedObjective } from '@goldstone/plugin-api';
import { lossFunction } from './losses';
import { Rng } from './rng';

/** The loss of a model on a task, as the analyses see it: mean over the given examples. */
export function taskLoss(task: TaskInstance, model: ModelInstance): AnalysisContext['loss'] {
  const lossFn = lossFunction(task.loss);
  return (params: Params, x: tf.Tensor, y: tf.Tensor) => tf.tidy(() => lossFn(model.apply(params, x), y));
}

/** The objective of a run that trained on the data loss alone. */
export function dataObjective(task: TaskInstance, model: ModelInstance): TrainedObjective {
  return { total: taskLoss(task, model), penalised: false, terms: { data: task.loss } };
}

/** Build the context an analysis receives. Used by the runner, `goldstone analyze` and the testkit. */
export function createAnalysisContext(opts: {
  task: TaskInstance;
  model: ModelInstance;
  params: Params;
  seed: number;
  backend: string;
  analysis?: string;
  progress?: Progress;
  store?: AnalysisStore;
  previous?: Record<string, AnalysisResult>;
  /** The objective that was trained (default: the data loss alone). */
  objective?: TrainedObjective;
}): AnalysisContext {
  const root = new Rng(opts.seed);
  return {
    task: opts.task,
    model: opts.model,
    params: opts.params,
    loss: taskLoss(opts.task, opts.model),
    objective: opts.objective ?? dataObjective(opts.task, opts.model),
    rng: root.split(`analysis:${opts.analysis ?? ''}`),
    seed: opts.seed,
    backend: opts.backend,
    store: opts.store,
    progress: opts.progress ?? silentProgress,
    previous: opts.previous ?? {},
  };
}

/** The plugins an experiment needs, with their options validated by each plugin's own schema. */
