import { readFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isObject, type AnalysisResult, type Json } from '@goldstone/plugin-api';
export { pathExists, writeFileAtomic } from './atomic-write';

/**
 * The run directory format, defined once: file names, the shape of run.json, of a metrics line and
 * of an analysis file, and tensor-free readers. Importing this module (`@goldstone/run-store/format`)
 * never loads tfjs: reports, exporters and other readers use it.
 *
 * ```
 * run.json               resolved config, seed, backend, package versions, git commit, status, timestamps
 * metrics.jsonl          one JSON line per logged step or epoch
 * checkpoints/<tag>/     tfjs weights manifest (model.json + weights.bin [+ optimizer.bin])
 * checkpoints/last.json  { tag } of the last good checkpoint
 * analyses/<id>.json     each analysis result with its provenance
 * report.html            the report
 * .goldstone-run         the marker: this directory was created by goldstone (see RunMarker)
 * ```
 */
export const RUN_FILE = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';
export const CHECKPOINTS_DIR = 'checkpoints';
export const ANALYSES_DIR = 'analyses';
export const REPORT_FILE = 'report.html';
/** The marker file every run directory gets when it is created: only such a directory may be replaced by `--force`. */
export const MARKER_FILE = '.goldstone-run';
/** The `format` field of the marker. */
export const MARKER_FORMAT = 'goldstone-run';
/** The version of the run directory layout written into the marker. */
export const RUN_DIR_FORMAT_VERSION = 1;

/**
 * The marker (`.goldstone-run`): written first when a run directory is created. `entries` lists the
 * top-level names written besides the standard ones (files an analysis wrote of its own), so that
 * replacing the run removes them too and nothing else.
 */
export interface RunMarker {
  format: typeof MARKER_FORMAT;
  formatVersion: number;
  createdAt: string;
  entries?: string[];
}

/** The top-level names goldstone itself writes in a run directory. */
export const RUN_ENTRIES: readonly string[] = [RUN_FILE, METRICS_FILE, CHECKPOINTS_DIR, ANALYSES_DIR, REPORT_FILE, MARKER_FILE];

const TEMPORARY = /^\.(.+)\.(tmp|old)-(\d+)-[0-9a-z]+-\d+$/;

/**
 * A temporary file or directory of an atomic write (`.<name>.tmp-<pid>-…`, `.<name>.old-<pid>-…`):
 * the name it stands for, its kind and the id of the process that wrote it; undefined for other names.
 */
export function temporaryOf(entry: string): { name: string; kind: 'tmp' | 'old'; pid: number } | undefined {
  const m = TEMPORARY.exec(entry);
  return m ? { name: m[1], kind: m[2] as 'tmp' | 'old', pid: Number(m[3]) } : undefined;
}

/**
 * Whether another live process has this id (this process, an id no process has, and a zombie, one
 * that has exited but whose parent has not yet reaped it, count as dead): whether the writer of a
 * temporary file (`temporaryOf(entry).pid`) may still be writing it. A worker orphaned by a killed
 * sweep stays a zombie until something reaps it, and `kill(pid, 0)` alone cannot tell.
 */
export function otherProcessAlive(pid: number): boolean {
  if (pid === process.pid || !Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !exitedUnreaped(pid);
}

/** Whether the process is a zombie (or being torn down), read from /proc where there is one; false where there is none. */
function exitedUnreaped(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // pid (comm) state …: comm may hold spaces and parentheses, so the state follows the last ')'
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}

/** The marker of a run directory, or undefined when it has none (or one that is not a goldstone marker). */
export function readMarker(dir: string): RunMarker | undefined {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(join(dir, MARKER_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(value) || value.format !== MARKER_FORMAT) return undefined;
  const entries = Array.isArray(value.entries) ? value.entries.filter((e): e is string => typeof e === 'string') : undefined;
  return { format: MARKER_FORMAT, formatVersion: Number(value.formatVersion), createdAt: String(value.createdAt), ...(entries ? { entries } : {}) };
}

/** One line of metrics.jsonl: `kind: 'step'` rows carry `step, epoch, loss, lr`; `kind: 'epoch'` rows carry `<split>.<metric>` keys. */
export type MetricRow = { kind?: string; step?: number; epoch?: number } & Record<string, Json | undefined>;

export type RunStatus = 'created' | 'running' | 'completed' | 'diverged' | 'failed' | 'interrupted';

/** The contents of run.json. Fields other than `name` and `status` may be missing in old or partial runs. */
export interface RunInfo {
  name: string;
  status: RunStatus | (string & {});
  /** The resolved experiment object. */
  config?: Json;
  seed?: number;
  backend?: string;
  /** Package name → version. */
  packages?: Record<string, string>;
  createdAt?: string;
  updatedAt?: string;
  finishedAt?: string;
  /** Why a run failed or diverged: a message, or an object with one. */
  error?: Json;
  /** Headline numbers of the run. */
  summary?: Record<string, number | null>;
  /** The git work tree the experiment came from (HEAD and whether it had changes); absent outside a work tree or without git. */
  git?: { commit: string; dirty: boolean };
  [key: string]: unknown;
}

/** One analyses/<name>.json file. */
export interface AnalysisEntry extends AnalysisResult {
  /** The file's name without `.json`. */
  name: string;
}

/** Everything a run report is made from. */
export interface RunData {
  /** Directory the run was read from, if any. */
  dir?: string;
  run: RunInfo;
  /** metrics.jsonl rows in file order (empty when the file is missing). */
  metrics: MetricRow[];
  /** Analyses ordered by name. */
  analyses: AnalysisEntry[];
  /** Problems met while reading (a skipped malformed line or file), shown in the report. */
  warnings: string[];
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Parse metrics.jsonl text; lines that are not JSON objects (e.g. a line cut short by a crash) are skipped and reported. */
export function parseMetrics(text: string, file = METRICS_FILE): { rows: MetricRow[]; warnings: string[] } {
  const rows: MetricRow[] = [];
  const warnings: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const row: unknown = JSON.parse(line);
      if (!isObject(row)) throw new Error('not an object');
      rows.push(row as MetricRow);
    } catch {
      warnings.push(`${file} line ${i + 1} is not a JSON object and was skipped`);
    }
  });
  return { rows, warnings };
}

/**
 * Read a run directory: run.json (required), metrics.jsonl and analyses/*.json (both optional).
 * A malformed metrics line or analysis file is skipped with a warning instead of failing.
 */
export async function readRun(dir: string): Promise<RunData> {
  const runPath = join(dir, RUN_FILE);
  const runText = await readOptional(runPath);
  if (runText === undefined) throw new Error(`${runPath} not found: is ${dir} a run directory?`);
  let run: unknown;
  try {
    run = JSON.parse(runText);
  } catch (error) {
    throw new Error(`${runPath} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(run)) throw new Error(`${runPath}: expected a JSON object`);
  const info = { ...run } as RunInfo;
  if (typeof info.name !== 'string') info.name = String(info.name ?? dir.split(/[\\/]/).filter(Boolean).pop() ?? 'run');
  if (typeof info.status !== 'string') info.status = 'unknown';

  const warnings: string[] = [];
  const metricsText = await readOptional(join(dir, METRICS_FILE));
  let metrics: MetricRow[] = [];
  if (metricsText !== undefined) {
    const parsed = parseMetrics(metricsText);
    metrics = parsed.rows;
    warnings.push(...parsed.warnings);
  }

  const analyses: AnalysisEntry[] = [];
  let files: string[] = [];
  try {
    files = (await readdir(join(dir, ANALYSES_DIR))).filter((f) => f.endsWith('.json')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  for (const file of files) {
    const text = await readFile(join(dir, ANALYSES_DIR, file), 'utf8');
    try {
      const parsed: unknown = JSON.parse(text);
      if (!isObject(parsed) || !('result' in parsed)) throw new Error('expected an object with a `result` field');
      analyses.push({ ...(parsed as unknown as AnalysisResult), name: file.slice(0, -'.json'.length) });
    } catch (error) {
      warnings.push(`analyses/${file} was skipped: ${(error as Error).message}`);
    }
  }
  return { dir, run: info, metrics, analyses, warnings };
}
