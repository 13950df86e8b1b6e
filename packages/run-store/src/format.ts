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
 * run.json               resolved config, seed, backend, package versions, status, timestamps
 * metrics.jsonl          one JSON line per logged step or epoch
 * checkpoints/<tag>/     tfjs weights manifest (model.json + weights.bin [+ optimizer.bin])
 * checkpoints/last.json  { tag } of the last good checkpoint
 * analyses/<id>.json     each analysis result with its provenance
 * report.html            the report
 * ```
 */
export const RUN_FILE = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';
export const CHECKPOINTS_DIR = 'checkpoints';
export const ANALYSES_DIR = 'analyses';
export const REPORT_FILE = 'report.html';

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
