import { existsSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import {
  loadExperimentFile,
  markInterruptedOnSignal,
  packageVersions,
  parseAssignments,
  prepareExperiment,
  prepareOutDir,
  registryFor,
  resolveExperiment,
  runExperiment,
  startBackend,
} from '@goldstone/runner';
import { RunStore } from '@goldstone/run-store';
import { UsageError } from '@goldstone/plugin-api';
import type { BackendChoice } from '@goldstone/core';
import { writeRunReport } from '@goldstone/report';
import { cliEnvironment } from '../environment';
import { stderrProgress } from '../progress';
import { CHECKPOINTS_DIR, RUN_FILE } from '@goldstone/run-store/format';

export interface RunFlags {
  out?: string;
  quick?: boolean;
  set?: string[];
  seed?: string;
  backend?: BackendChoice;
  json?: boolean;
  force?: boolean;
  report?: boolean;
  resume?: boolean;
}

export async function runCommand(file: string, flags: RunFlags): Promise<number> {
  const set = parseAssignments(flags.set);
  if (flags.seed !== undefined) set.seed = Number(flags.seed);
  if (flags.backend) set.backend = flags.backend;
  // Everything is validated before anything is written.
  const { experiment, dir } = loadExperimentFile(file, { quick: flags.quick, set });
  const env = cliEnvironment();
  const registry = await registryFor(env, experiment, dir, file);
  const resolved = resolveExperiment(experiment, registry, file);
  const out = flags.out ?? join('runs', experiment.name ?? basename(file, extname(file)));
  if (flags.resume && flags.force) throw new UsageError('--resume and --force exclude each other');
  const resuming = Boolean(flags.resume) && existsSync(join(out, RUN_FILE));
  const backend = await startBackend(experiment.backend);
  // Build the task and model and check everything that needs them before the run directory is touched.
  const prepared = await prepareExperiment(resolved, { file });
  if (!resuming) prepareOutDir(out, flags.force);

  const progress = stderrProgress();
  const store = await RunStore.create(out, { resume: resuming });
  if (resuming) {
    const previous = (await store.readRun()) as { status?: string };
    if (previous.status === 'completed') {
      progress.log(`${out} is already completed; nothing to resume`);
      return 0;
    }
  }
  progress.log(`run ${out} (backend ${backend}, seed ${experiment.seed}${flags.quick ? ', quick' : ''})`);
  const release = markInterruptedOnSignal(store);
  const outcome = await runExperiment({ prepared, store, backend, packages: packageVersions(env, registry), progress, resume: resuming }).finally(release);
  let reportPath: string | undefined;
  if (flags.report !== false) reportPath = await writeRunReport(out);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ run: out, status: outcome.status, message: outcome.message, final: outcome.final, report: reportPath }, null, 2)}\n`);
  }
  if (outcome.status !== 'completed') {
    process.stderr.write(`error: run ${outcome.status}: ${outcome.message ?? ''}\n`);
    if (outcome.status === 'diverged') process.stderr.write(`the last good checkpoint is kept in ${join(out, CHECKPOINTS_DIR)}\n`);
    return 1;
  }
  progress.log(`done: ${out}${reportPath ? ` (report: ${reportPath})` : ''}`);
  return 0;
}
