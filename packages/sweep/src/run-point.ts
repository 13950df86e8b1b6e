import type { BackendChoice } from '@goldstone/core';
import { messageOf, silentProgress, UsageError } from '@goldstone/plugin-api';
import { writeRunReport } from '@goldstone/report';
import type { RunStore } from '@goldstone/run-store';
import { createRunDirectory, loadExperimentFile, packageVersions, prepareExperiment, registryFor, resolveExperiment, runExperiment, startBackend } from '@goldstone/runner';
import type { PointJob, PointResult } from './executor';
import { clearCutOffWrites, pointDirState } from './point-dir';

/**
 * Runs points one at a time in this process, exactly as `goldstone run FILE --set …` would, each
 * into its own run directory. The backend is started once and kept while points ask for the same.
 * `current` is the store of the point running now (so a signal handler can mark it interrupted).
 */
export class PointRunner {
  current: RunStore | undefined;
  private backendChoice: BackendChoice | undefined;
  private backend = '';

  async run(job: PointJob): Promise<PointResult> {
    let store: RunStore | undefined;
    try {
      const { experiment, dir } = loadExperimentFile(job.file, { quick: job.quick, set: { ...job.set, ...job.assignments } });
      const registry = await registryFor(job.env, experiment, dir, job.file);
      const resolved = resolveExperiment(experiment, registry, job.file);
      if (this.backendChoice !== experiment.backend) {
        this.backend = await startBackend(experiment.backend);
        this.backendChoice = experiment.backend;
      }
      const prepared = await prepareExperiment(resolved, { file: job.file });
      // A point runs again from scratch: whatever an earlier attempt left goes, but only if it is goldstone's.
      const state = pointDirState(job.dir);
      if (state.kind === 'foreign') throw new UsageError(`${job.dir}: ${state.reason}; it is left alone and the point is not run`, { file: job.dir });
      // An attempt cut off while it created the directory leaves only temporaries: they go first.
      if (state.kind === 'none') clearCutOffWrites(job.dir);
      // createRunDirectory removes only goldstone's own entries, so a file of the user's is never lost.
      store = await createRunDirectory(job.dir, true);
      this.current = store;
      const outcome = await runExperiment({ prepared, store, backend: this.backend, packages: packageVersions(job.env, registry), progress: silentProgress });
      if (job.report) await writeRunReport(job.dir).catch(() => undefined);
      return { status: outcome.status, ...(outcome.message ? { error: outcome.message } : {}), summary: outcome.final };
    } catch (err) {
      const error = messageOf(err);
      if (store) {
        await store.updateRun({ status: 'failed', error, finishedAt: new Date().toISOString() }).catch(() => undefined);
        if (job.report) await writeRunReport(job.dir).catch(() => undefined);
      }
      return { status: 'failed', error };
    } finally {
      this.current = undefined;
    }
  }
}
