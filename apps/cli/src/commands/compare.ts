import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { higherIsBetter, primaryMetric, type MetricName } from '@goldstone/core';
import { isObject, UsageError, type OutputKind } from '@goldstone/plugin-api';
import { buildCompareReport, compareRuns, compareTables, type Better, type CompareOptions, type CompareTable, type RunComparison } from '@goldstone/report';
import { readRun, RUN_ENTRIES, RUN_FILE, writeFileAtomic, type RunData } from '@goldstone/run-store/format';

export interface CompareFlags {
  out?: string;
  json?: boolean;
}

const METRIC_NAMES: readonly string[] = ['accuracy', 'auc', 'mse'] satisfies MetricName[];
const OUTPUT_KINDS: readonly string[] = ['classification', 'binary', 'regression'] satisfies OutputKind[];

/** Directions from core: the loss is minimised; accuracy, AUC and MSE by `higherIsBetter`; other task metrics have none. */
function better(metric: string): Better | undefined {
  if (metric === 'loss') return 'lower';
  if (METRIC_NAMES.includes(metric)) return higherIsBetter(metric as MetricName) ? 'higher' : 'lower';
  return undefined;
}

/** A run's primary metric: core's `primaryMetric` of the output kind its run.json records. */
function runPrimaryMetric(data: RunData): string | undefined {
  const kind = isObject(data.run.task) ? data.run.task.outputKind : undefined;
  return typeof kind === 'string' && OUTPUT_KINDS.includes(kind) ? primaryMetric(kind as OutputKind) : undefined;
}

const COMPARE_OPTIONS: CompareOptions = { better, primaryMetric: runPrimaryMetric };

/** Check that `dir` is a run directory whose run.json is a readable JSON object; a UsageError naming the path otherwise. */
function checkRunDir(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir}: RUN_DIR: expected a goldstone run directory, found ${existsSync(dir) ? 'a file' : 'nothing'}`, { file: dir });
  const runFile = join(dir, RUN_FILE);
  if (!existsSync(runFile)) throw new UsageError(`${runFile}: RUN_DIR: expected a goldstone run directory with a run.json, found none`, { file: runFile });
  let text: string;
  try {
    text = readFileSync(runFile, 'utf8');
  } catch (err) {
    throw new UsageError(`${runFile}: expected a readable run.json, found one that cannot be read (${(err as Error).message})`, { file: runFile });
  }
  let run: unknown;
  try {
    run = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${runFile}: expected run.json as JSON, found text that does not parse (${(err as Error).message})`, { file: runFile });
  }
  if (!isObject(run)) throw new UsageError(`${runFile}: expected a JSON object, found ${Array.isArray(run) ? 'an array' : run === null ? 'null' : typeof run}`, { file: runFile });
}

/** The page's path: not a directory, not one of a compared run's own files. */
function checkOut(out: string, dirs: string[]): void {
  if (existsSync(out) && statSync(out).isDirectory()) throw new UsageError(`--out ${out}: expected an HTML file to write, found a directory`, { field: 'out' });
  const parent = dirname(out);
  if (existsSync(parent) && !statSync(parent).isDirectory()) throw new UsageError(`--out ${out}: expected a file in a directory, found ${parent} is a file`, { field: 'out' });
  for (const dir of dirs) {
    const inside = relative(resolve(dir), out);
    if (inside.startsWith('..') || isAbsolute(inside)) continue;
    const top = inside.split(/[\\/]/)[0];
    if (RUN_ENTRIES.includes(top)) throw new UsageError(`--out ${out}: expected a path outside goldstone's own files of the run ${dir}, found its ${top}`, { field: 'out' });
  }
}

const MAX_CELL = 48;
const clip = (s: string) => (s.length > MAX_CELL ? `${s.slice(0, MAX_CELL - 1)}…` : s);

/** A table as aligned text: a title, a head, a rule, rows; the best cells end in ` *`. */
export function textTable(t: CompareTable): string[] {
  const lines = [t.title];
  if (t.rows.length === 0) return [...lines, `  ${t.empty}`];
  const rows = [t.head.map(clip), ...t.rows.map((r) => [clip(r.key), ...r.cells.map((c, i) => `${clip(c)}${r.best[i] ? ' *' : ''}`)])];
  const widths = t.head.map((_, j) => Math.max(...rows.map((r) => [...r[j]].length)));
  const line = (cells: string[]) => `  ${cells.map((c, j) => c + ' '.repeat(widths[j] - [...c].length)).join('  ')}`.trimEnd();
  lines.push(line(rows[0]), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(1).map(line));
  if (t.note) lines.push(`  * ${t.note}`);
  if (t.hidden) lines.push(`  (${t.hidden} more metric row${t.hidden === 1 ? '' : 's'} in --json and the HTML page)`);
  return lines;
}

/** The comparison as text for the terminal: each table, then the notes. */
export function comparisonText(cmp: RunComparison): string {
  const blocks = compareTables(cmp, { metrics: 'primary' }).map((t) => textTable(t).join('\n'));
  if (cmp.notes.length) blocks.push(cmp.notes.map((n) => `note: ${n}`).join('\n'));
  return `${blocks.join('\n\n')}\n`;
}

/**
 * `goldstone compare RUN_DIR RUN_DIR… [--out FILE.html] [--json]`: the config paths that differ,
 * final metrics and analysis headlines side by side (tables on stdout, or with --json only JSON
 * there), and an HTML page with the runs' curves overlaid (default ./compare.html). Everything is
 * read and checked before the page is written.
 */
export async function compareCommand(dirs: string[], flags: CompareFlags): Promise<number> {
  if (dirs.length < 2) throw new UsageError(`compare: RUN_DIR: expected at least 2 run directories, found ${dirs.length}`, { field: 'RUN_DIR' });
  const seen = new Map<string, string>();
  for (const dir of dirs) {
    const key = resolve(dir);
    if (seen.has(key)) throw new UsageError(`${dir}: RUN_DIR: expected different run directories, found this one twice (also as ${seen.get(key)})`, { file: dir });
    seen.set(key, dir);
  }
  for (const dir of dirs) checkRunDir(dir);
  const out = resolve(flags.out ?? 'compare.html');
  checkOut(out, dirs);

  const runs: RunData[] = [];
  for (const dir of dirs) {
    try {
      runs.push(await readRun(dir));
    } catch (err) {
      throw new UsageError(`${dir}: RUN_DIR: expected a readable run directory, found ${(err as Error).message}`, { file: dir });
    }
  }
  const cmp = compareRuns(runs, COMPARE_OPTIONS);
  const html = await buildCompareReport(runs, COMPARE_OPTIONS);

  mkdirSync(dirname(out), { recursive: true });
  await writeFileAtomic(out, html);
  if (flags.json) process.stdout.write(`${JSON.stringify({ ...cmp, page: out }, null, 2)}\n`);
  else process.stdout.write(comparisonText(cmp));
  process.stderr.write(`wrote ${out}\n`);
  return 0;
}
