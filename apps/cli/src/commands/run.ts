import { basename, extname, join } from 'node:path';
import {
  checkOutFlag,
  createRunDirectory,
  loadExperimentFile,
  markInterruptedOnSignal,
  openRunToResume,
  packageVersions,
  parseAssignments,
  prepareExperiment,
  registryFor,
  resolvedConfig,
  resolveExperiment,
  resumeConflicts,
  runExperiment,
  startBackend,
} from '@goldstone/runner';
import type { RunStore } from '@goldstone/run-store';
import { UsageError, type Json } from '@goldstone/plugin-api';
import type { BackendChoice } from '@goldstone/core';
import { writeRunReport } from '@goldstone/report';
import { cliEnvironment } from '../environment';
import { stderrProgress } from '../progress';
import { runSummary } from '../summary';
import { CHECKPOINTS_DIR } from '@goldstone/run-store/format';

export interface RunFlags {
  out?: string;
  quick?: boolean;
  set?: string[];
  seed?: number;
  backend?: BackendChoice;
  json?: boolean;
  force?: boolean;
  report?: boolean;
  resume?: boolean;
  quiet?: boolean;
}

/** Where a diverged run's last good checkpoint is, for the message (`checkpoints/<tag>`). */
export async function lastGoodCheckpoint(store: RunStore, out: string): Promise<string> {
  const tag = await store.lastCheckpointTag().catch(() => undefined);
  return tag ? join(out, CHECKPOINTS_DIR, tag) : join(out, CHECKPOINTS_DIR);
}

export async function runCommand(file: string, flags: RunFlags): Promise<number> {
  checkOutFlag(flags.out);
  if (flags.resume && flags.force) throw new UsageError('--resume and --force exclude each other');
  const set = parseAssignments(flags.set);
  if (flags.seed !== undefined) set.seed = flags.seed;
  if (flags.backend) set.backend = flags.backend;
  // Everything is validated before anything is written.
  const { experiment, dir } = loadExperimentFile(file, { quick: flags.quick, set });
  const env = cliEnvironment();
  const registry = await registryFor(env, experiment, dir, file);
  const resolved = resolveExperiment(experiment, registry, file);
  const out = flags.out ?? join('runs', experiment.name ?? basename(file, extname(file)));
  // Resuming opens the run without writing (a missing one is an error); the config is compared with it in runExperiment.
  const resumed = flags.resume ? await openRunToResume(out) : undefined;
  const backend = await startBackend(experiment.backend);
  // Build the task and model and check everything that needs them before the run directory is touched.
  const prepared = await prepareExperiment(resolved, { file });

  const progress = stderrProgress({ quiet: flags.quiet });
  if (resumed) {
    const previous = (await resumed.readRun()) as { status?: string; config?: Json };
    if (previous.status === 'completed') {
      // a finished run is compared too: a changed experiment is not silently taken for it
      const conflicts = previous.config === undefined ? [] : resumeConflicts(previous.config, resolvedConfig(resolved));
      if (conflicts.length > 0) {
        throw new UsageError(
          `--resume: ${out} is completed, and the experiment differs from it in what it trains: ${conflicts[0]}` +
            `${conflicts.length > 1 ? `\n  and: ${conflicts.slice(1).join('\n  and: ')}` : ''}\nstart a new run (another --out) to train this one`,
          { field: 'out' },
        );
      }
      const ranEpochs = (previous.config as { train?: { epochs?: number } } | undefined)?.train?.epochs;
      if (!(typeof ranEpochs === 'number' && experiment.train.epochs > ranEpochs)) {
        progress.log(`${out} is already completed; nothing to resume`);
        return 0;
      }
      progress.log(`${out} is completed after ${ranEpochs} epochs; training on to ${experiment.train.epochs}`);
    }
  }
  const store = resumed ?? (await createRunDirectory(out, flags.force));
  progress.log(`run ${out} (backend ${backend}, seed ${experiment.seed}${flags.quick ? ', quick' : ''})`);
  const release = markInterruptedOnSignal(store);
  const outcome = await runExperiment({ prepared, store, backend, packages: packageVersions(env, registry), progress, resume: Boolean(resumed) }).finally(release);
  let reportPath: string | undefined;
  if (flags.report !== false) reportPath = await writeRunReport(out);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ run: out, status: outcome.status, message: outcome.message, final: outcome.final, report: reportPath }, null, 2)}\n`);
  }
  if (outcome.status !== 'completed') {
    process.stderr.write(`error: run ${outcome.status}: ${outcome.message ?? ''}\n`);
    if (outcome.status === 'diverged') process.stderr.write(`the last good checkpoint is kept in ${await lastGoodCheckpoint(store, out)}\n`);
    return 1;
  }
  progress.log(`done: ${out}${reportPath ? ` (report: ${reportPath})` : ''}`);
  for (const line of runSummary({ final: outcome.final, outputKind: prepared.task.outputKind, analyses: outcome.analyses })) progress.log(`  ${line}`);
  return 0;
}
