import { Rng } from '@goldstone/core';
import { UsageError, type ModelInstance, type TaskInstance } from '@goldstone/plugin-api';
import { resolveSymmetry } from '@goldstone/trainer';
import type { ResolvedExperiment } from './run-experiment';

/** A parameter group of `train.groups` resolved against the model: its parameters and settings. */
export interface PreparedGroup {
  name: string;
  params: string[];
  lr?: number;
  weightDecay?: number;
}

/**
 * An experiment with its task and model built and every check that needs them passed: what
 * `runExperiment` trains. Nothing has been written anywhere yet.
 */
export interface PreparedExperiment {
  resolved: ResolvedExperiment;
  task: TaskInstance;
  model: ModelInstance;
  /** The experiment's root random stream (`seed`); split it by purpose. */
  rng: Rng;
  /** `train.groups` resolved against the model's parameter groups. */
  groups?: PreparedGroup[];
}

const where = (file: string | undefined) => (file ? `${file}: ` : '');

/**
 * Build the task and the model of a resolved experiment (deterministic in its seed) and check every
 * rule that needs them, before anything is written or deleted: the symmetry named by
 * `train.symmetryPenalty`, the parameter groups named by `train.groups`. Errors are UsageErrors
 * naming the file and the field. A tensor backend must be running.
 */
export async function prepareExperiment(resolved: ResolvedExperiment, opts: { file?: string } = {}): Promise<PreparedExperiment> {
  const exp = resolved.experiment;
  const rng = new Rng(exp.seed);
  const task = await resolved.task.plugin.create(resolved.task.options, { rng: rng.split('task') });
  const model = resolved.model.plugin.create(resolved.model.options, {
    inputShape: task.inputShape,
    outputSize: task.outputSize,
    outputKind: task.outputKind,
    ...(task.graph ? { graph: task.graph } : {}),
  });
  if (exp.train.symmetryPenalty) {
    try {
      resolveSymmetry(task, exp.train.symmetryPenalty);
    } catch (err) {
      if (err instanceof UsageError) throw new UsageError(`${where(opts.file)}${err.message}`, { file: opts.file, field: err.field ?? 'train.symmetryPenalty' });
      throw err;
    }
  }
  const groups = exp.train.groups
    ? Object.entries(exp.train.groups).map(([name, g]): PreparedGroup => {
        const params = Object.hasOwn(model.groups ?? {}, name) ? model.groups![name] : undefined;
        if (!params) {
          throw new UsageError(
            `${where(opts.file)}train.groups.${name}: the model "${exp.model.name}" has no parameter group "${name}" (it has: ${Object.keys(model.groups ?? {}).join(', ') || 'none'})`,
            { file: opts.file, field: `train.groups.${name}` },
          );
        }
        return { name, params, ...g };
      })
    : undefined;
  return { resolved, task, model, rng, ...(groups ? { groups } : {}) };
}
