import { paramsToArray } from '@goldstone/core';
import type { ModelInstance, TrainHooks } from '@goldstone/plugin-api';

/** What the train hooks recorded for one model instance. */
export interface LandscapeRecording {
  /** The initial parameters (flat, in `specs` order). */
  init: Float32Array | null;
  /** Flat parameters every `every` steps, and the steps they were taken at. */
  snapshots: Float32Array[];
  steps: number[];
  every: number;
  /** Whether snapshots were asked for (directions include pca). */
  trajectory: boolean;
}

const recordings = new WeakMap<ModelInstance, LandscapeRecording>();

/** The recording the hooks made while `model` trained, if any. */
export function landscapeRecordingFor(model: ModelInstance): LandscapeRecording | undefined {
  return recordings.get(model);
}

/**
 * Train hooks that copy the initial parameters and, when `trajectory` is set, all parameters
 * every `every` steps (and at the last step), keyed by the model instance so that `run` finds them
 * after training. Cost: one host copy of the parameters per snapshot.
 */
export function recordLandscape(model: ModelInstance, opts: { every: number; trajectory: boolean }): TrainHooks {
  const rec: LandscapeRecording = { init: null, snapshots: [], steps: [], every: opts.every, trajectory: opts.trajectory };
  recordings.set(model, rec);
  let lastStep = 0;
  return {
    onStart({ params }) {
      rec.init = paramsToArray(params, model.specs);
      rec.snapshots = [];
      rec.steps = [];
      lastStep = 0;
      if (opts.trajectory) {
        rec.snapshots.push(rec.init);
        rec.steps.push(0);
      }
    },
    onStep({ step, params }) {
      if (!opts.trajectory) return;
      lastStep = step;
      if (step % opts.every !== 0) return;
      rec.snapshots.push(paramsToArray(params, model.specs));
      rec.steps.push(step);
    },
    onEnd({ params }) {
      if (!opts.trajectory || rec.steps[rec.steps.length - 1] === lastStep) return;
      rec.snapshots.push(paramsToArray(params, model.specs));
      rec.steps.push(lastStep);
    },
  };
}
