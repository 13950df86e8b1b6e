import { disposeParams } from '@goldstone/core';
import { UsageError, type ModelInstance, type Progress } from '@goldstone/plugin-api';
import type { RunStore } from '@goldstone/run-store';
import { replicaIssues, trainReplicas, type TrainOptions, type TrainResult } from '@goldstone/trainer';
import type { PreparedExperiment } from './preflight';
import type { ResolvedExperiment } from './resolve';
import { configDifferences } from './resume';
import { resolvedConfig, runExperiment, type RunOutcome } from './run-experiment';

/** The experiment fields in which the runs of a vectorised group may differ (and, for labels, name and description). */
export const REPLICA_PATHS: readonly string[] = ['seed', 'train.lr'];
const IGNORED = new Set([...REPLICA_PATHS, 'name', 'description']);

/**
 * Why runs of this experiment cannot be trained as stacked replicas (undefined: they can): a model
 * without `applyReplicas` (given `model`, the built instance), analyses that record during training
 * (train hooks), or a symmetry penalty.
 */
export function replicaIssue(resolved: ResolvedExperiment, model?: ModelInstance): string | undefined {
  const exp = resolved.experiment;
  if (model && !model.applyReplicas) {
    const arch = typeof model.info?.architecture === 'string' ? ` (${model.info.architecture})` : '';
    return `the model "${exp.model.name}"${arch} has no applyReplicas: only a plain mlp (no block structure or constraints) trains as stacked replicas`;
  }
  const hooked = resolved.analyses.filter((a) => a.plugin.trainHooks).map((a) => a.id);
  if (hooked.length > 0) return `analyses ${hooked.map((id) => `"${id}"`).join(', ')} record during training (train hooks), so each run trains on its own`;
  if (exp.train.symmetryPenalty) return 'train.symmetryPenalty is set: a penalised run trains on its own';
  return undefined;
}

/** The fields (dotted paths) in which two experiments differ beyond seed and train.lr; empty: they can share a vectorised group. */
export function replicaDifferences(a: ResolvedExperiment, b: ResolvedExperiment): string[] {
  return configDifferences(resolvedConfig(a), resolvedConfig(b))
    .map((d) => d.path)
    .filter((p) => !IGNORED.has(p));
}

export interface GroupMember {
  /** The run, prepared (built and checked) by `prepareExperiment`. */
  prepared: PreparedExperiment;
  /** Its run directory (created, empty). */
  store: RunStore;
  progress?: Progress;
}

/**
 * Run several experiments that differ only in `seed` and `train.lr` as one vectorised group: each
 * run directory is written exactly as `runExperiment` writes it (run.json, the initial checkpoint,
 * metrics, checkpoints, then the run's analyses with its own trained parameters, and its status),
 * but the models are trained together by one `trainReplicas` call (stacked parameters, one batched
 * step for all). Analyses run one run after another, in order. Groups always train from scratch
 * (no resume). Everything is checked before anything is written: a member that cannot be
 * vectorised, or that differs from the first in more than seed and lr, is a UsageError.
 *
 * Returns each run's outcome (or why it failed) in order; `onSettled` hears of each as it ends.
 */
export async function runExperimentGroup(opts: {
  members: readonly GroupMember[];
  backend: string;
  packages?: Record<string, string>;
  onSettled?(index: number, result: PromiseSettledResult<RunOutcome>): void | Promise<void>;
}): Promise<PromiseSettledResult<RunOutcome>[]> {
  const { members } = opts;
  if (members.length === 0) return [];
  const first = members[0].prepared;
  members.forEach(({ prepared, store }) => {
    const issue = replicaIssue(prepared.resolved, prepared.model);
    if (issue) throw new UsageError(`${store.dir}: cannot train as one of a vectorised group: ${issue}`, { file: store.dir });
    const diffs = replicaDifferences(first.resolved, prepared.resolved);
    if (diffs.length > 0) {
      throw new UsageError(`${store.dir}: a vectorised group's runs may differ only in ${REPLICA_PATHS.join(' and ')}, this one differs from ${members[0].store.dir} in ${diffs.join(', ')}`, { file: store.dir });
    }
    const [a, b] = [first.task.splits.train, prepared.task.splits.train];
    if (a.n !== b.n) throw new UsageError(`${store.dir}: a vectorised group's tasks must have train splits of one size; this one has ${b.n} examples, ${members[0].store.dir} ${a.n}`, { file: store.dir });
  });

  // Each member runs runExperiment up to training, hands its TrainOptions over and waits; once
  // every member has either done so or ended early, all are trained at once.
  interface Asked {
    index: number;
    options: TrainOptions;
    deliver(result: TrainResult): void;
    fail(err: unknown): void;
  }
  const asked: Asked[] = [];
  const hasAsked = members.map(() => false);
  let open = members.length;
  let allAsked!: () => void;
  const ready = new Promise<void>((resolve) => (allAsked = resolve));
  const settle = () => {
    open -= 1;
    if (open === 0) allAsked();
  };
  const settled: Promise<PromiseSettledResult<RunOutcome>>[] = members.map((m, index) => {
    const run = runExperiment({
      prepared: m.prepared,
      store: m.store,
      backend: opts.backend,
      packages: opts.packages,
      progress: m.progress,
      train: (options) =>
        new Promise<TrainResult>((deliver, fail) => {
          hasAsked[index] = true;
          asked.push({ index, options, deliver, fail });
          settle();
        }),
    });
    return run.then(
      (value) => ({ status: 'fulfilled' as const, value }),
      (reason: unknown) => ({ status: 'rejected' as const, reason }),
    ).then(async (result) => {
      if (!hasAsked[index]) settle();
      await opts.onSettled?.(index, result);
      return result;
    });
  });

  await ready;
  asked.sort((a, b) => a.index - b.index);
  if (asked.length > 0) {
    const issues = replicaIssues(asked.map((a) => a.options));
    let results: TrainResult[] | undefined;
    let failure: unknown;
    if (issues.length > 0) {
      for (const a of asked) disposeParams(a.options.params);
      failure = new Error(`vectorised group: ${issues.join('; ')}`);
    } else {
      try {
        results = await trainReplicas(asked.map((a) => a.options));
      } catch (err) {
        failure = err;
      }
    }
    if (!results) for (const a of asked) a.fail(failure);
    else {
      // one run's analyses after another: the next run gets its parameters when the last has ended
      for (let k = 0; k < asked.length; k++) {
        asked[k].deliver(results[k]);
        await settled[asked[k].index];
      }
    }
  }
  return Promise.all(settled);
}
