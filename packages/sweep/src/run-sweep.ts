import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import {
  canonicalJson,
  comparableConfig,
  createSweepIndex,
  describeDifferences,
  expandSweep,
  finishPoint,
  indexDifferences,
  jsonDifferences,
  needsRun,
  readSweepIndex,
  reconcilePoint,
  resetPoint,
  resolveSweep,
  startPoint,
  summarizeFinalMetrics,
  SWEEP_INDEX_FILE,
  updatePoint,
  updatePoints,
  vectorizeSetting,
  writeSweepIndex,
  type JsonDifference,
  type SweepIndex,
  type SweepPoint,
  type SweepPointRecord,
} from './sweep-spec';
import { checkOutTarget, experimentFileReader, experimentToJson, outDirError, prepareExperiment, registryFor, replicaIssue, resolvedConfig, resolveExperiment, startBackend, type Experiment, type PluginEnvironment, type ResolvedExperiment } from '@goldstone/runner';
import { messageOf, UsageError, type AnalysisResult, type Json, type Registry, type SummaryInput } from '@goldstone/plugin-api';
import { ANALYSES_DIR, writeFileAtomic } from '@goldstone/run-store/format';
import { writeSweepReport } from '@goldstone/report';
import { jobOf, type PointJob, type SweepExecutor } from './executor';
import { LocalExecutor } from './local-executor';
import { pointDirState, type PointDirState } from './point-dir';
import { replicaKey, vectorGroups } from './vectorize';

/** What the sweep tells whoever shows its progress. */
export interface SweepReporter {
  /** The sweep starts: `total` points, `done` of them already finished, `toRun` to run now. */
  start(info: { total: number; done: number; toRun: number; workers: number; dir: string; executor: string }): void;
  /** A point finished (or was lost with its worker). */
  point(record: SweepPointRecord, counts: SweepIndex['counts']): void;
  /** A line of log text. */
  log(message: string): void;
  /** All runs are over; summaries follow. */
  stop(): void;
}

export const silentReporter: SweepReporter = { start() {}, point() {}, log() {}, stop() {} };

export interface SweepOptions {
  /** The experiment file (with a `sweep:` block). */
  file: string;
  /** Where plugins come from (the application's built-in map and package folders). */
  env: PluginEnvironment;
  /** Where points run (default: a `LocalExecutor` with `workers`, `maxAttempts` and `workerScript`). */
  executor?: SweepExecutor;
  /** The sweep directory (default `sweeps/<experiment name>`). */
  out?: string;
  /** Worker processes of the default local executor (default: the number of cores). */
  workers?: number;
  quick?: boolean;
  /** `--set` assignments applied to every point before its own. */
  set?: Record<string, unknown>;
  /** Write each run's report.html and the sweep's sweep-report.html (default true). */
  report?: boolean;
  /** Local executor: times a point is handed to a worker before a lost worker counts as a failure (default 2). */
  maxAttempts?: number;
  /** Expand, validate and reconcile only: write nothing, run nothing. */
  dryRun?: boolean;
  /** The most points the sweep may have (default `DEFAULT_MAX_POINTS`, 10,000); checked before anything is expanded. */
  maxPoints?: number;
  /**
   * Carry on in a sweep directory whose index or runs belong to a different sweep: the index is
   * replaced, runs that differ from this experiment run again (their run directories are replaced),
   * and directories of points that are no longer in the sweep are kept, untouched.
   */
  force?: boolean;
  reporter?: SweepReporter;
  /** Local executor: the worker entry (default: `worker.js` beside this package's build). */
  workerScript?: string;
  /**
   * What to do once everything is checked (default `run`):
   * - `run`: run the points that need a run on the executor, then summaries and the report;
   * - `plan`: write the index and return the jobs that need a run (`SweepOutcome.jobs`), in order;
   *   run nothing (for a scheduler that runs them elsewhere, e.g. a Slurm job array);
   * - `reconcile`: run nothing; take each point's outcome from its run directory into the index,
   *   then summaries and the report. The sweep directory must hold the index already.
   */
  mode?: SweepMode;
  /**
   * A last check of the caller's, given the sweep directory, once the sweep's own checks have
   * passed and before anything is written (it throws a UsageError to refuse).
   */
  checkBeforeWrite?: (dir: string) => void;
}

export type SweepMode = 'run' | 'plan' | 'reconcile';

export interface SweepOutcome {
  dir: string;
  index: SweepIndex;
  /** Points that failed in the end (the sweep exits 1). */
  failed: number;
  /** The sweep was stopped by a signal (the sweep exits 130). */
  interrupted: boolean;
  summaries: string[];
  report?: string;
  /** With `force`: how the directory differed from this sweep (what `force` overrode). */
  differences: string[];
  /** Points whose existing run differs from this experiment: they run again, replacing it. */
  replaced: string[];
  /** Run directories of points that are no longer in the sweep: kept on disk, left out of the index. */
  kept: string[];
  /** With mode `plan`: the jobs that need a run (a point, or a vectorised group), in the order of the index. */
  jobs?: PointJob[];
}

const describePoint = (p: SweepPoint) => Object.entries(p.assignments).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');

/** A sweep's default directory: `sweeps/<experiment name>` (the file's name when it has none). */
export function sweepDirOf(experiment: Experiment, file: string): string {
  return join('sweeps', experiment.name ?? basename(file, extname(file)));
}

/**
 * The experiment file read and parsed once; each point is the parsed file with its assignments
 * applied to a copy, as `goldstone run FILE --set …` applies them (plugin paths made absolute).
 */
export function experimentReader(file: string, quick: boolean, set: Record<string, unknown>): (assignments?: Record<string, Json>) => Experiment {
  const read = experimentFileReader(file);
  return (assignments = {}) => {
    // a swept value is blamed on its point: `exp.yaml: sweep point train.lr=-1: train.lr: …`
    const sources = Object.fromEntries(Object.entries(assignments).map(([k, v]) => [k, `${file}: sweep point ${k}=${JSON.stringify(v)}`]));
    return read({ quick, set: { ...set, ...assignments }, sources });
  };
}

/**
 * Validate every point before anything runs: each must resolve as `goldstone run --set` would.
 * Registries are shared between points that need the same plugins. For points whose directory
 * already holds a run, the run's recorded config is compared with the config the point has now.
 */
async function validatePoints(
  env: PluginEnvironment,
  file: string,
  read: (assignments: Record<string, Json>) => Experiment,
  points: SweepPoint[],
  dirs: ReadonlyMap<string, PointDirState>,
  vectorize: boolean,
): Promise<{ resolved: ResolvedExperiment; mismatches: Map<string, JsonDifference[]>; replicas: ReplicaChecks }> {
  const registries = new Map<string, Registry>();
  const replicas: ReplicaChecks = { keys: new Map(), issues: new Map() };
  /** Per vectorised group key: a point to build (when none of the checked configurations is in it). */
  const unbuilt = new Map<string, { point: SweepPoint; resolved: ResolvedExperiment }>();
  const mismatches = new Map<string, JsonDifference[]>();
  const toPrepare = new Map<string, { point: SweepPoint; resolved: ResolvedExperiment }>();
  let first: ResolvedExperiment | undefined;
  const inPoint = (p: SweepPoint, err: unknown) =>
    err instanceof UsageError ? new UsageError(`${err.message}\n(in sweep point ${p.id}: ${describePoint(p)})`, { file: err.file, field: err.field }) : err;
  for (const p of points) {
    try {
      const experiment = read(p.assignments);
      const key = canonicalJson([experiment.plugins, experiment.task.name, experiment.model.name, experiment.analyses.map((a) => a.name)]);
      let registry = registries.get(key);
      if (!registry) registries.set(key, (registry = await registryFor(env, experiment, resolve(file, '..'), file)));
      const resolved = resolveExperiment(experiment, registry, file);
      first ??= resolved;
      if (vectorize) {
        const key = replicaKey(resolved);
        replicas.keys.set(p.id, key);
        if (!replicas.issues.has(key)) {
          const issue = replicaIssue(resolved);
          if (issue) replicas.issues.set(key, issue);
          else if (!unbuilt.has(key)) unbuilt.set(key, { point: p, resolved });
        }
      }
      const state = dirs.get(p.id);
      if (state?.kind === 'run' && state.run?.config !== undefined) {
        const diffs = jsonDifferences(comparableConfig(state.run.config), comparableConfig(resolvedConfig(resolved)));
        if (diffs.length) mismatches.set(p.id, diffs);
      }
      if (toPrepare.size < PREPARED_COMBINATIONS) {
        // everything the checks read: the resolved config but its seed and names (which they do not)
        const { seed: _seed, name: _name, description: _description, ...checked } = resolvedConfig(resolved) as Record<string, Json>;
        const key = canonicalJson(checked);
        if (!toPrepare.has(key)) toPrepare.set(key, { point: p, resolved });
      }
    } catch (err) {
      throw inPoint(p, err);
    }
  }
  // Checks that need the built task and model (parameter groups, symmetry names, sizes, analysis
  // options against splits and parameters), for the first few distinct configurations: building them is cheap next to training, and a mistake found
  // here stops the sweep before anything is written. Other combinations are checked by their points.
  let backend: string | undefined;
  for (const { point, resolved } of toPrepare.values()) {
    try {
      if (backend !== resolved.experiment.backend) await startBackend((backend = resolved.experiment.backend));
      const prepared = await prepareExperiment(resolved, { file });
      if (vectorize) modelChecked(replicas, unbuilt, replicaKey(resolved), replicaIssue(resolved, prepared.model));
    } catch (err) {
      throw inPoint(point, err);
    }
  }
  // vectorised groups none of whose configurations was built above: one point of each is (for its model)
  for (const [key, { point, resolved }] of [...unbuilt]) {
    try {
      if (backend !== resolved.experiment.backend) await startBackend((backend = resolved.experiment.backend));
      modelChecked(replicas, unbuilt, key, replicaIssue(resolved, (await prepareExperiment(resolved, { file })).model));
    } catch (err) {
      throw inPoint(point, err);
    }
  }
  return { resolved: first!, mismatches, replicas };
}

/** Per point, its vectorised group key; per key, why its points cannot be stacked (absent: they can). */
interface ReplicaChecks {
  keys: Map<string, string>;
  issues: Map<string, string>;
}

function modelChecked(replicas: ReplicaChecks, unbuilt: Map<string, unknown>, key: string, issue: string | undefined): void {
  unbuilt.delete(key);
  if (issue && !replicas.issues.has(key)) replicas.issues.set(key, issue);
}

/**
 * With `sweep.vectorize`: a UsageError (naming the file and `sweep.vectorize`) when two or more
 * points would share a vectorised group (they differ only in seed and train.lr) that cannot be
 * trained as stacked replicas. Groups of one run as usual and are never refused.
 */
function checkVectorize(file: string, points: readonly SweepPoint[], replicas: ReplicaChecks): void {
  const byKey = new Map<string, SweepPoint[]>();
  for (const p of points) {
    const key = replicas.keys.get(p.id)!;
    byKey.set(key, [...(byKey.get(key) ?? []), p]);
  }
  for (const [key, members] of byKey) {
    const issue = replicas.issues.get(key);
    if (!issue || members.length < 2) continue;
    throw new UsageError(
      `${file}: sweep.vectorize: points ${members[0].id} and ${members[1].id}${members.length > 2 ? ` (and ${members.length - 2} more)` : ''} differ only in seed and train.lr, so they would train together as stacked replicas, but ${issue}; remove sweep.vectorize to run each point on its own`,
      { file, field: 'sweep.vectorize' },
    );
  }
}

/** How many distinct configurations (seeds aside) are built and checked before a sweep starts. */
const PREPARED_COMBINATIONS = 16;

/**
 * Run a sweep: expand the experiment's `sweep:` block into points, skip those whose run directory
 * already holds a result (completed or diverged), and run the others in parallel worker processes,
 * each point as its own run directory. sweep.json (the index) is rewritten atomically on every
 * change, so a sweep killed at any moment loses no finished run and the next invocation picks up
 * where it stopped. Afterwards: final-metric and analysis summaries, and the sweep report.
 *
 * Everything is checked before anything is written: the sweep block (at most `maxPoints` points),
 * every point, and an existing sweep directory, which must hold this sweep (the same experiment,
 * perhaps with more points) unless `force`. Nothing in the directory is ever imported or run:
 * plugins come only from the experiment file.
 */
export async function runSweep(opts: SweepOptions): Promise<SweepOutcome> {
  const reporter = opts.reporter ?? silentReporter;
  if (opts.out !== undefined && opts.out.trim() === '') {
    throw new UsageError('--out: expected a sweep directory, found an empty path', { field: 'out' });
  }
  if (opts.maxPoints !== undefined && !(Number.isInteger(opts.maxPoints) && opts.maxPoints >= 1)) {
    throw new UsageError(`--max-points: expected a whole number ≥ 1, found ${opts.maxPoints}`, { field: 'maxPoints' });
  }
  const quick = Boolean(opts.quick);
  const set = opts.set ?? {};
  const file = resolve(opts.file);
  const read = experimentReader(opts.file, quick, set);
  const experiment = read();
  const sweep = resolveSweep(experiment.sweep, { file: opts.file, maxPoints: opts.maxPoints });
  const vectorize = vectorizeSetting(experiment.sweep, { file: opts.file });
  const points = expandSweep(sweep, { maxPoints: opts.maxPoints });
  const name = experiment.name ?? basename(opts.file, extname(opts.file));
  const dir = resolve(opts.out ?? sweepDirOf(experiment, opts.file));
  const indexFile = join(dir, SWEEP_INDEX_FILE);
  // a file in the way, a directory that cannot be written: refused before anything is written
  checkOutTarget(opts.out ?? dir);
  if (existsSync(dir) && readdirSync(dir).length > 0 && !existsSync(indexFile)) {
    throw new UsageError(`--out ${opts.out ?? dir}: the directory exists and is not a goldstone sweep directory (no sweep.json); choose another --out`, { field: 'out' });
  }

  // What the directory holds (read only: nothing in it is imported or run).
  const differences: string[] = [];
  let previous: SweepIndex | undefined;
  try {
    previous = await readSweepIndex(dir);
  } catch (err) {
    // A damaged record may be replaced with --force; a file that is no goldstone index at all never is.
    if (!(opts.force && err instanceof UsageError && err.field?.startsWith('points'))) throw err;
    differences.push(`its index cannot be read (${err.message})`);
  }
  const mode: SweepMode = opts.mode ?? 'run';
  if (mode === 'reconcile' && !existsSync(indexFile)) {
    throw new UsageError(`--reconcile: ${opts.out ?? dir} holds no sweep index (${SWEEP_INDEX_FILE}): run or emit the sweep there first`, { file: indexFile, field: 'out' });
  }
  const dirs = new Map<string, PointDirState>();
  if (existsSync(indexFile)) {
    for (const p of points) {
      const state = pointDirState(join(dir, p.id));
      if (state.kind === 'foreign') {
        throw new UsageError(`${join(dir, p.id)}: ${state.reason}; sweep point ${p.id} would run there: move it away or choose another --out`, { file: join(dir, p.id), field: 'out' });
      }
      dirs.set(p.id, state);
    }
  }

  const { resolved, mismatches, replicas } = await validatePoints(opts.env, opts.file, read, points, dirs, vectorize !== undefined);
  if (vectorize) checkVectorize(opts.file, points, replicas);
  const setJson = JSON.parse(JSON.stringify(set)) as Record<string, Json>;
  const base = comparableConfig(experimentToJson(experiment));
  if (previous) {
    const hasRun = (id: string) => (dirs.get(id) ?? pointDirState(join(dir, id))).kind === 'run';
    differences.push(...indexDifferences(previous, { base, quick, set: setJson, sweep, points }, hasRun));
  }
  if (mismatches.size) {
    const [id, diffs] = mismatches.entries().next().value!;
    differences.push(`${mismatches.size} run${mismatches.size === 1 ? '' : 's'} in it ran a different experiment (${id}: ${describeDifferences(diffs)})`);
  }
  if (differences.length && !opts.force) {
    throw new UsageError(
      `${indexFile}: expected the sweep of ${opts.file} (the same experiment, perhaps with more points), found a different one: ${differences.join('; ')}. ` +
        'Pass --force to replace the index (runs that differ run again; run directories of points not in this sweep are kept), or choose another --out',
      { file: indexFile, field: 'out' },
    );
  }
  const ids = new Set(points.map((p) => p.id));
  const kept = (previous?.points ?? []).filter((p) => !ids.has(p.id) && existsSync(join(dir, p.id))).map((p) => p.id);
  const replaced = [...mismatches.keys()];

  let index = createSweepIndex({ name, experiment: file, quick, set: setJson, sweep, points, previous, base });
  index = updatePoints(
    index,
    (r) => {
      // A directory holding a run of another experiment is no result of this sweep: the point runs again.
      if (mismatches.has(r.id)) return resetPoint(r);
      const state = dirs.get(r.id);
      return reconcilePoint(r, state?.kind === 'run' ? state.run : undefined);
    },
    index.updatedAt,
  );
  if (opts.force && differences.length) {
    reporter.log(`--force: replacing the index of ${dir}: ${differences.join('; ')}`);
    if (replaced.length) reporter.log(`--force: ${replaced.length} run${replaced.length === 1 ? '' : 's'} that differ from this experiment will run again, replacing ${replaced.length === 1 ? 'its' : 'their'} run director${replaced.length === 1 ? 'y' : 'ies'}`);
    if (kept.length) reporter.log(`--force: ${kept.length} run director${kept.length === 1 ? 'y' : 'ies'} of points not in this sweep ${kept.length === 1 ? 'is' : 'are'} kept, not in the index: ${kept.slice(0, 5).join(', ')}${kept.length > 5 ? ', …' : ''}`);
  }
  if (opts.dryRun) return { dir, index, failed: index.counts.failed, interrupted: false, summaries: [], differences, replaced, kept };
  opts.checkBeforeWrite?.(dir);

  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw outDirError(opts.out ?? dir, err, 'cannot make the sweep directory');
  }
  let writing: Promise<void> = Promise.resolve();
  const persist = (): Promise<void> => {
    const snapshot = index;
    writing = writing.then(() => writeSweepIndex(dir, snapshot));
    return writing;
  };
  await persist();

  const toRun = index.points.filter((p) => needsRun(p.status));
  const pointJobs: PointJob[] = toRun.map((rec) => ({ id: rec.id, assignments: rec.assignments, dir: join(dir, rec.dir), file, quick, set, report: opts.report !== false, env: opts.env }));
  // with sweep.vectorize: the points still to run that differ only in seed and train.lr, grouped
  const jobs = vectorize ? vectorGroups(pointJobs, (j) => replicas.keys.get(j.id)!, vectorize.maxReplicas).map((g) => jobOf(g[0], g)) : pointJobs;
  if (mode === 'plan') {
    await writing;
    return { dir, index, failed: index.counts.failed, interrupted: false, summaries: [], differences, replaced, kept, jobs };
  }

  let interrupted = false;
  // reconcile: nothing runs (the index above already holds what the run directories say)
  const executor = mode === 'run' ? (opts.executor ?? new LocalExecutor({ workers: opts.workers, maxAttempts: opts.maxAttempts, workerScript: opts.workerScript })) : undefined;
  if (executor) {
    const workers = executor instanceof LocalExecutor ? Math.min(executor.workers, toRun.length) : 1;
    reporter.start({ total: points.length, done: points.length - toRun.length, toRun: toRun.length, workers, dir, executor: executor.name });
  }
  if (executor && toRun.length > 0) {
    const onSignal = (signal: NodeJS.Signals) => {
      if (interrupted) return;
      interrupted = true;
      reporter.log(`${signal}: stopping the sweep; finished runs are kept, running ones are marked interrupted`);
      executor.stop(`interrupted by ${signal}`);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      await executor.run(jobs, {
        started: (id, info) => {
          index = updatePoint(index, id, (r) => startPoint(r, { pid: info.pid }));
          void persist();
        },
        finished: (id, result) => {
          index = updatePoint(index, id, (r) => finishPoint(r, { status: result.status, error: result.error, summary: result.summary }));
          void persist();
          reporter.point(index.points.find((p) => p.id === id)!, index.counts);
        },
        retrying: (id, error) => {
          index = updatePoint(index, id, (r) => finishPoint(r, { status: 'interrupted', error }));
          void persist();
          reporter.log(`${id}: ${error}; running it again`);
        },
        log: (message) => reporter.log(message),
      });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
  reporter.stop();
  // The run directories are the truth: pick up what workers wrote (e.g. a run that finished just as its worker was stopped).
  index = updatePoints(index, (r) => {
    if (r.status !== 'running') return r;
    const state = pointDirState(join(dir, r.dir));
    return reconcilePoint(r, state.kind === 'run' ? state.run : undefined);
  });
  await persist();

  const summaries: string[] = [];
  let report: string | undefined;
  if (!interrupted) {
    summaries.push(...(await writeSummaries(dir, index, resolved.analyses, reporter)));
    if (opts.report !== false) {
      try {
        report = await writeSweepReport(dir);
      } catch (err) {
        reporter.log(`warning: the sweep report could not be written: ${messageOf(err)}`);
      }
    }
  }
  return { dir, index, failed: index.counts.failed, interrupted, summaries, report, differences, replaced, kept };
}

/**
 * `summaries/metrics.json` (final metrics by `summaryBy`, mean and spread over the rest), and
 * `summaries/<analysis>.json` for every analysis with a `summarize` hook, over the runs that
 * completed. A summary that throws is recorded with its error; the others are still written.
 */
async function writeSummaries(
  dir: string,
  index: SweepIndex,
  analyses: ReturnType<typeof resolveExperiment>['analyses'],
  reporter: SweepReporter,
): Promise<string[]> {
  const out = join(dir, 'summaries');
  await mkdir(out, { recursive: true });
  const written: string[] = [];
  const write = async (name: string, value: unknown) => {
    const path = join(out, `${name}.json`);
    await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
    written.push(path);
  };
  await write('metrics', summarizeFinalMetrics(index));
  for (const a of analyses) {
    if (!a.plugin.summarize) continue;
    const inputs: SummaryInput[] = [];
    for (const p of index.points) {
      if (p.status !== 'completed') continue;
      try {
        const result = JSON.parse(readFileSync(join(dir, p.dir, ANALYSES_DIR, `${a.id}.json`), 'utf8')) as AnalysisResult;
        inputs.push({ run: p.id, settings: p.assignments, ...(p.part !== undefined ? { part: p.part } : {}), result });
      } catch {
        // a run without this analysis' result (it was not asked for there) is left out
      }
    }
    try {
      const summary = a.plugin.summarize(inputs, a.options);
      await write(a.id, { analysis: a.plugin.name, id: a.id, runs: inputs.map((i) => i.run), summaryBy: index.sweep.summaryBy, ...JSON.parse(JSON.stringify(summary)) });
    } catch (err) {
      reporter.log(`warning: the summary of analysis "${a.id}" failed: ${messageOf(err)}`);
      await write(a.id, { analysis: a.plugin.name, id: a.id, runs: inputs.map((i) => i.run), error: messageOf(err) });
    }
  }
  return written;
}
