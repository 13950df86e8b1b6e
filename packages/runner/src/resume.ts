import { disposeParams } from '@goldstone/core';
import { messageOf, UsageError, type Json, type ModelInstance, type OptimizerStateEntry, type Params, type ParamSpec } from '@goldstone/plugin-api';
import type { LoadedCheckpoint, RunStore } from '@goldstone/run-store';
import { createOptimizer, type OptimizerConfig, type ParamGroup } from '@goldstone/trainer';
import { CHECKPOINTS_DIR } from '@goldstone/run-store/format';

/** Where a resumed run continues: the checkpoint's tag, the epochs it holds, its parameters and optimiser state. */
export interface ResumePoint {
  tag: string;
  epoch: number;
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
}

const shape = (s: readonly number[]) => `[${s.join(',')}]`;

/** How the checkpoint's parameters differ from the model's (empty when they fit). */
function specMismatches(saved: readonly ParamSpec[], wanted: readonly ParamSpec[]): string[] {
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
    return { tag, epoch: epoch as number, params: loaded.params, optimizerState: loaded.optimizerState };
  } catch (err) {
    disposeParams(loaded.params);
    throw err;
  }
}
