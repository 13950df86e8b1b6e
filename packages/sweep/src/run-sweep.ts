import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { canonicalJson, createSweepIndex, expandSweep, finishPoint, needsRun, readSweepIndex, reconcilePoint, resolveSweep, startPoint, summarizeFinalMetrics, updatePoint, writeSweepIndex, type SweepIndex, type SweepPoint, type SweepPointRecord } from './sweep-spec';
import { loadExperimentFile, registryFor, resolveExperiment, type PluginEnvironment } from '@goldstone/runner';
import { messageOf, UsageError, type AnalysisResult, type Json, type Registry, type SummaryInput } from '@goldstone/plugin-api';
import { ANALYSES_DIR, RUN_FILE, writeFileAtomic } from '@goldstone/run-store/format';
import { writeSweepReport } from '@goldstone/report';
import type { PointJob, SweepExecutor } from './executor';
import { LocalExecutor } from './local-executor';

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
  reporter?: SweepReporter;
  /** Local executor: the worker entry (default: `worker.js` beside this package's build). */
  workerScript?: string;
}

export interface SweepOutcome {
  dir: string;
  index: SweepIndex;
  /** Points that failed in the end (the sweep exits 1). */
  failed: number;
  /** The sweep was stopped by a signal (the sweep exits 130). */
  interrupted: boolean;
  summaries: string[];
  report?: string;
}

function readRunJson(dir: string): Record<string, Json> | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, RUN_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Validate every point before anything runs: each must load and resolve as `goldstone run --set`
 * would. Registries are shared between points that need the same plugins.
 */
async function validatePoints(env: PluginEnvironment, file: string, quick: boolean, set: Record<string, unknown>, points: SweepPoint[]): Promise<{ registry: Registry; resolved: ReturnType<typeof resolveExperiment> }> {
  const registries = new Map<string, Registry>();
  let first: { registry: Registry; resolved: ReturnType<typeof resolveExperiment> } | undefined;
  for (const p of points) {
    try {
      const { experiment, dir } = loadExperimentFile(file, { quick, set: { ...set, ...p.assignments } });
      const key = canonicalJson([experiment.plugins, experiment.task.name, experiment.model.name, experiment.analyses.map((a) => a.name)]);
      let registry = registries.get(key);
      if (!registry) registries.set(key, (registry = await registryFor(env, experiment, dir, file)));
      const resolved = resolveExperiment(experiment, registry, file);
      first ??= { registry, resolved };
    } catch (err) {
      if (err instanceof UsageError) throw new UsageError(`${err.message}\n(in sweep point ${p.id}: ${Object.entries(p.assignments).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')})`, { file: err.file, field: err.field });
      throw err;
    }
  }
  return first!;
}

/**
 * Run a sweep: expand the experiment's `sweep:` block into points, skip those whose run directory
 * already holds a result (completed or diverged), and run the others in parallel worker processes,
 * each point as its own run directory. sweep.json (the index) is rewritten atomically on every
 * change, so a sweep killed at any moment loses no finished run and the next invocation picks up
 * where it stopped. Afterwards: final-metric and analysis summaries, and the sweep report.
 */
export async function runSweep(opts: SweepOptions): Promise<SweepOutcome> {
  const reporter = opts.reporter ?? silentReporter;
  const quick = Boolean(opts.quick);
  const set = opts.set ?? {};
  const file = resolve(opts.file);
  const { experiment } = loadExperimentFile(opts.file, { quick, set });
  const sweep = resolveSweep(experiment.sweep, { file: opts.file });
  const points = expandSweep(sweep);
  const { resolved } = await validatePoints(opts.env, opts.file, quick, set, points);
  const name = experiment.name ?? basename(opts.file, extname(opts.file));
  const dir = resolve(opts.out ?? join('sweeps', name));
  if (existsSync(dir) && readdirSync(dir).length > 0 && !existsSync(join(dir, 'sweep.json'))) {
    throw new UsageError(`--out ${opts.out ?? dir}: the directory exists and is not a goldstone sweep directory (no sweep.json); choose another --out`, { field: 'out' });
  }

  const previous = await readSweepIndex(dir);
  let index = createSweepIndex({ name, experiment: file, quick, set: JSON.parse(JSON.stringify(set)) as Record<string, Json>, sweep, points, previous });
  for (const p of index.points) index = updatePoint(index, p.id, (r) => reconcilePoint(r, readRunJson(join(dir, r.dir))), index.updatedAt);
  if (opts.dryRun) return { dir, index, failed: index.counts.failed, interrupted: false, summaries: [] };

  await mkdir(dir, { recursive: true });
  let writing: Promise<void> = Promise.resolve();
  const persist = (): Promise<void> => {
    const snapshot = index;
    writing = writing.then(() => writeSweepIndex(dir, snapshot));
    return writing;
  };
  await persist();

  const toRun = index.points.filter((p) => needsRun(p.status));
  const executor = opts.executor ?? new LocalExecutor({ workers: opts.workers, maxAttempts: opts.maxAttempts, workerScript: opts.workerScript });
  const workers = executor instanceof LocalExecutor ? Math.min(executor.workers, toRun.length) : 1;
  reporter.start({ total: points.length, done: points.length - toRun.length, toRun: toRun.length, workers, dir, executor: executor.name });

  let interrupted = false;
  if (toRun.length > 0) {
    const jobs: PointJob[] = toRun.map((rec) => ({ id: rec.id, assignments: rec.assignments, dir: join(dir, rec.dir), file, quick, set, report: opts.report !== false, env: opts.env }));
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
  for (const p of index.points) {
    if (p.status === 'running') index = updatePoint(index, p.id, (r) => reconcilePoint(r, readRunJson(join(dir, r.dir))));
  }
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
  return { dir, index, failed: index.counts.failed, interrupted, summaries, report };
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
        inputs.push({ run: p.id, settings: p.assignments, result });
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
