import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isObject, UsageError, type Json } from '@goldstone/plugin-api';
import { writeFileAtomic } from '@goldstone/run-store/format';
import { comparableConfig, expandSweep, indexDifferences, readSweepIndex, resolveSweep, SWEEP_INDEX_FILE, type SweepIndex } from './sweep-spec';
import { experimentToJson, type PluginEnvironment } from '@goldstone/runner';
import { jobOf, type PointJob, type PointRef, type PointResult } from './executor';
import { PointRunner } from './run-point';
import { experimentReader, runSweep, sweepDirOf, type SweepOptions } from './run-sweep';

/** Where the Slurm files go inside the sweep directory. */
export const SLURM_DIR = 'slurm';
export const SLURM_SCRIPT = 'sweep.sbatch';
/** The array's tasks in order: task i runs the point (or vectorised group) `tasks[i]`. */
export const SLURM_POINTS_FILE = 'points.json';
export const SLURM_POINTS_FORMAT = 'goldstone-slurm-points';
/** Slurm's default `MaxArraySize` is 1001: array indices above 1000 need a cluster configured for them. */
export const SLURM_DEFAULT_MAX_ARRAY_INDEX = 1000;

/** The `#SBATCH` settings a user may give, as typed on the command line (each checked, naming its flag). */
export interface SlurmFlags {
  partition?: string;
  time?: string;
  cpus?: string | number;
  mem?: string;
  /** At most this many array tasks at once (`--array=0-N%K`). */
  maxRunning?: string | number;
}

/** Checked settings: each absent one is left to the cluster's default. */
export interface SlurmSettings {
  partition?: string;
  time?: string;
  cpus?: number;
  mem?: string;
  maxRunning?: number;
}

const flagError = (flag: string, expected: string, found: unknown) =>
  new UsageError(`--${flag}: expected ${expected}, found ${JSON.stringify(found)}`, { field: flag });

/**
 * A Slurm time limit as `sbatch --time` takes it: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`,
 * `D-HH:MM:SS`, or `UNLIMITED`/`INFINITE`; minutes and seconds after a colon below 60, hours after
 * a day below 24, and not zero. Returns it as given (trimmed), or throws a UsageError naming `--time`.
 */
export function checkSlurmTime(text: string): string {
  const t = text.trim();
  const expected = 'a Slurm time limit (MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED)';
  if (/^(unlimited|infinite)$/i.test(t)) return t.toUpperCase();
  const m = /^(?:(\d+)-(\d+)(?::(\d+)(?::(\d+))?)?|(\d+)(?::(\d+)(?::(\d+))?)?)$/.exec(t);
  if (!m) throw flagError('time', expected, text);
  const n = (s: string | undefined) => (s === undefined ? 0 : Number(s));
  let seconds: number;
  if (m[1] !== undefined) {
    const [d, h, min, s] = [n(m[1]), n(m[2]), n(m[3]), n(m[4])];
    if (h > 23 || min > 59 || s > 59) throw flagError('time', `${expected}: hours below 24, minutes and seconds below 60`, text);
    seconds = ((d * 24 + h) * 60 + min) * 60 + s;
  } else {
    // MM, MM:SS or HH:MM:SS
    const parts = [m[5], m[6], m[7]].filter((p) => p !== undefined).map(Number);
    if (parts.length > 1 && parts.slice(1).some((p) => p > 59)) throw flagError('time', `${expected}: minutes and seconds below 60`, text);
    seconds = parts.length === 3 ? (parts[0] * 60 + parts[1]) * 60 + parts[2] : parts.length === 2 ? parts[0] * 60 + parts[1] : parts[0] * 60;
  }
  if (seconds === 0) throw flagError('time', `${expected}, longer than zero`, text);
  return t;
}

/** Check the `#SBATCH` flags before anything is written: each mistake is a UsageError naming its flag. */
export function checkSlurmFlags(flags: SlurmFlags): SlurmSettings {
  const out: SlurmSettings = {};
  if (flags.partition !== undefined) {
    const p = flags.partition.trim();
    if (!/^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/.test(p)) throw flagError('partition', 'a partition name (letters, digits, _ . -; several separated by commas)', flags.partition);
    out.partition = p;
  }
  if (flags.time !== undefined) out.time = checkSlurmTime(flags.time);
  if (flags.cpus !== undefined) {
    const text = String(flags.cpus).trim();
    const c = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(c) || c < 1) throw flagError('cpus', 'a whole number ≥ 1 (CPUs per array task)', flags.cpus);
    out.cpus = c;
  }
  if (flags.mem !== undefined) {
    const m = flags.mem.trim();
    if (!/^[1-9]\d*[KMGT]?$/i.test(m)) throw flagError('mem', 'a memory size as sbatch --mem takes it: a whole number with an optional unit K, M, G or T (e.g. 4G)', flags.mem);
    out.mem = m.toUpperCase();
  }
  if (flags.maxRunning !== undefined) {
    const text = String(flags.maxRunning).trim();
    const k = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(k) || k < 1) throw flagError('max-running', 'a whole number ≥ 1 (array tasks running at once: --array=0-N%K)', flags.maxRunning);
    out.maxRunning = k;
  }
  return out;
}

/** A word for a POSIX shell: left alone when it is plain, else in single quotes. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A value in an `#SBATCH` line: double quotes around it when it has white space. */
const directiveValue = (v: string) => (/\s/.test(v) ? `"${v.replace(/"/g, '\\"')}"` : v);

/** A Slurm job name from the experiment's name: letters, digits and `_ . -` only. */
export function slurmJobName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
  return cleaned || 'goldstone-sweep';
}

/** The options a point runs with, repeated on every command the script and README print. */
function sharedArgs(opts: { quick?: boolean; set?: Record<string, unknown>; report?: boolean; maxPoints?: number }): string[] {
  const args: string[] = [];
  if (opts.quick) args.push('--quick');
  // `--set path=<JSON>`: JSON is YAML, so `--set` reads back exactly the value it was given
  for (const [k, v] of Object.entries(opts.set ?? {})) args.push('--set', `${k}=${JSON.stringify(v)}`);
  if (opts.maxPoints !== undefined) args.push('--max-points', String(opts.maxPoints));
  if (opts.report === false) args.push('--no-report');
  return args;
}

export interface SlurmEmitOptions extends Omit<SweepOptions, 'mode' | 'executor' | 'workers' | 'maxAttempts' | 'workerScript' | 'dryRun'> {
  /** The `#SBATCH` settings, as typed (checked first). */
  slurm?: SlurmFlags;
  /**
   * How to call goldstone from the script: the program and its first arguments, absolute (the CLI
   * passes its own node and bin.js, so that the tasks run the very binary that emitted them).
   */
  command: readonly string[];
  /** The directory the tasks start in (default: this process's). */
  cwd?: string;
}

export interface SlurmEmission {
  dir: string;
  index: SweepIndex;
  /** Array tasks written (0: every point has finished, and no script is written). */
  tasks: number;
  /** Points those tasks run. */
  points: number;
  script?: string;
  pointsFile?: string;
  readme?: string;
  /** The command that submits the array (when there is one). */
  submit?: string;
  /** The command that reconciles the index, summaries and report once the array has finished. */
  reconcile: string;
  /** Things worth saying (e.g. an array larger than Slurm's default limit). */
  warnings: string[];
}

interface PointsFile {
  format: typeof SLURM_POINTS_FORMAT;
  version: 1;
  sweep: string;
  experiment: string;
  /** Task i runs the points `tasks[i]` (one, or a vectorised group trained together). */
  tasks: string[][];
}

/**
 * `goldstone sweep EXP --emit slurm`: check everything as a sweep does (nothing is written on a
 * bad input), write the sweep index, and beside it, in `slurm/`, a job-array script whose task i
 * runs the i-th point that needs a run (its order fixed by `slurm/points.json`), a README with the
 * commands, and the (empty) log folder. Runs nothing. With nothing left to run, no script is
 * written (a stale one from an earlier emission is removed).
 */
export async function emitSlurm(opts: SlurmEmitOptions): Promise<SlurmEmission> {
  const settings = checkSlurmFlags(opts.slurm ?? {});
  if (opts.command.length === 0) throw new Error('emitSlurm: no command to call goldstone with');
  // a file where the Slurm folder goes is refused before the sweep index is written
  const folderFree = (dir: string) => {
    const at = join(dir, SLURM_DIR);
    if (existsSync(at) && !statSync(at).isDirectory()) throw new UsageError(`${at}: a file is in the way of the Slurm folder`, { file: at, field: 'out' });
  };
  const planned = await runSweep({ ...opts, mode: 'plan', checkBeforeWrite: folderFree });
  const { dir, index } = planned;
  const slurmDir = join(dir, SLURM_DIR);
  const script = join(slurmDir, SLURM_SCRIPT);
  const pointsFile = join(slurmDir, SLURM_POINTS_FILE);
  const readme = join(slurmDir, 'README');
  const file = resolve(opts.file);
  const goldstone = (args: string[]) => [...opts.command, 'sweep', file, '--out', dir, ...args, ...sharedArgs(opts)].map(shellQuote).join(' ');
  const reconcile = goldstone(['--reconcile']);
  const jobs = planned.jobs ?? [];
  const warnings: string[] = [];
  if (jobs.length === 0) {
    rmSync(script, { force: true });
    rmSync(pointsFile, { force: true });
    return { dir, index, tasks: 0, points: 0, reconcile, warnings };
  }
  const tasks = jobs.map((j) => (j.group ?? [j]).map((p) => p.id));
  const points = tasks.reduce((n, t) => n + t.length, 0);
  if (tasks.length - 1 > SLURM_DEFAULT_MAX_ARRAY_INDEX) {
    warnings.push(`the array has ${tasks.length} tasks; Slurm's default MaxArraySize (1001) allows indices up to ${SLURM_DEFAULT_MAX_ARRAY_INDEX}: check \`scontrol show config | grep MaxArraySize\` on the cluster`);
  }
  const jobName = slurmJobName(index.name);
  const logs = join(slurmDir, 'logs');
  const submit = `sbatch ${shellQuote(script)}`;
  const taskCommand = `${[...opts.command, 'sweep', file, '--out', dir].map(shellQuote).join(' ')} --array-task "$SLURM_ARRAY_TASK_ID"${sharedArgs(opts).length ? ` ${sharedArgs(opts).map(shellQuote).join(' ')}` : ''}`;
  const directives = [
    `--job-name=${jobName}`,
    `--array=0-${tasks.length - 1}${settings.maxRunning ? `%${settings.maxRunning}` : ''}`,
    `--output=${directiveValue(join(logs, '%x-%A_%a.out'))}`,
    ...(settings.partition ? [`--partition=${settings.partition}`] : []),
    ...(settings.time ? [`--time=${settings.time}`] : []),
    ...(settings.cpus ? [`--cpus-per-task=${settings.cpus}`] : []),
    ...(settings.mem ? [`--mem=${settings.mem}`] : []),
  ];
  const body = [
    '#!/bin/bash',
    `# goldstone sweep "${index.name}" as a Slurm job array: ${tasks.length} task${tasks.length === 1 ? '' : 's'} for the ${points} point${points === 1 ? '' : 's'} that need a run.`,
    `# Task i runs entry i of ${pointsFile} into its run directory in ${dir}`,
    '# (which must be on a filesystem every node shares). Written by `goldstone sweep --emit slurm`.',
    `#   submit:     ${submit}`,
    `#   watch:      squeue --me --name ${jobName}`,
    `#   afterwards: ${reconcile}`,
    ...directives.map((d) => `#SBATCH ${d}`),
    '',
    'set -euo pipefail',
    ': "${SLURM_ARRAY_TASK_ID:?this is a Slurm job array script: submit it with sbatch}"',
    `cd ${shellQuote(opts.cwd ?? process.cwd())}`,
    `exec ${taskCommand}`,
    '',
  ].join('\n');
  const readmeText = [
    `goldstone sweep "${index.name}" on Slurm (${tasks.length} array task${tasks.length === 1 ? '' : 's'}, ${points} point${points === 1 ? '' : 's'})`,
    '',
    `The sweep directory ${dir} must be on a filesystem all nodes share; every task writes only its own run directory.`,
    '',
    '1. Submit the array:',
    `   ${submit}`,
    '2. Watch it (logs in slurm/logs/):',
    `   squeue --me --name ${jobName}`,
    '3. When no task is left, reconcile the index, summaries and report (runs nothing; exit 1 names the points that failed or did not run):',
    `   ${reconcile}`,
    '4. For failed or unfinished points, emit again (only those are listed) and submit the new script:',
    `   ${goldstone(['--emit', 'slurm', ...slurmArgs(settings)])}`,
    '',
  ].join('\n');
  const list: PointsFile = { format: SLURM_POINTS_FORMAT, version: 1, sweep: index.name, experiment: file, tasks };
  await mkdir(logs, { recursive: true });
  await writeFileAtomic(pointsFile, `${JSON.stringify(list, null, 2)}\n`);
  await writeFileAtomic(readme, readmeText);
  await writeFileAtomic(script, body);
  return { dir, index, tasks: tasks.length, points, script, pointsFile, readme, submit, reconcile, warnings };
}

/** The flags that give `settings` again (for the re-emit command). */
function slurmArgs(s: SlurmSettings): string[] {
  return [
    ...(s.partition ? ['--partition', s.partition] : []),
    ...(s.time ? ['--time', s.time] : []),
    ...(s.cpus ? ['--cpus', String(s.cpus)] : []),
    ...(s.mem ? ['--mem', s.mem] : []),
    ...(s.maxRunning ? ['--max-running', String(s.maxRunning)] : []),
  ];
}

function readPointsFile(dir: string): PointsFile {
  const path = join(dir, SLURM_DIR, SLURM_POINTS_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new UsageError(`${path}: ${missing ? 'not found' : `cannot be read (${(err as Error).message})`}: emit the array first (goldstone sweep EXPERIMENT --out ${dir} --emit slurm)`, { file: path });
  }
  const tasks = isObject(raw) ? (raw as Record<string, unknown>).tasks : undefined;
  if (!isObject(raw) || (raw as Record<string, unknown>).format !== SLURM_POINTS_FORMAT || !Array.isArray(tasks) || !tasks.every((t) => Array.isArray(t) && t.length > 0 && t.every((id) => typeof id === 'string'))) {
    throw new UsageError(`${path}: expected a goldstone Slurm points list (format "${SLURM_POINTS_FORMAT}", tasks: lists of point ids), found something else`, { file: path });
  }
  return raw as unknown as PointsFile;
}

export interface ArrayTaskOptions {
  file: string;
  env: PluginEnvironment;
  out?: string;
  quick?: boolean;
  set?: Record<string, unknown>;
  report?: boolean;
  maxPoints?: number;
  /** The array index (`$SLURM_ARRAY_TASK_ID`), as given. */
  task: string | number;
}

export interface ArrayTaskOutcome {
  dir: string;
  task: number;
  /** Each point the task ran, with how it ended. */
  results: { id: string; dir: string; result: PointResult }[];
}

/**
 * One task of an emitted job array: run the point(s) of entry `task` of `slurm/points.json`
 * exactly as `goldstone run FILE --set …` would, into their run directories. Never writes
 * sweep.json (many tasks run at once); the reconcile afterwards reads the run directories.
 * The sweep directory must hold the sweep of this experiment (with the same --quick and --set).
 */
export async function runArrayTask(opts: ArrayTaskOptions): Promise<ArrayTaskOutcome> {
  const text = String(opts.task).trim();
  const task = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(task)) throw flagError('array-task', 'a whole number ≥ 0 (the array index, $SLURM_ARRAY_TASK_ID)', opts.task);
  const quick = Boolean(opts.quick);
  const set = opts.set ?? {};
  const read = experimentReader(opts.file, quick, set);
  const experiment = read();
  const sweep = resolveSweep(experiment.sweep, { file: opts.file, maxPoints: opts.maxPoints });
  const points = expandSweep(sweep, { maxPoints: opts.maxPoints });
  const dir = resolve(opts.out ?? sweepDirOf(experiment, opts.file));
  const list = readPointsFile(dir);
  const listPath = join(dir, SLURM_DIR, SLURM_POINTS_FILE);
  if (task >= list.tasks.length) {
    throw new UsageError(`--array-task ${task}: out of range: ${listPath} has ${list.tasks.length} task${list.tasks.length === 1 ? '' : 's'} (0-${list.tasks.length - 1})`, { field: 'array-task' });
  }
  const index = await readSweepIndex(dir);
  const indexFile = join(dir, SWEEP_INDEX_FILE);
  if (!index) throw new UsageError(`${indexFile}: not found: emit the array first (goldstone sweep ${opts.file} --out ${dir} --emit slurm)`, { file: indexFile, field: 'out' });
  const setJson = JSON.parse(JSON.stringify(set)) as Record<string, Json>;
  const differences = indexDifferences(index, { base: comparableConfig(experimentToJson(experiment)), quick, set: setJson, sweep, points }, () => true);
  if (differences.length) {
    throw new UsageError(`${indexFile}: expected the sweep of ${opts.file} as emitted, found a different one: ${differences.join('; ')}; emit the array again`, { file: indexFile, field: 'out' });
  }
  const byId = new Map(points.map((p) => [p.id, p]));
  const refs: PointRef[] = list.tasks[task].map((id) => {
    const point = byId.get(id);
    const rec = index.points.find((p) => p.id === id);
    if (!point || !rec) throw new UsageError(`${listPath}: task ${task}: point ${id} is not a point of the sweep of ${opts.file}; emit the array again`, { file: listPath });
    return { id, assignments: point.assignments, dir: join(dir, rec.dir) };
  });
  const base: PointJob = { ...refs[0], file: resolve(opts.file), quick, set, report: opts.report !== false, env: opts.env };
  const job = jobOf(base, refs);

  const runner = new PointRunner();
  // Slurm sends SIGTERM at the time limit (and scancel): the running points are marked interrupted, as `goldstone run` does.
  const onSignal = (signal: NodeJS.Signals) => {
    const finishedAt = new Date().toISOString();
    const exit = () => process.exit(130);
    Promise.all([...runner.running].map((s) => s.updateRun({ status: 'interrupted', error: `interrupted by ${signal}`, finishedAt }))).then(exit, exit);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const results: ArrayTaskOutcome['results'] = [];
  try {
    await runner.runJob(job, (id, result) => void results.push({ id, dir: refs.find((r) => r.id === id)!.dir, result }));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return { dir, task, results };
}
