import type { z } from 'zod';
import { UsageError, type AnalysisPlugin, type ModelPlugin, type Registry, type TaskPlugin } from '@goldstone/plugin-api';
import { locateField, parseOrThrow, type Experiment } from './experiment';

export interface ResolvedExperiment {
  experiment: Experiment;
  task: { plugin: TaskPlugin; options: unknown };
  model: { plugin: ModelPlugin; options: unknown };
  /** Each listed analysis with its result id (`analyses/<id>.json`), unique in the run. */
  analyses: { id: string; plugin: AnalysisPlugin; options: unknown }[];
}

/**
 * The result ids of an experiment's analyses: an entry's own `id`, else its name, and for a name
 * listed again without an id `name-2`, `name-3`, … in list order. Ids are unique in the run.
 */
export function analysisIds(analyses: readonly { name: string; id?: string }[], file?: string): string[] {
  const taken = new Set<string>();
  for (const [i, a] of analyses.entries()) {
    if (a.id === undefined) continue;
    if (taken.has(a.id)) {
      throw new UsageError(`${file ? `${file}: ` : ''}analyses[${i}].id: "${a.id}" is the id of an earlier analysis; ids must be unique`, { file, field: `analyses[${i}].id` });
    }
    taken.add(a.id);
  }
  const ids: string[] = [];
  for (const a of analyses) {
    if (a.id !== undefined) {
      ids.push(a.id);
      continue;
    }
    let id = a.name;
    for (let k = 2; taken.has(id); k++) id = `${a.name}-${k}`;
    taken.add(id);
    ids.push(id);
  }
  return ids;
}

/**
 * Look every plugin of an experiment up in the registry and validate its options, before anything
 * runs. Errors name the file and the field (`model.options.hidden`).
 */
export function resolveExperiment(experiment: Experiment, registry: Registry, file?: string): ResolvedExperiment {
  const lookup = <K extends 'task' | 'model' | 'analysis'>(kind: K, name: string, path: (string | number)[]) => {
    try {
      return registry.get(kind, name);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      // Named where the name was written: the file, `quick.…` in it, or the flag that set it.
      const { where, field } = locateField(experiment, [...path, 'name'], file);
      throw new UsageError(`${where ? `${where}: ` : ''}${field}: ${err.message}`, { file: where === file ? file : undefined, field });
    }
  };
  const validate = (schema: z.ZodType, options: unknown, prefix: (string | number)[]) =>
    parseOrThrow(schema, options ?? {}, { file, prefix });
  const taskPlugin = lookup('task', experiment.task.name, ['task']);
  const modelPlugin = lookup('model', experiment.model.name, ['model']);
  const ids = analysisIds(experiment.analyses, file);
  const analyses = experiment.analyses.map((a, i) => {
    const plugin = lookup('analysis', a.name, ['analyses', i]);
    return { id: ids[i], plugin, options: validate(plugin.options, a.options, ['analyses', i, 'options']) };
  });
  return {
    experiment,
    task: { plugin: taskPlugin, options: validate(taskPlugin.options, experiment.task.options, ['task', 'options']) },
    model: { plugin: modelPlugin, options: validate(modelPlugin.options, experiment.model.options, ['model', 'options']) },
    analyses,
  };
}
