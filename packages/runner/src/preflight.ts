import * as tf from '@tensorflow/tfjs-core';
import { Rng, sizeOf } from '@goldstone/core';
import { formatBytes, formatCount, UsageError, type AnalysisPlugin, type ModelCreateContext, type ModelInstance, type OptionIssue, type SizeEstimate, type TaskInstance } from '@goldstone/plugin-api';
import { resolveSymmetry } from '@goldstone/trainer';
import type { TrainSettings } from './experiment';
import type { ResolvedExperiment } from './resolve';
import { memoryBudget, parameterCopies, taskDataBytes, trainingBytes, type MemoryBudget } from './memory-budget';

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
  /** What the run is estimated to take (bytes) and what it may take. */
  memory: { data: number; training: number; budget: MemoryBudget };
  /** The experiment file it was read from, if any: run.json's `git` field describes the work tree holding it. */
  file?: string;
}

const where = (file: string | undefined) => (file ? `${file}: ` : '');

/** `prefix` and a path inside it: `model.options` + `hidden` → `model.options.hidden`; + `[0]` → `model.options[0]`. */
function fieldIn(prefix: string, field: string | undefined): string {
  if (!field) return prefix;
  if (!prefix) return field;
  return field.startsWith('[') ? `${prefix}${field}` : `${prefix}.${field}`;
}

/** One UsageError of one or more problems, a line each: `FILE: FIELD: message`. */
function usageError(file: string | undefined, problems: readonly { field: string; message: string }[]): UsageError {
  return new UsageError(problems.map((p) => `${where(file)}${p.field}: ${p.message}`).join('\n'), { file, field: problems[0]?.field });
}

/** A UsageError a plugin threw about its own options (`split: …`), moved under `prefix` and the file. */
function relocated(err: UsageError, prefix: string): OptionIssue {
  const field = err.field ?? '';
  const message = field && err.message.startsWith(`${field}: `) ? err.message.slice(field.length + 2) : err.message;
  return { field: fieldIn(prefix, field || undefined), message };
}

/** Run a plugin's `check` hook: its issues (or a UsageError it throws) under `prefix`. */
function hookIssues(prefix: string, hook: () => OptionIssue[] | void): OptionIssue[] {
  try {
    return (hook() ?? []).map((i) => ({ field: fieldIn(prefix, i.field), message: i.message }));
  } catch (err) {
    if (err instanceof UsageError) return [relocated(err, prefix)];
    throw err;
  }
}

/**
 * Call a plugin's `create`: a RangeError or TypeError it throws comes from its options (an
 * impossible size, a shape that does not fit), so it becomes a UsageError naming `prefix`.
 */
async function built<T>(file: string | undefined, prefix: string, what: string, create: () => T | Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (err) {
    if (err instanceof UsageError) throw err.file ? err : usageError(file, [relocated(err, prefix)]);
    if (err instanceof RangeError || err instanceof TypeError) {
      throw usageError(file, [{ field: prefix, message: `the ${what} cannot be built from these options: ${err.message}` }]);
    }
    throw err;
  }
}

/** Problems of an estimate against the budget (none when it fits). */
function estimateProblems(est: SizeEstimate, field: string, what: string, budget: MemoryBudget): OptionIssue[] {
  const out: OptionIssue[] = [];
  const detail = est.what ? ` (${est.what})` : '';
  if ((est.largestArray ?? 0) > budget.maxArray) {
    out.push({ field, message: `${what}${detail} would need an array of ${formatCount(est.largestArray!)} values, more than the ${formatCount(budget.maxArray)} this JavaScript engine allocates in one array` });
  } else if (est.bytes > budget.total) {
    out.push({ field, message: `${what}${detail} would take ~${formatBytes(est.bytes)}, more than ${budget.totalLabel}` });
  } else if ((est.heapBytes ?? 0) > budget.heap) {
    out.push({ field, message: `${what}${detail} would take ~${formatBytes(est.heapBytes!)} of JavaScript objects, more than the ${formatBytes(budget.heap)} the engine's heap has free (node --max-old-space-size raises its limit)` });
  }
  return out;
}

/** The problem with training `params` parameters taking `bytes` (plus `data`), if it does not fit. */
function trainingProblem(params: number, bytes: number, data: number, optimizer: string, budget: MemoryBudget): string | undefined {
  const head = `the model would have ${formatCount(params)} parameters (~${formatBytes(bytes)} to train with ${optimizer})`;
  if (bytes > budget.total) return `${head}, more than ${budget.totalLabel}`;
  if (bytes > budget.tensors) return `${head}, more than ${budget.tensorsLabel}`;
  if (bytes + data > budget.total) return `${head}, which with the task's ${formatBytes(data)} of data is more than ${budget.totalLabel}`;
  return undefined;
}

/**
 * Build the task and the model of a resolved experiment (deterministic in its seed) and check every
 * rule that needs them, before anything is written or deleted, in this order:
 *
 * 1. the task's size (`TaskPlugin.estimate`) against the memory budget, then `task.create`;
 * 2. the model's rules against the task's shapes (`ModelPlugin.check`), its size
 *    (`ModelPlugin.estimate`: parameters, what `create` allocates), then `model.create` and the
 *    memory training takes (parameters, gradients, optimiser state, activations of a batch);
 * 3. the symmetry named by `train.symmetryPenalty` and the parameter groups named by `train.groups`;
 * 4. every listed analysis' options against the task, the model and the training
 *    (`AnalysisPlugin.check`).
 *
 * A RangeError or TypeError from a plugin's `create` becomes a UsageError naming its options.
 * Errors are UsageErrors naming the file and the field (`exp.yaml: model.options.hidden: …`). A
 * tensor backend must be running; the budget is {@link memoryBudget}'s unless given.
 */
export async function prepareExperiment(resolved: ResolvedExperiment, opts: { file?: string; budget?: MemoryBudget } = {}): Promise<PreparedExperiment> {
  const { file } = opts;
  const exp = resolved.experiment;
  const budget = opts.budget ?? memoryBudget({ backend: tf.getBackend() });
  const rng = new Rng(exp.seed);

  const taskPlugin = resolved.task.plugin;
  if (taskPlugin.estimate) {
    const est = taskPlugin.estimate(resolved.task.options);
    const problems = estimateProblems(est, fieldIn('task.options', est.field), `the task's data`, budget);
    if (problems.length) throw usageError(file, problems);
  }
  const task = await built(file, 'task.options', `task "${exp.task.name}"`, () => taskPlugin.create(resolved.task.options, { rng: rng.split('task') }));
  const data = taskDataBytes(task);

  const modelPlugin = resolved.model.plugin;
  const ctx: ModelCreateContext = {
    inputShape: task.inputShape,
    outputSize: task.outputSize,
    outputKind: task.outputKind,
    ...(task.graph ? { graph: task.graph } : {}),
  };
  const modelIssues = modelPlugin.check ? hookIssues('model.options', () => modelPlugin.check!(resolved.model.options, ctx)) : [];
  if (modelIssues.length) throw usageError(file, modelIssues);
  let sizeField = 'model.options';
  let activations: number | undefined;
  if (modelPlugin.estimate) {
    const est = modelPlugin.estimate(resolved.model.options, ctx);
    activations = est.activations;
    sizeField = fieldIn('model.options', est.field);
    const problems = estimateProblems(est, sizeField, `model "${exp.model.name}"`, budget);
    if (problems.length) throw usageError(file, problems);
    if (est.params !== undefined) {
      const problem = trainingProblem(est.params, 4 * est.params * parameterCopies(exp.train), data, exp.train.optimizer, budget);
      if (problem) throw usageError(file, [{ field: sizeField, message: problem }]);
    }
  }
  const model = await built(file, 'model.options', `model "${exp.model.name}"`, () => modelPlugin.create(resolved.model.options, ctx));
  const training = trainingBytes(model, task, exp.train, activations);
  {
    const largest = model.specs.reduce((a, s) => (sizeOf(s.shape) > a.size ? { name: s.name, size: sizeOf(s.shape) } : a), { name: '', size: 0 });
    const problem = trainingProblem(model.paramCount, training.bytes, data, exp.train.optimizer, budget);
    if (problem) {
      const batch = training.activations > training.params;
      throw usageError(file, [
        batch
          ? { field: 'train.batchSize', message: `a batch of ${Math.min(exp.train.batchSize, task.splits.train.n)} examples would take ~${formatBytes(training.activations)} of activations to train (~${formatBytes(training.bytes)} in all), more than ${training.bytes <= budget.total && training.bytes > budget.tensors ? budget.tensorsLabel : budget.totalLabel}` }
          : { field: sizeField, message: problem },
      ]);
    }
    if (largest.size > budget.maxArray) {
      throw usageError(file, [{ field: sizeField, message: `the parameter "${largest.name}" would have ${formatCount(largest.size)} values, more than the ${formatCount(budget.maxArray)} this JavaScript engine allocates in one array` }]);
    }
  }

  if (exp.train.symmetryPenalty) {
    try {
      resolveSymmetry(task, exp.train.symmetryPenalty);
    } catch (err) {
      if (err instanceof UsageError) throw usageError(file, [relocated(err, '')].map((i) => ({ ...i, field: i.field || 'train.symmetryPenalty' })));
      throw err;
    }
  }
  const groups = exp.train.groups
    ? Object.entries(exp.train.groups).map(([name, g]): PreparedGroup => {
        const params = Object.hasOwn(model.groups ?? {}, name) ? model.groups![name] : undefined;
        if (!params) {
          throw usageError(file, [
            { field: `train.groups.${name}`, message: `the model "${exp.model.name}" has no parameter group "${name}" (it has: ${Object.keys(model.groups ?? {}).join(', ') || 'none'})` },
          ]);
        }
        return { name, params, ...g };
      })
    : undefined;

  const analysisIssues = resolved.analyses.flatMap((a, i) => analysisOptionIssues(a.plugin, a.options, `analyses[${i}].options`, { task, model, train: exp.train, memoryLimit: budget.total }));
  if (analysisIssues.length) throw usageError(file, analysisIssues);
  return { resolved, task, model, rng, ...(groups ? { groups } : {}), memory: { data, training: training.bytes, budget }, ...(file ? { file } : {}) };
}

/** An analysis plugin's `check` hook on its (parsed) options: its issues under `prefix`, none without a hook. */
function analysisOptionIssues(plugin: AnalysisPlugin, options: unknown, prefix: string, ctx: Parameters<NonNullable<AnalysisPlugin['check']>>[1]): OptionIssue[] {
  return plugin.check ? hookIssues(prefix, () => plugin.check!(options, ctx)) : [];
}

/**
 * Check one analysis' options against a built task and model, as `prepareExperiment` does for the
 * listed ones (`goldstone analyze` uses it): a UsageError naming `where` and `prefix.FIELD`.
 */
export function checkAnalysisOptions(
  plugin: AnalysisPlugin,
  options: unknown,
  ctx: { task: TaskInstance; model: ModelInstance; train: TrainSettings },
  where: { source?: string; prefix: string },
): void {
  const issues = analysisOptionIssues(plugin, options, where.prefix, { ...ctx, memoryLimit: memoryBudget({ backend: tf.getBackend() }).total });
  if (issues.length) throw usageError(where.source, issues);
}
