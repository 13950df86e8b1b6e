import { join } from 'node:path';
import {
  checkOutFlag,
  createRunDirectory,
  markInterruptedOnSignal,
  packageVersions,
  parseAssignments,
  parseExperiment,
  prepareExperiment,
  registryFor,
  resolveExperiment,
  runExperiment,
  startBackend,
} from '@goldstone/runner';
import type { BackendChoice } from '@goldstone/core';
import { cliEnvironment } from '../environment';
import { stderrProgress } from '../progress';
import { runSummary } from '../summary';
import { lastGoodCheckpoint } from './run';

export interface TrainFlags {
  task: string;
  model: string;
  set?: string[];
  seed?: number;
  out?: string;
  backend?: BackendChoice;
  plugin?: string[];
  json?: boolean;
  force?: boolean;
  quiet?: boolean;
}

/** Train a model on a task without analyses: `--set` paths address the experiment (train.lr, model.options.hidden, …). */
export async function trainCommand(flags: TrainFlags): Promise<number> {
  checkOutFlag(flags.out);
  const raw = { plugins: flags.plugin ?? [] };
  // --task and --model come first, so that --set task.options.… applies on top of them
  const set: Record<string, unknown> = { 'task.name': flags.task, 'model.name': flags.model, ...parseAssignments(flags.set) };
  if (flags.seed !== undefined) set.seed = flags.seed;
  if (flags.backend) set.backend = flags.backend;
  // each value is blamed on the flag that gave it: `--task cltt: task.name: unknown task plugin …`
  const sources = { 'task.name': `--task ${flags.task}`, 'model.name': `--model ${flags.model}` };
  const experiment = parseExperiment(raw, { file: 'command line', set, sources });
  const env = cliEnvironment();
  const registry = await registryFor(env, experiment, process.cwd());
  const resolved = resolveExperiment(experiment, registry, 'command line');
  const out = flags.out ?? join('runs', `${flags.task}-${flags.model}-seed${experiment.seed}`);
  const backend = await startBackend(experiment.backend);
  const prepared = await prepareExperiment(resolved, { file: 'command line' });
  const store = await createRunDirectory(out, flags.force);
  const progress = stderrProgress({ quiet: flags.quiet });
  const release = markInterruptedOnSignal(store);
  const outcome = await runExperiment({ prepared, store, backend, packages: packageVersions(env, registry), progress, skipAnalyses: true }).finally(release);
  if (flags.json) process.stdout.write(`${JSON.stringify({ run: out, status: outcome.status, message: outcome.message, final: outcome.final }, null, 2)}\n`);
  if (outcome.status !== 'completed') {
    process.stderr.write(`error: run ${outcome.status}: ${outcome.message ?? ''}\n`);
    if (outcome.status === 'diverged') process.stderr.write(`the last good checkpoint is kept in ${await lastGoodCheckpoint(store, out)}\n`);
    return 1;
  }
  progress.log(`done: ${out}`);
  for (const line of runSummary({ final: outcome.final, outputKind: prepared.task.outputKind, analyses: {} })) progress.log(`  ${line}`);
  return 0;
}
