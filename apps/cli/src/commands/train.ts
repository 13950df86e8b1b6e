import { join } from 'node:path';
import {
  markInterruptedOnSignal,
  packageVersions,
  parseAssignments,
  parseExperiment,
  prepareExperiment,
  prepareOutDir,
  registryFor,
  resolveExperiment,
  runExperiment,
  startBackend,
} from '@goldstone/runner';
import { RunStore } from '@goldstone/run-store';
import type { BackendChoice } from '@goldstone/core';
import { cliEnvironment } from '../environment';
import { stderrProgress } from '../progress';

export interface TrainFlags {
  task: string;
  model: string;
  set?: string[];
  seed?: string;
  out?: string;
  backend?: BackendChoice;
  plugin?: string[];
  json?: boolean;
  force?: boolean;
}

/** Train a model on a task without analyses: `--set` paths address the experiment (train.lr, model.options.hidden, …). */
export async function trainCommand(flags: TrainFlags): Promise<number> {
  const raw = { task: { name: flags.task }, model: { name: flags.model }, plugins: flags.plugin ?? [] };
  const set = parseAssignments(flags.set);
  if (flags.seed !== undefined) set.seed = Number(flags.seed);
  if (flags.backend) set.backend = flags.backend;
  const experiment = parseExperiment(raw, { file: 'command line', set });
  const env = cliEnvironment();
  const registry = await registryFor(env, experiment, process.cwd());
  const resolved = resolveExperiment(experiment, registry, 'command line');
  const out = flags.out ?? join('runs', `${flags.task}-${flags.model}-seed${experiment.seed}`);
  const backend = await startBackend(experiment.backend);
  const prepared = await prepareExperiment(resolved, { file: 'command line' });
  prepareOutDir(out, flags.force);
  const progress = stderrProgress();
  const store = await RunStore.create(out);
  const release = markInterruptedOnSignal(store);
  const outcome = await runExperiment({ prepared, store, backend, packages: packageVersions(env, registry), progress, skipAnalyses: true }).finally(release);
  if (flags.json) process.stdout.write(`${JSON.stringify({ run: out, status: outcome.status, message: outcome.message, final: outcome.final }, null, 2)}\n`);
  if (outcome.status !== 'completed') {
    process.stderr.write(`error: run ${outcome.status}: ${outcome.message ?? ''}\n`);
    return 1;
  }
  progress.log(`done: ${out}`);
  return 0;
}
