import { existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { resolveExperiment, runExperiment, RunStore, UsageError, type BackendChoice } from '@goldstone/core';
import { writeRunReport } from '@goldstone/report';
import { loadExperimentFile, parseAssignments } from '../config-file';
import { packageVersions, registryFor, startBackend } from '../context';
import { stderrProgress } from '../progress';

/** Refuse to overwrite a directory holding results unless asked to; `--force` replaces it. */
export function prepareOutDir(out: string, force: boolean | undefined): void {
  if (!existsSync(out)) return;
  const entries = readdirSync(out);
  if (entries.length === 0) return;
  if (!entries.includes('run.json')) {
    throw new UsageError(`--out ${out}: the directory exists and is not a goldstone run directory; choose another --out`, { field: 'out' });
  }
  if (!force) {
    throw new UsageError(`--out ${out}: already holds a run; pass --force to replace it, or choose another --out`, { field: 'out' });
  }
  rmSync(out, { recursive: true, force: true });
}

/**
 * On Ctrl-C or SIGTERM, record the run as interrupted (its last good checkpoint stays) and exit 130.
 * Returns a function that removes the handlers.
 */
export function markInterruptedOnSignal(store: RunStore): () => void {
  const handler = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: marking ${store.dir} as interrupted\n`);
    store
      .updateRun({ status: 'interrupted', error: `interrupted by ${signal}`, finishedAt: new Date().toISOString() })
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

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
  const registry = await registryFor(experiment, dir, file);
  const resolved = resolveExperiment(experiment, registry, file);
  const out = flags.out ?? join('runs', experiment.name ?? basename(file, extname(file)));
  if (flags.resume && flags.force) throw new UsageError('--resume and --force exclude each other');
  const resuming = Boolean(flags.resume) && existsSync(join(out, 'run.json'));
  if (!resuming) prepareOutDir(out, flags.force);

  const progress = stderrProgress();
  const backend = await startBackend(experiment.backend);
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
  const outcome = await runExperiment({ resolved, store, backend, packages: packageVersions(registry), progress, resume: resuming }).finally(release);
  let reportPath: string | undefined;
  if (flags.report !== false) reportPath = await writeRunReport(out);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ run: out, status: outcome.status, message: outcome.message, final: outcome.final, report: reportPath }, null, 2)}\n`);
  }
  if (outcome.status !== 'completed') {
    process.stderr.write(`error: run ${outcome.status}: ${outcome.message ?? ''}\n`);
    if (outcome.status === 'diverged') process.stderr.write(`the last good checkpoint is kept in ${join(out, 'checkpoints')}\n`);
    return 1;
  }
  progress.log(`done: ${out}${reportPath ? ` (report: ${reportPath})` : ''}`);
  return 0;
}
