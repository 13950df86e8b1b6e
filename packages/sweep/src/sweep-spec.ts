import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '@goldstone/run-store/format';
import { isObject, UsageError, type Json } from '@goldstone/plugin-api';
import { parseOrThrow } from '@goldstone/runner';

// ---------------------------------------------------------------------------------------------
// The `sweep:` block of an experiment file

const rangeSpec = z.strictObject({
  from: z.number(),
  to: z.number(),
  num: z.number().int().positive(),
});

/** `{ logspace: {from, to, num}, round? }` or `{ linspace: {from, to, num}, round? }`. */
const rangeSchema = z.union([
  z.strictObject({ logspace: rangeSpec, round: z.boolean().optional() }),
  z.strictObject({ linspace: rangeSpec, round: z.boolean().optional() }),
]);

/** One axis: an explicit list of values, or a range. */
const axisSchema = z.union([z.array(z.unknown()).min(1, 'expected at least one value'), rangeSchema]);

/** A path as `--set` reads it: `train.lr`, `model.options.hidden`, `analyses[0].options.k`, `seed`. */
const PATH = /^[A-Za-z_][\w-]*(\[\d+\])*(\.[A-Za-z_][\w-]*(\[\d+\])*)*$/;

export const SweepSchema = z.strictObject({
  /** Product over paths (first path outermost). */
  grid: z.record(z.string(), axisSchema).optional(),
  /** Paths whose lists advance together (equal lengths), combined with the grid as a product. */
  zip: z.record(z.string(), axisSchema).optional(),
  /** Shorthand for a `seed` axis, innermost. */
  seeds: z.array(z.number().int().min(0)).min(1, 'expected at least one seed').optional(),
  /** Settings that group runs for summaries and lines (default: every swept path but `seed`). */
  summaryBy: z.array(z.string()).optional(),
});

export type SweepSpec = z.output<typeof SweepSchema>;
export type SweepRange = z.output<typeof rangeSchema>;

/** A sweep with every range expanded: the axes in order (grid paths, then zip paths, then seed). */
export interface ResolvedSweep {
  /** Grid axes, outermost first: path → values. */
  grid: Record<string, Json[]>;
  /** Zipped axes (equal lengths): path → values. */
  zip: Record<string, Json[]>;
  seeds: number[];
  /** Every swept path, in the order points are enumerated (`seed` last if swept). */
  paths: string[];
  summaryBy: string[];
}

/** One point of a sweep: its stable id (the run directory's name) and its assignments. */
export interface SweepPoint {
  id: string;
  /** Position in the enumeration (0-based). */
  index: number;
  /** Path → value, applied like `--set path=value`. */
  assignments: Record<string, Json>;
}

function roundClean(x: number): number {
  return Number(x.toPrecision(12));
}

/** The values of a range (endpoints exact; `round` rounds to integers and drops repeats). */
export function expandRange(range: SweepRange): number[] {
  const log = 'logspace' in range;
  const { from, to, num } = log ? range.logspace : range.linspace;
  if (log && !(from > 0 && to > 0)) throw new RangeError(`logspace needs from > 0 and to > 0, got from ${from}, to ${to}`);
  const out: number[] = [];
  for (let i = 0; i < num; i++) {
    let x: number;
    if (i === 0) x = from;
    else if (i === num - 1) x = to;
    else {
      const t = i / (num - 1);
      x = log ? Math.exp(Math.log(from) + t * (Math.log(to) - Math.log(from))) : from + t * (to - from);
    }
    out.push(range.round ? Math.round(x) : roundClean(x));
  }
  return range.round ? [...new Set(out)] : out;
}

function toJson(v: unknown): Json {
  return JSON.parse(JSON.stringify(v ?? null)) as Json;
}

/**
 * Validate and expand an experiment's `sweep:` block. Errors are UsageErrors naming the file and
 * the field (`sweep.grid.train.lr: …`).
 */
export function resolveSweep(raw: unknown, opts: { file?: string } = {}): ResolvedSweep {
  const where = opts.file ? `${opts.file}: ` : '';
  if (raw === undefined || raw === null) {
    throw new UsageError(`${where}sweep: the experiment has no sweep: block (declare grid, zip or seeds; use goldstone run for a single run)`, {
      file: opts.file,
      field: 'sweep',
    });
  }
  if (isObject(raw)) {
    for (const section of ['grid', 'zip'] as const) {
      const axes = raw[section];
      if (!isObject(axes)) continue;
      const bad = Object.keys(axes).find((k) => !PATH.test(k));
      if (bad !== undefined) {
        throw new UsageError(`${where}sweep.${section}.${bad}: expected a dotted path such as train.lr or model.options.hidden`, {
          file: opts.file,
          field: `sweep.${section}.${bad}`,
        });
      }
    }
  }
  const spec = parseOrThrow(SweepSchema, raw, { file: opts.file, prefix: ['sweep'] });
  const expand = (section: 'grid' | 'zip', path: string, axis: unknown[] | SweepRange): Json[] => {
    if (Array.isArray(axis)) return axis.map(toJson);
    try {
      return expandRange(axis);
    } catch (err) {
      throw new UsageError(`${where}sweep.${section}.${path}: ${(err as Error).message}`, { file: opts.file, field: `sweep.${section}.${path}` });
    }
  };
  const grid: Record<string, Json[]> = {};
  for (const [path, axis] of Object.entries(spec.grid ?? {})) grid[path] = expand('grid', path, axis as unknown[] | SweepRange);
  const zip: Record<string, Json[]> = {};
  for (const [path, axis] of Object.entries(spec.zip ?? {})) {
    if (path in grid) throw new UsageError(`${where}sweep.zip.${path}: also swept in sweep.grid; sweep a path once`, { file: opts.file, field: `sweep.zip.${path}` });
    zip[path] = expand('zip', path, axis as unknown[] | SweepRange);
  }
  const zipPaths = Object.keys(zip);
  if (zipPaths.length > 1) {
    const n = zip[zipPaths[0]].length;
    const bad = zipPaths.find((p) => zip[p].length !== n);
    if (bad !== undefined) {
      const lengths = zipPaths.map((p) => `${p} has ${zip[p].length}`).join(', ');
      throw new UsageError(`${where}sweep.zip.${bad}: zipped lists must have equal lengths (${lengths})`, { file: opts.file, field: `sweep.zip.${bad}` });
    }
  }
  const seeds = spec.seeds ?? [];
  if (seeds.length > 0 && ('seed' in grid || 'seed' in zip)) {
    throw new UsageError(`${where}sweep.seeds: seed is also swept in ${'seed' in grid ? 'sweep.grid' : 'sweep.zip'}; sweep it once`, {
      file: opts.file,
      field: 'sweep.seeds',
    });
  }
  if (new Set(seeds).size !== seeds.length) throw new UsageError(`${where}sweep.seeds: seeds repeat`, { file: opts.file, field: 'sweep.seeds' });
  const paths = [...Object.keys(grid), ...zipPaths, ...(seeds.length ? ['seed'] : [])];
  if (paths.length === 0) {
    throw new UsageError(`${where}sweep: declare at least one of grid, zip or seeds`, { file: opts.file, field: 'sweep' });
  }
  for (const [i, p] of (spec.summaryBy ?? []).entries()) {
    if (!paths.includes(p)) {
      throw new UsageError(`${where}sweep.summaryBy[${i}]: "${p}" is not swept (swept: ${paths.join(', ')})`, {
        file: opts.file,
        field: `sweep.summaryBy[${i}]`,
      });
    }
  }
  const summaryBy = spec.summaryBy ?? paths.filter((p) => p !== 'seed');
  return { grid, zip, seeds, paths, summaryBy };
}

// ---------------------------------------------------------------------------------------------
// Points and their identity

/** JSON with object keys sorted, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Short name of a path for run ids: its last segment, camelCase abbreviated (`train.batchSize` → `bs`). */
export function shortName(path: string): string {
  const last = path.split('.').pop()!.replace(/\[(\d+)\]/g, '$1');
  return /[A-Z]/.test(last) ? (last[0] + last.slice(1).replace(/[^A-Z0-9]/g, '')).toLowerCase() : last;
}

function formatValue(value: Json): string {
  if (Array.isArray(value)) return value.length ? value.map(formatValue).join('x') : 'none';
  if (isObject(value)) return Object.keys(value).sort().map((k) => `${k}-${formatValue(value[k] as Json)}`).join('+');
  return String(value);
}

/** Paths in id order: sorted, with `seed` last. */
function idOrder(paths: string[]): string[] {
  return [...paths].sort((a, b) => (a === 'seed' ? 1 : b === 'seed' ? -1 : a < b ? -1 : a > b ? 1 : 0));
}

const MAX_READABLE = 96;

/**
 * The stable id of a point: readable assignments (sorted paths, `seed` last) and 8 hex digits of a
 * SHA-256 of their canonical JSON, e.g. `bs=64_lr=0.1_seed=1-3fa2c1d0`. It depends only on the
 * assignments, so the same point has the same run directory in every run of the sweep, on any machine.
 */
export function pointId(assignments: Record<string, Json>): string {
  const paths = idOrder(Object.keys(assignments));
  const canonical = canonicalJson(paths.map((p) => [p, assignments[p]]));
  const hash = createHash('sha256').update(canonical).digest('hex').slice(0, 8);
  let readable = paths
    .map((p) => `${shortName(p)}=${formatValue(assignments[p])}`.replace(/[^A-Za-z0-9.=+-]+/g, '-'))
    .join('_')
    .replace(/^[^A-Za-z0-9]+/, '');
  if (readable.length > MAX_READABLE) readable = readable.slice(0, MAX_READABLE).replace(/[-_=+.]+$/, '');
  return readable ? `${readable}-${hash}` : hash;
}

/** Every point of a resolved sweep: grid product (first path outermost) × zip rows × seeds (innermost). */
export function expandSweep(sweep: ResolvedSweep): SweepPoint[] {
  const axes: { paths: string[]; rows: Json[][] }[] = [];
  for (const [path, values] of Object.entries(sweep.grid)) axes.push({ paths: [path], rows: values.map((v) => [v]) });
  const zipPaths = Object.keys(sweep.zip);
  if (zipPaths.length) {
    const n = sweep.zip[zipPaths[0]].length;
    axes.push({ paths: zipPaths, rows: Array.from({ length: n }, (_, i) => zipPaths.map((p) => sweep.zip[p][i])) });
  }
  if (sweep.seeds.length) axes.push({ paths: ['seed'], rows: sweep.seeds.map((s) => [s]) });
  let combos: Record<string, Json>[] = [{}];
  for (const axis of axes) {
    const next: Record<string, Json>[] = [];
    for (const c of combos) {
      for (const row of axis.rows) {
        const a = { ...c };
        axis.paths.forEach((p, i) => (a[p] = row[i]));
        next.push(a);
      }
    }
    combos = next;
  }
  const points = combos.map((assignments, index) => ({ id: pointId(assignments), index, assignments }));
  const seen = new Map<string, number>();
  for (const p of points) {
    const first = seen.get(p.id);
    if (first !== undefined) throw new UsageError(`sweep: points ${first} and ${p.index} are the same (${p.id}); a value repeats in an axis`, { field: 'sweep' });
    seen.set(p.id, p.index);
  }
  return points;
}

// ---------------------------------------------------------------------------------------------
// The sweep index (sweep.json) and point status

/**
 * Status of a point. `pending`: never run; `running`: handed to a worker (left so by a killed
 * sweep); `completed`, `diverged`: results (skipped on re-run); `failed`, `interrupted`: re-run.
 */
export type PointStatus = 'pending' | 'running' | 'completed' | 'diverged' | 'failed' | 'interrupted';
export const POINT_STATUSES: readonly PointStatus[] = ['pending', 'running', 'completed', 'diverged', 'failed', 'interrupted'];

export interface SweepPointRecord extends SweepPoint {
  status: PointStatus;
  /** How many times the point was handed to a worker, over every invocation of the sweep. */
  attempts: number;
  /** The run directory, relative to the sweep directory (the id). */
  dir: string;
  startedAt?: string;
  finishedAt?: string;
  /** Why the point failed, diverged or was interrupted. */
  error?: string;
  /** The run's final metrics (run.json `summary`). */
  summary?: Record<string, number | null>;
  /** Process id of the worker running it, while `running`. */
  pid?: number;
}

export const SWEEP_INDEX_FORMAT = 'goldstone-sweep';
export const SWEEP_INDEX_FILE = 'sweep.json';

export interface SweepIndex {
  format: typeof SWEEP_INDEX_FORMAT;
  version: 1;
  /** The experiment's name. */
  name: string;
  /** The experiment file (absolute path). */
  experiment: string;
  /** Options every point was run with, besides its assignments. */
  quick: boolean;
  set: Record<string, Json>;
  sweep: ResolvedSweep;
  createdAt: string;
  updatedAt: string;
  /** Number of points per status. */
  counts: Record<PointStatus, number>;
  points: SweepPointRecord[];
}

/** Statuses whose point is run (again) by the next invocation of the sweep. */
export function needsRun(status: PointStatus | string | undefined): boolean {
  return status !== 'completed' && status !== 'diverged';
}

export function countStatuses(points: readonly { status: PointStatus }[]): Record<PointStatus, number> {
  const counts = Object.fromEntries(POINT_STATUSES.map((s) => [s, 0])) as Record<PointStatus, number>;
  for (const p of points) counts[p.status]++;
  return counts;
}

/**
 * A fresh index for `points`, keeping from `previous` (an index of an earlier invocation) the
 * records of points that are still in the sweep.
 */
export function createSweepIndex(opts: {
  name: string;
  experiment: string;
  quick?: boolean;
  set?: Record<string, Json>;
  sweep: ResolvedSweep;
  points: SweepPoint[];
  previous?: SweepIndex;
  now?: string;
}): SweepIndex {
  const now = opts.now ?? new Date().toISOString();
  const old = new Map((opts.previous?.points ?? []).map((p) => [p.id, p]));
  const points: SweepPointRecord[] = opts.points.map((p) => {
    const o = old.get(p.id);
    const rec: SweepPointRecord = { ...p, dir: p.id, status: 'pending', attempts: 0 };
    if (o) {
      rec.status = o.status;
      rec.attempts = o.attempts ?? 0;
      for (const k of ['startedAt', 'finishedAt', 'error', 'summary'] as const) if (o[k] !== undefined) (rec as any)[k] = o[k];
    }
    return rec;
  });
  return {
    format: SWEEP_INDEX_FORMAT,
    version: 1,
    name: opts.name,
    experiment: opts.experiment,
    quick: Boolean(opts.quick),
    set: opts.set ?? {},
    sweep: opts.sweep,
    createdAt: opts.previous?.createdAt ?? now,
    updatedAt: now,
    counts: countStatuses(points),
    points,
  };
}

/** The index with one point replaced by `fn(point)`, counts and `updatedAt` refreshed. */
export function updatePoint(index: SweepIndex, id: string, fn: (p: SweepPointRecord) => SweepPointRecord, now = new Date().toISOString()): SweepIndex {
  let found = false;
  const points = index.points.map((p) => {
    if (p.id !== id) return p;
    found = true;
    return fn(p);
  });
  if (!found) throw new Error(`sweep index: no point "${id}"`);
  return { ...index, points, counts: countStatuses(points), updatedAt: now };
}

function without<T extends object, K extends keyof T>(obj: T, ...keys: K[]): Omit<T, K> {
  const out = { ...obj };
  for (const k of keys) delete out[k];
  return out;
}

/**
 * Bring a point's record in line with its run directory's run.json (the truth for skipping):
 * `completed` and `diverged` runs are results; anything else, or no run.json, must run.
 */
export function reconcilePoint(rec: SweepPointRecord, run: Record<string, Json> | undefined): SweepPointRecord {
  const status = run?.status;
  if (status === 'completed' || status === 'diverged') {
    const summary = isObject(run!.summary) ? (run!.summary as Record<string, number | null>) : rec.summary;
    const base = without(rec, 'pid', 'error');
    return {
      ...base,
      status,
      ...(summary ? { summary } : {}),
      ...(status === 'diverged' && typeof run!.error === 'string' ? { error: run!.error } : {}),
      ...(typeof run!.finishedAt === 'string' ? { finishedAt: run!.finishedAt } : {}),
    };
  }
  if (run === undefined) {
    // No run directory: never started, or removed since. A result whose directory is gone runs again.
    const next: PointStatus = rec.status === 'running' ? 'interrupted' : rec.status === 'failed' || rec.status === 'interrupted' ? rec.status : 'pending';
    const base = without(rec, 'pid', 'summary');
    return next === 'pending' ? { ...without(base, 'error'), status: next } : { ...base, status: next };
  }
  // A run directory left running (a killed worker), failed or interrupted: it runs again.
  const next: PointStatus = status === 'failed' ? 'failed' : 'interrupted';
  const error = typeof run.error === 'string' ? run.error : status === 'running' || status === 'created' ? 'the run was cut off (its worker or the sweep stopped)' : rec.error;
  return { ...without(rec, 'pid', 'summary'), status: next, ...(error ? { error } : {}) };
}

/** A point handed to a worker. */
export function startPoint(rec: SweepPointRecord, opts: { pid?: number; now?: string } = {}): SweepPointRecord {
  const base = without(rec, 'error', 'finishedAt', 'summary', 'pid');
  return { ...base, status: 'running', attempts: rec.attempts + 1, startedAt: opts.now ?? new Date().toISOString(), ...(opts.pid ? { pid: opts.pid } : {}) };
}

/** A point whose run ended (with the run's own status). */
export function finishPoint(
  rec: SweepPointRecord,
  outcome: { status: 'completed' | 'diverged' | 'failed' | 'interrupted'; error?: string; summary?: Record<string, number | null>; now?: string },
): SweepPointRecord {
  const base = without(rec, 'pid', 'error', 'summary');
  return {
    ...base,
    status: outcome.status,
    finishedAt: outcome.now ?? new Date().toISOString(),
    ...(outcome.error ? { error: outcome.error } : {}),
    ...(outcome.summary ? { summary: outcome.summary } : {}),
  };
}

/** Write sweep.json atomically into the sweep directory. */
export async function writeSweepIndex(dir: string, index: SweepIndex): Promise<void> {
  await writeFileAtomic(join(dir, SWEEP_INDEX_FILE), `${JSON.stringify(index, null, 2)}\n`);
}

/** Read sweep.json from a sweep directory; undefined if there is none. */
export async function readSweepIndex(dir: string): Promise<SweepIndex | undefined> {
  const file = join(dir, SWEEP_INDEX_FILE);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let index: SweepIndex;
  try {
    index = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: invalid JSON (${(err as Error).message})`, { file });
  }
  if (index?.format !== SWEEP_INDEX_FORMAT || !Array.isArray(index.points)) {
    throw new UsageError(`${file}: not a goldstone sweep index`, { file });
  }
  return index;
}

// ---------------------------------------------------------------------------------------------
// Grouping and summaries of final metrics

/** Settings of a point restricted to `by` (the group it belongs to for summaries). */
export function groupSettings(assignments: Record<string, Json>, by: readonly string[]): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const p of by) if (p in assignments) out[p] = assignments[p];
  return out;
}

export interface MetricStats {
  /** Number of finite values. */
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1), 0 for a single value. */
  std: number;
  /** Standard error of the mean, std/√n. */
  sem: number;
  min: number;
  max: number;
}

export function metricStats(values: readonly number[]): MetricStats | undefined {
  const xs = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return undefined;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, std, sem: std / Math.sqrt(n), min: Math.min(...xs), max: Math.max(...xs) };
}

export interface MetricGroup {
  settings: Record<string, Json>;
  /** Ids of the finished points (completed or diverged) in the group. */
  runs: string[];
  metrics: Record<string, MetricStats>;
}

/**
 * Final metrics (run.json `summary`) across a sweep, grouped by `summaryBy` (mean, spread, range
 * over the other settings, usually the seeds). Only completed and diverged points count; a
 * non-finite value (a diverged loss) is left out of its metric's statistics.
 */
export function summarizeFinalMetrics(index: SweepIndex): { by: string[]; groups: MetricGroup[] } {
  const by = index.sweep.summaryBy;
  const groups = new Map<string, { settings: Record<string, Json>; runs: string[]; values: Record<string, number[]> }>();
  for (const p of index.points) {
    if (p.status !== 'completed' && p.status !== 'diverged') continue;
    const settings = groupSettings(p.assignments, by);
    const key = canonicalJson(settings);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { settings, runs: [], values: {} }));
    g.runs.push(p.id);
    for (const [m, v] of Object.entries(p.summary ?? {})) if (typeof v === 'number') (g.values[m] ??= []).push(v);
  }
  return {
    by,
    groups: [...groups.values()].map((g) => ({
      settings: g.settings,
      runs: g.runs,
      metrics: Object.fromEntries(
        Object.entries(g.values)
          .map(([m, vs]) => [m, metricStats(vs)] as const)
          .filter((e): e is readonly [string, MetricStats] => e[1] !== undefined),
      ),
    })),
  };
}
