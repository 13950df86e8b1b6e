import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { isObject, UsageError, type Json } from '@goldstone/plugin-api';
import { RunStore } from '@goldstone/run-store';
import { ANALYSES_DIR, METRICS_FILE, readRun, RUN_ENTRIES, RUN_FILE, writeFileAtomic, type MetricRow } from '@goldstone/run-store/format';

/** A table found in a run: its file name, where it came from, its columns and rows of cells. */
export interface CsvTable {
  file: string;
  source: string;
  columns: string[];
  rows: Json[][];
}

type Scalar = string | number | boolean | null;
const isScalar = (v: unknown): v is Scalar => v === null || ['string', 'number', 'boolean'].includes(typeof v);
/** A column: a non-empty array of scalars, not all null. */
const isColumn = (v: unknown): v is Scalar[] => Array.isArray(v) && v.length > 0 && v.every(isScalar) && v.some((x) => x !== null);
const isRecords = (v: unknown): v is Record<string, Json>[] => Array.isArray(v) && v.length > 0 && v.every(isObject);

/**
 * One CSV field (RFC 4180): numbers as JSON writes them, strings as they are, booleans as
 * true/false, null and absent values blank, arrays and objects as compact JSON; a field holding a
 * comma, a double quote, CR or LF is quoted, with its quotes doubled. Written by hand: this is
 * the whole of the quoting rule, not worth a dependency.
 */
export function csvField(value: Json | undefined): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A table as RFC 4180 text: a header line, CRLF line ends. */
export function toCsv(columns: readonly string[], rows: readonly (readonly (Json | undefined)[])[]): string {
  return [columns, ...rows].map((r) => r.map((c) => csvField(c)).join(',')).join('\r\n') + '\r\n';
}

/** Columns of records: every key seen, in first-seen order. */
function keysOf(rows: readonly Record<string, unknown>[]): string[] {
  const keys = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) keys.add(k);
  return [...keys];
}

/** metrics.jsonl as one table: a column per key seen (first-seen order), blank where a row lacks it. */
export function metricsTable(rows: readonly MetricRow[]): CsvTable {
  const columns = keysOf(rows);
  return { file: 'metrics.csv', source: METRICS_FILE, columns, rows: rows.map((r) => columns.map((c) => (r[c] === undefined ? null : (r[c] as Json)))) };
}

/**
 * The tables of one analysis result, found by walking it (keys in order, `path` joined with dots):
 * - an array of objects is a table with a row per object and a column per key seen; a record that
 *   holds two or more arrays of scalars of one length (a curve, e.g. `t` and `loss`) is written
 *   long: a row per element, its other fields repeated. Other nested values are JSON cells, and
 *   records are not walked further;
 * - in an object, its arrays of scalars of one length form one table (e.g. `grid` + `values`),
 *   and an array of scalars with no partner of its length is a table of one column
 *   (e.g. `topEigenvalues`);
 * - an object whose values are all objects of scalars (keyed records, e.g. per-split metrics) is a
 *   table with a first column `key`;
 * everything else is walked into. Matrices (arrays of arrays) and empty arrays are not exported.
 */
export function analysisTables(result: Json, path: string[] = []): { path: string[]; columns: string[]; rows: Json[][] }[] {
  const out: { path: string[]; columns: string[]; rows: Json[][] }[] = [];
  if (isRecords(result)) {
    const columns = keysOf(result);
    const rows: Json[][] = [];
    for (const r of result) {
      const lengths = new Map<number, string[]>();
      for (const k of columns) if (isColumn(r[k])) lengths.set((r[k] as Scalar[]).length, [...(lengths.get((r[k] as Scalar[]).length) ?? []), k]);
      const long = [...lengths.values()].find((ks) => ks.length >= 2);
      if (!long) {
        rows.push(columns.map((c) => (r[c] === undefined ? null : r[c])));
        continue;
      }
      const n = (r[long[0]] as Scalar[]).length;
      for (let i = 0; i < n; i++) rows.push(columns.map((c) => (long.includes(c) ? (r[c] as Scalar[])[i] : r[c] === undefined ? null : r[c])));
    }
    out.push({ path, columns, rows });
    return out;
  }
  if (!isObject(result)) return out;
  const entries = Object.entries(result) as [string, Json][];
  if (entries.length > 0 && entries.every(([, v]) => isObject(v) && Object.keys(v).length > 0 && Object.values(v).every(isScalar))) {
    const records = entries.map(([, v]) => v as Record<string, Json>);
    const columns = keysOf(records);
    out.push({ path, columns: ['key', ...columns], rows: entries.map(([k, v]) => [k, ...columns.map((c) => ((v as Record<string, Json>)[c] === undefined ? null : (v as Record<string, Json>)[c]))]) });
    return out;
  }
  const groups = new Map<number, string[]>();
  for (const [k, v] of entries) if (isColumn(v)) groups.set(v.length, [...(groups.get(v.length) ?? []), k]);
  const grouped = new Set<string>();
  for (const [n, keys] of groups) {
    for (const k of keys) grouped.add(k);
    const rows = Array.from({ length: n }, (_, i) => keys.map((k) => (result[k] as Scalar[])[i]));
    out.push({ path: keys.length === 1 ? [...path, keys[0]] : path, columns: keys, rows });
  }
  for (const [k, v] of entries) if (!grouped.has(k) && (Array.isArray(v) || isObject(v))) out.push(...analysisTables(v, [...path, k]));
  return out;
}

/** Every table of a run directory (read, not written): metrics.csv, then each analysis' tables. */
export async function runTables(runDir: string): Promise<CsvTable[]> {
  const data = await readRun(runDir);
  const tables: CsvTable[] = [];
  if (data.metrics.length > 0) tables.push(metricsTable(data.metrics));
  const taken = new Set(tables.map((t) => t.file));
  for (const a of data.analyses) {
    for (const t of analysisTables(a.result as Json)) {
      const base = [a.name, ...t.path].join('.').replace(/[^\w.@+-]/g, '_');
      let file = `${base}.csv`;
      for (let i = 2; taken.has(file); i++) file = `${base}-${i}.csv`;
      taken.add(file);
      const source = `${ANALYSES_DIR}/${a.name}.json${t.path.length ? ` result.${t.path.join('.')}` : ' result'}`;
      tables.push({ file, source, columns: t.columns, rows: t.rows });
    }
  }
  return tables;
}

export interface ExportFlags {
  csv?: boolean;
  out?: string;
  json?: boolean;
}

/** `goldstone export RUN_DIR --csv [--out DIR]`: metrics and analysis tables as CSV files. */
export async function exportCommand(runDir: string, flags: ExportFlags): Promise<number> {
  if (!flags.csv) throw new UsageError('export: --csv: expected a format flag (--csv is the one there is), found none', { field: 'csv' });
  const runFile = join(runDir, RUN_FILE);
  if (!existsSync(runDir) || !statSync(runDir).isDirectory()) throw new UsageError(`${runDir}: RUN_DIR: expected a goldstone run directory, found no directory`, { file: runDir });
  if (!existsSync(runFile)) throw new UsageError(`${runFile}: not found: RUN_DIR must be a goldstone run directory`, { file: runFile });
  let run: unknown;
  try {
    run = JSON.parse(readFileSync(runFile, 'utf8'));
  } catch (err) {
    throw new UsageError(`${runFile}: expected run.json as JSON, found text that does not parse (${(err as Error).message})`, { file: runFile });
  }
  if (!isObject(run)) throw new UsageError(`${runFile}: expected a JSON object, found ${Array.isArray(run) ? 'an array' : typeof run}`, { file: runFile });

  const out = resolve(flags.out ?? join(runDir, 'export'));
  if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`--out ${out}: expected a directory, found a file`, { field: 'out' });
  const inside = relative(resolve(runDir), out);
  const top = inside.split(/[\\/]/)[0];
  if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside) && RUN_ENTRIES.includes(top))) {
    throw new UsageError(`--out ${out}: expected a directory outside goldstone's own files of the run, found ${inside === '' ? 'the run directory itself' : top}`, { field: 'out' });
  }
  const tables = await runTables(runDir);

  // Everything is read and checked: write. Inside the run directory, through its store, so that
  // the marker records the new entry and --force later removes it with the run.
  const written: { file: string; source: string; rows: number; columns: number }[] = [];
  const store = !inside.startsWith('..') && !isAbsolute(inside) ? await RunStore.create(runDir, { resume: true }) : undefined;
  if (!store) mkdirSync(out, { recursive: true });
  for (const t of tables) {
    const text = toCsv(t.columns, t.rows);
    if (store) await store.writeText(join(inside, t.file), text);
    else await writeFileAtomic(join(out, t.file), text);
    written.push({ file: join(out, t.file), source: t.source, rows: t.rows.length, columns: t.columns.length });
  }
  if (flags.json) process.stdout.write(`${JSON.stringify({ run: runDir, out, files: written }, null, 2)}\n`);
  else {
    for (const w of written) process.stdout.write(`${w.file}\n`);
    process.stderr.write(`wrote ${written.length} CSV file${written.length === 1 ? '' : 's'} to ${out}\n`);
  }
  return 0;
}
