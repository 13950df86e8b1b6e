import { disposeParams } from '@goldstone/core';
import { messageOf, UsageError, type Json, type ModelInstance, type OptimizerStateEntry, type Params, type ParamSpec } from '@goldstone/plugin-api';
import type { LoadedCheckpoint, RunStore } from '@goldstone/run-store';
import { createOptimizer, type OptimizerConfig, type ParamGroup } from '@goldstone/trainer';
import { CHECKPOINTS_DIR } from '@goldstone/run-store/format';

/** Where a resumed run continues: the checkpoint's tag, the epochs it holds, its parameters and optimiser state. */
export interface ResumePoint {
  tag: string;
  epoch: number;
  /** The updates the checkpoint holds (its `meta.step`; else `epoch` whole epochs of batches). */
  step: number;
  /** New tensors, owned by the caller. */
  params: Params;
  optimizerState?: OptimizerStateEntry[];
}

/** What the checkpoint must fit: the model and the training the experiment's config asks for. */
export interface ResumeTarget {
  model: ModelInstance;
  /** The model plugin's name, for messages. */
  modelName: string;
  /** `train.epochs`. */
  epochs: number;
  optimizer: OptimizerConfig;
  groups: ParamGroup[];
  /** Batches per epoch (for a checkpoint whose meta has no `step`). */
  batchesPerEpoch?: number;
}

const shape = (s: readonly number[]) => `[${s.join(',')}]`;

/** How the checkpoint's parameters differ from the model's (empty when they fit). */
export function specMismatches(saved: readonly ParamSpec[], wanted: readonly ParamSpec[]): string[] {
  const have = new Map(saved.map((s) => [s.name, s.shape]));
  const out: string[] = [];
  for (const w of wanted) {
    const s = have.get(w.name);
    if (!s) out.push(`"${w.name}": missing in the checkpoint, ${shape(w.shape)} in the model`);
    else if (shape(s) !== shape(w.shape)) out.push(`"${w.name}": ${shape(s)} in the checkpoint, ${shape(w.shape)} in the model`);
    have.delete(w.name);
  }
  for (const [name, s] of have) out.push(`"${name}": ${shape(s)} in the checkpoint, not in the model`);
  return out;
}

/** The optimiser state's problem for the configured optimiser, or undefined when it fits. */
function stateMismatch(state: readonly OptimizerStateEntry[], target: ResumeTarget): string | undefined {
  const optimizer = createOptimizer(target.optimizer, target.model.specs, target.groups);
  try {
    optimizer.setState(state);
    return undefined;
  } catch (err) {
    return messageOf(err);
  } finally {
    optimizer.dispose();
  }
}

/**
 * The checkpoint a resumed run continues from, read and checked against the config before anything
 * is written: `last` must name a readable checkpoint whose parameters have the names and shapes of
 * the model the config builds, whose epoch is within `train.epochs` and whose optimiser state (if
 * saved) fits `train.optimizer`. Anything else is a UsageError saying which file or field and why.
 * Undefined when the run saved no checkpoint at all (it then starts from epoch 0).
 */
export async function loadResumePoint(store: RunStore, target: ResumeTarget): Promise<ResumePoint | undefined> {
  const refuse = (why: string, file?: string): never => {
    throw new UsageError(`--resume: cannot resume ${store.dir}: ${why}`, { file });
  };
  let tag: string | undefined;
  try {
    tag = await store.lastCheckpointTag();
  } catch (err) {
    return refuse(messageOf(err), store.path(CHECKPOINTS_DIR, 'last.json'));
  }
  if (tag === undefined) {
    const others = await store.listCheckpoints();
    if (others.length === 0) return undefined;
    return refuse(`${store.path(CHECKPOINTS_DIR)} holds the checkpoint ${others.join(', ')}, but no last.json says which one is the last good one`);
  }
  const file = store.path(CHECKPOINTS_DIR, tag, 'model.json');
  let loaded: LoadedCheckpoint;
  try {
    loaded = await store.loadCheckpoint('last');
  } catch (err) {
    return refuse(messageOf(err), file);
  }
  try {
    const mismatches = specMismatches(loaded.specs, target.model.specs);
    if (mismatches.length > 0) {
      refuse(`checkpoint "${tag}" does not fit the model "${target.modelName}" the config builds: ${mismatches.join('; ')}`, file);
    }
    const epoch = (loaded.meta as Record<string, Json> | null)?.epoch;
    if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0) {
      refuse(`${file}: meta.epoch should be the number of epochs the checkpoint holds, found ${JSON.stringify(epoch ?? null)}`, file);
    } else if (epoch > target.epochs) {
      refuse(`checkpoint "${tag}" was saved after epoch ${epoch}, but train.epochs is ${target.epochs}: ask for at least ${epoch}`, file);
    }
    const problem = loaded.optimizerState ? stateMismatch(loaded.optimizerState, target) : undefined;
    if (problem) refuse(`the optimiser state in checkpoint "${tag}" does not fit train.optimizer "${target.optimizer.name}" (${problem})`, file);
    const saved = (loaded.meta as Record<string, Json> | null)?.step;
    const step = typeof saved === 'number' && Number.isInteger(saved) && saved >= 0 ? saved : (epoch as number) * (target.batchesPerEpoch ?? 0);
    return { tag, epoch: epoch as number, step, params: loaded.params, optimizerState: loaded.optimizerState };
  } catch (err) {
    disposeParams(loaded.params);
    throw err;
  }
}

/**
 * The fields of an experiment that may differ between a run and the experiment that resumes it:
 * they change neither the parameters nor the data order of the epochs still to come. Anything
 * below one of these paths may differ too. Everything else (seed, task, model, optimiser, batch
 * size, schedule, …) must be the same.
 *
 * - `name`, `description`, `protocol`: labels;
 * - `backend`: where the numbers are computed (the result is bit-identical to an uninterrupted run
 *   only on the same backend);
 * - `plugins`: where plugin modules are loaded from (the plugins' names and options are compared);
 * - `quick`, `sweep`: blocks read only when a run or sweep starts;
 * - `train.epochs`: train for longer (or less long, down to the checkpoint's epoch), unless a
 *   cosine schedule of the lr or of the symmetry penalty depends on it;
 * - `train.evalEvery`, `train.logEvery`, `train.checkpointEvery`: how often rows and checkpoints are written;
 * - `analyses`: what runs after training, except analyses that record during training (train hooks):
 *   those must be listed with the same id, name and options as in the run.
 */
export const RESUMABLE_CHANGES: readonly string[] = [
  'name',
  'description',
  'protocol',
  'backend',
  'plugins',
  'quick',
  'sweep',
  'train.epochs',
  'train.evalEvery',
  'train.logEvery',
  'train.checkpointEvery',
  'analyses',
];

/** One field whose value differs between the run's stored config and the experiment. */
export interface ConfigDifference {
  path: string;
  /** undefined: not set in that config. */
  run: Json | undefined;
  experiment: Json | undefined;
}

const isPlain = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every leaf path (objects recursed, arrays compared whole) where two JSON configs differ. */
export function configDifferences(run: Json | undefined, experiment: Json | undefined, path = ''): ConfigDifference[] {
  if (isPlain(run) && isPlain(experiment)) {
    const keys = [...new Set([...Object.keys(run), ...Object.keys(experiment)])];
    return keys.flatMap((k) => configDifferences(Object.hasOwn(run, k) ? run[k] : undefined, Object.hasOwn(experiment, k) ? experiment[k] : undefined, path ? `${path}.${k}` : k));
  }
  return JSON.stringify(run) === JSON.stringify(experiment) ? [] : [{ path, run, experiment }];
}

const shown = (v: Json | undefined) => {
  if (v === undefined) return 'not set';
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

const under = (path: string, root: string) => path === root || path.startsWith(`${root}.`);

/**
 * Why the experiment cannot resume the run whose stored config is `run` (empty when it can): each
 * differing field that is not in RESUMABLE_CHANGES, as `model.options.hidden: [8] in the run, [16]
 * in the experiment`. `hooked` are the ids of the experiment's analyses that record during training.
 */
export function resumeConflicts(run: Json, experiment: Json, hooked: readonly string[] = []): string[] {
  const out: string[] = [];
  const exp = experiment as Record<string, any>;
  const cosine = [exp?.train?.schedule?.kind, exp?.train?.symmetryPenalty?.schedule?.kind, (run as Record<string, any>)?.train?.schedule?.kind].includes('cosine');
  for (const d of configDifferences(run, experiment)) {
    const what = `${d.path || '(the whole config)'}: ${shown(d.run)} in the run, ${shown(d.experiment)} in the experiment`;
    if (d.path === 'train.epochs' && cosine) out.push(`${what} (a cosine schedule depends on train.epochs)`);
    else if (under(d.path, 'analyses')) continue;
    else if (!RESUMABLE_CHANGES.some((root) => under(d.path, root))) out.push(what);
  }
  const stored = Array.isArray((run as Record<string, any>)?.analyses) ? ((run as Record<string, any>).analyses as Json[]) : [];
  for (const id of hooked) {
    const now = (exp.analyses as Record<string, Json>[]).find((a) => a.id === id);
    const before = stored.find((a) => isPlain(a) && a.id === id);
    if (JSON.stringify(now) !== JSON.stringify(before)) {
      out.push(`analyses: "${id}" records during training, so it must be as in the run: ${shown(before)} in the run, ${shown(now)} in the experiment`);
    }
  }
  return out;
}
