import type { BackendChoice } from '@goldstone/core';
import { messageOf, silentProgress, UsageError, type Registry } from '@goldstone/plugin-api';
import { writeRunReport } from '@goldstone/report';
import type { RunStore } from '@goldstone/run-store';
import { createRunDirectory, loadExperimentFile, packageVersions, prepareExperiment, registryFor, resolveExperiment, runExperiment, runExperimentGroup, startBackend, type PreparedExperiment, type RunOutcome } from '@goldstone/runner';
import { jobPoints, type PointJob, type PointRef, type PointResult } from './executor';
import { clearCutOffWrites, pointDirState } from './point-dir';

/** A point built, checked and given its (fresh) run directory. */
interface OpenedPoint {
  point: PointRef;
  prepared: PreparedExperiment;
  registry: Registry;
  store: RunStore;
}

const resultOf = (outcome: RunOutcome): PointResult => ({ status: outcome.status, ...(outcome.message ? { error: outcome.message } : {}), summary: outcome.final });

/**
 * Runs points one at a time in this process, exactly as `goldstone run FILE --set …` would, each
 * into its own run directory; a vectorised group (`job.group`) is trained at once and written as
 * those runs would be. The backend is started once and kept while points ask for the same.
 * `running` holds the stores of the points running now (so a signal handler can mark them
 * interrupted); `current` is the first of them.
 */
export class PointRunner {
  readonly running = new Set<RunStore>();
  private backendChoice: BackendChoice | undefined;
  private backend = '';

  get current(): RunStore | undefined {
    return this.running.values().next().value;
  }

  async run(job: PointJob): Promise<PointResult> {
    let results: PointResult | undefined;
    await this.runJob({ ...job, group: undefined }, (_id, result) => void (results = result));
    return results!;
  }

  /** Run every point of `job` (a lone point or a vectorised group), reporting each as it ends. */
  async runJob(job: PointJob, finished: (id: string, result: PointResult) => void | Promise<void>): Promise<void> {
    const points = jobPoints(job);
    const opened: OpenedPoint[] = [];
    for (const point of points) {
      const o = await this.open(job, point).catch(async (err: unknown) => {
        await finished(point.id, { status: 'failed', error: messageOf(err) });
        return undefined;
      });
      if (o) opened.push(o);
    }
    if (opened.length === 0) return;
    const done = new Set<string>();
    const report = async (o: OpenedPoint, result: PointResult) => {
      if (result.status === 'failed') await o.store.updateRun({ status: 'failed', error: result.error ?? null, finishedAt: new Date().toISOString() }).catch(() => undefined);
      if (job.report) await writeRunReport(o.store.dir).catch(() => undefined);
      this.running.delete(o.store);
      done.add(o.point.id);
      await finished(o.point.id, result);
    };
    try {
      if (!job.group) {
        const [o] = opened;
        const outcome = await runExperiment({ prepared: o.prepared, store: o.store, backend: this.backend, packages: packageVersions(job.env, o.registry), progress: silentProgress }).then(resultOf, (err: unknown) => ({ status: 'failed' as const, error: messageOf(err) }));
        await report(o, outcome);
        return;
      }
      await runExperimentGroup({
        members: opened.map((o) => ({ prepared: o.prepared, store: o.store, progress: silentProgress })),
        backend: this.backend,
        packages: packageVersions(job.env, opened[0].registry),
        onSettled: (i, r) => report(opened[i], r.status === 'fulfilled' ? resultOf(r.value) : { status: 'failed', error: messageOf(r.reason) }),
      });
    } catch (err) {
      // refused as a group (checked before anything was written): each point fails with the reason
      for (const o of opened) if (!done.has(o.point.id)) await report(o, { status: 'failed', error: messageOf(err) });
    }
  }

  /** Build and check one point, then (re)create its run directory. */
  private async open(job: PointJob, point: PointRef): Promise<OpenedPoint> {
    const { experiment, dir } = loadExperimentFile(job.file, { quick: job.quick, set: { ...job.set, ...point.assignments } });
    const registry = await registryFor(job.env, experiment, dir, job.file);
    const resolved = resolveExperiment(experiment, registry, job.file);
    if (this.backendChoice !== experiment.backend) {
      this.backend = await startBackend(experiment.backend);
      this.backendChoice = experiment.backend;
    }
    const prepared = await prepareExperiment(resolved, { file: job.file });
    // A point runs again from scratch: whatever an earlier attempt left goes, but only if it is goldstone's.
    const state = pointDirState(point.dir);
    if (state.kind === 'foreign') throw new UsageError(`${point.dir}: ${state.reason}; it is left alone and the point is not run`, { file: point.dir });
    // An attempt cut off while it created the directory leaves only temporaries: they go first.
    if (state.kind === 'none') clearCutOffWrites(point.dir);
    // createRunDirectory removes only goldstone's own entries, so a file of the user's is never lost.
    const store = await createRunDirectory(point.dir, true);
    this.running.add(store);
    return { point, prepared, registry, store };
  }
}
