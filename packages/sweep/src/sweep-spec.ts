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

/** Path segments that would reach an object's prototype instead of a field of its own. */
const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The first segment of `path` that may not be swept (`__proto__`, `constructor`, `prototype`), if any. */
export function forbiddenSegment(path: string): string | undefined {
  return path
    .split('.')
    .map((part) => part.replace(/(\[\d+\])+$/, ''))
    .find((part) => FORBIDDEN_SEGMENTS.has(part));
}

/** How many points a sweep may have unless told otherwise (`--max-points`, `maxPoints`). */
export const DEFAULT_MAX_POINTS = 10_000;

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
export function resolveSweep(raw: unknown, opts: { file?: string; maxPoints?: number } = {}): ResolvedSweep {
  const where = opts.file ? `${opts.file}: ` : '';
  if (raw === undefined || raw === null) {
    throw new UsageError(`${where}sweep: the experiment has no sweep: block (declare grid, zip or seeds; use goldstone run for a single run)`, {
      file: opts.file,
      field: 'sweep',
    });
  }
  if (isObject(raw)) {
    for (const section of ['grid', 'zip'] as const) {
      const axes = Object.hasOwn(raw, section) ? raw[section] : undefined;
      if (!isObject(axes)) continue;
      for (const key of Object.keys(axes)) {
        if (!PATH.test(key)) {
          throw new UsageError(`${where}sweep.${section}.${key}: expected a dotted path such as train.lr or model.options.hidden`, {
            file: opts.file,
            field: `sweep.${section}.${key}`,
          });
        }
        const segment = forbiddenSegment(key);
        if (segment !== undefined) {
          throw new UsageError(`${where}sweep.${section}.${key}: "${segment}" may not be a path segment (it names no experiment field); expected a path such as train.lr`, {
            file: opts.file,
            field: `sweep.${section}.${key}`,
          });
        }
      }
    }
  }
  const spec = parseOrThrow(SweepSchema, raw, { file: opts.file, prefix: ['sweep'] });
  const maxPoints = opts.maxPoints ?? DEFAULT_MAX_POINTS;
  // A range's num bounds the sweep from below: refuse before expanding it (a num of 1e9 would not fit in memory).
  for (const section of ['grid', 'zip'] as const) {
    for (const [path, axis] of Object.entries(spec[section] ?? {})) {
      if (Array.isArray(axis)) continue;
      const { num } = 'logspace' in axis ? axis.logspace : axis.linspace;
      if (num > maxPoints) throw tooManyPoints(opts.file, `at least ${num} points (sweep.${section}.${path} has num ${num})`, maxPoints, num);
    }
  }
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
  const resolved = { grid, zip, seeds, paths, summaryBy };
  const total = countPoints(resolved);
  if (total > maxPoints) throw tooManyPoints(opts.file, `${total} points (${describeAxes(resolved)})`, maxPoints, total);
  return resolved;
}

/** The number of points a resolved sweep expands to (the product of its axis lengths), without expanding it. */
export function countPoints(sweep: ResolvedSweep): number {
  const zipPaths = Object.keys(sweep.zip);
  let n = zipPaths.length ? sweep.zip[zipPaths[0]].length : 1;
  for (const values of Object.values(sweep.grid)) n *= values.length;
  return n * (sweep.seeds.length || 1);
}

function describeAxes(sweep: ResolvedSweep): string {
  const zipPaths = Object.keys(sweep.zip);
  return [
    ...Object.entries(sweep.grid).map(([p, v]) => `${p} ${v.length}`),
    ...(zipPaths.length ? [`zip ${zipPaths.join('+')} ${sweep.zip[zipPaths[0]].length}`] : []),
    ...(sweep.seeds.length ? [`seeds ${sweep.seeds.length}`] : []),
  ].join(' × ');
}

function tooManyPoints(file: string | undefined, what: string, limit: number, count: number): UsageError {
  return new UsageError(
    `${file ? `${file}: ` : ''}sweep: expected at most ${limit} points, found ${what}; pass --max-points ${count} to run that many`,
    { file, field: 'sweep' },
  );
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
export function expandSweep(sweep: ResolvedSweep, opts: { maxPoints?: number } = {}): SweepPoint[] {
  const total = countPoints(sweep);
  const limit = opts.maxPoints ?? DEFAULT_MAX_POINTS;
  if (total > limit) throw tooManyPoints(undefined, `${total} points (${describeAxes(sweep)})`, limit, total);
  const bad = sweep.paths.find((p) => forbiddenSegment(p) !== undefined);
  if (bad !== undefined) throw new UsageError(`sweep: ${bad}: "${forbiddenSegment(bad)}" may not be a path segment`, { field: `sweep.${bad}` });
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
  /**
   * The experiment every point starts from (`quick` and `set` applied), without the fields that do
   * not change what a point computes (see `comparableConfig`): what a later invocation must match.
   * Absent in indexes written before it was recorded.
   */
  base?: Json;
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
  base?: Json;
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
    ...(opts.base !== undefined ? { base: opts.base } : {}),
    createdAt: opts.previous?.createdAt ?? now,
    updatedAt: now,
    counts: countStatuses(points),
    points,
  };
}

/**
 * The index with one point replaced by `fn(point)`, counts and `updatedAt` refreshed. The counts
 * are adjusted for the one point that changed, never recounted: a sweep updates points one at a
 * time, so a recount here would make a sweep of n points cost n² (see `updatePoints` for many).
 */
export function updatePoint(index: SweepIndex, id: string, fn: (p: SweepPointRecord) => SweepPointRecord, now = new Date().toISOString()): SweepIndex {
  const at = index.points.findIndex((p) => p.id === id);
  if (at < 0) throw new Error(`sweep index: no point "${id}"`);
  const before = index.points[at];
  const after = fn(before);
  const points = index.points.slice();
  points[at] = after;
  const counts = { ...index.counts };
  if (after.status !== before.status) {
    counts[before.status]--;
    counts[after.status]++;
  }
  return { ...index, points, counts, updatedAt: now };
}

/** The index with every point replaced by `fn(point)`, in one pass (one count). */
export function updatePoints(index: SweepIndex, fn: (p: SweepPointRecord) => SweepPointRecord, now = new Date().toISOString()): SweepIndex {
  const points = index.points.map(fn);
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

/** A point back to `pending` (its earlier outcome is not a result of this sweep); attempts are kept. */
export function resetPoint(rec: SweepPointRecord): SweepPointRecord {
  return { ...without(rec, 'pid', 'summary', 'error', 'finishedAt'), status: 'pending' };
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
  if (!isObject(index) || index.format !== SWEEP_INDEX_FORMAT || !Array.isArray(index.points)) {
    throw new UsageError(`${file}: not a goldstone sweep index (expected format "${SWEEP_INDEX_FORMAT}" and a points list)`, { file });
  }
  // The records are read back into the next index: check their shape, so a damaged file is a clear error.
  for (const [i, p] of (index.points as unknown[]).entries()) {
    const bad = (field: string, expected: string, found: unknown) =>
      new UsageError(`${file}: points[${i}]${field ? `.${field}` : ''}: expected ${expected}, found ${JSON.stringify(found) ?? String(found)}`, { file, field: `points[${i}]${field ? `.${field}` : ''}` });
    if (!isObject(p)) throw bad('', 'a point record', p);
    // An id names a directory inside the sweep directory: never a path elsewhere.
    if (typeof p.id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9.=+_-]*$/.test(p.id)) throw bad('id', 'a point id (letters, digits, ".", "=", "+", "_", "-")', p.id);
    if (!POINT_STATUSES.includes(p.status as PointStatus)) throw bad('status', `one of ${POINT_STATUSES.join(', ')}`, p.status);
    if (!isObject(p.assignments)) throw bad('assignments', 'an object of path → value', p.assignments);
    if (p.attempts !== undefined && !(Number.isInteger(p.attempts) && (p.attempts as number) >= 0)) throw bad('attempts', 'a whole number', p.attempts);
  }
  return index;
}

// ---------------------------------------------------------------------------------------------
// Does an existing sweep directory hold this sweep?

/** Top-level experiment fields that do not change what a point computes (left out of comparisons). */
const NOT_COMPARED = ['name', 'description', 'protocol', 'quick', 'sweep'];

/** An experiment (or a run's recorded config) without the fields that do not change what a point computes. */
export function comparableConfig(config: unknown): Json {
  if (!isObject(config)) return toJson(config);
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(config)) if (!NOT_COMPARED.includes(k)) out[k] = toJson(v);
  return out;
}

export interface JsonDifference {
  /** Where, as `--set` spells it (`train.lr`, `analyses[0].options.k`); '' for the whole value. */
  path: string;
  was: unknown;
  now: unknown;
}

/** The places where two JSON values differ (objects key by key, arrays of equal length item by item). */
export function jsonDifferences(was: unknown, now: unknown, opts: { skip?: (path: string) => boolean } = {}, path = ''): JsonDifference[] {
  if (opts.skip?.(path)) return [];
  if (isObject(was) && isObject(now)) {
    const keys = [...new Set([...Object.keys(was), ...Object.keys(now)])].sort();
    return keys.flatMap((k) => jsonDifferences(Object.hasOwn(was, k) ? was[k] : undefined, Object.hasOwn(now, k) ? now[k] : undefined, opts, path ? `${path}.${k}` : k));
  }
  if (Array.isArray(was) && Array.isArray(now) && was.length === now.length) {
    return was.flatMap((v, i) => jsonDifferences(v, now[i], opts, `${path}[${i}]`));
  }
  return canonicalJson(was ?? null) === canonicalJson(now ?? null) ? [] : [{ path, was, now }];
}

function showValue(v: unknown): string {
  if (v === undefined) return 'unset';
  const text = JSON.stringify(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** `train.epochs is 2 there, 4 here; …` (the first few). */
export function describeDifferences(diffs: readonly JsonDifference[], max = 4): string {
  const shown = diffs.slice(0, max).map((d) => `${d.path || 'the value'} is ${showValue(d.was)} there, ${showValue(d.now)} here`);
  return `${shown.join('; ')}${diffs.length > max ? `; and ${diffs.length - max} more` : ''}`;
}

/** Is `path` one of `swept`, or inside one of them (`model.options.hidden[0]` is inside `model.options.hidden`)? */
function isSwept(path: string, swept: readonly string[]): boolean {
  return swept.some((s) => path === s || path.startsWith(`${s}.`) || path.startsWith(`${s}[`));
}

/**
 * How an existing index differs from the sweep about to run, in words: the base experiment (swept
 * paths aside, whose base values no point uses), and the points of the index that have a run
 * directory (`hasRun`) and are no longer in the sweep. Empty when the sweep may carry on with the
 * index: the same experiment, perhaps with more points, or an index with no run directory at all
 * (nothing can be lost, e.g. after every point failed before it started).
 */
export function indexDifferences(
  previous: SweepIndex,
  current: { base: Json; quick: boolean; set: Record<string, Json>; sweep: ResolvedSweep; points: readonly SweepPoint[] },
  hasRun: (id: string) => boolean = (id) => previous.points.some((p) => p.id === id && p.status !== 'pending'),
): string[] {
  const out: string[] = [];
  const withRuns = previous.points.filter((p) => hasRun(p.id));
  if (withRuns.length === 0) return out;
  if (previous.base !== undefined) {
    const swept = [...current.sweep.paths, ...(Array.isArray(previous.sweep?.paths) ? previous.sweep.paths : [])];
    const diffs = jsonDifferences(previous.base, current.base, { skip: (p) => p !== '' && isSwept(p, swept) });
    if (diffs.length) {
      const hints: string[] = [];
      if (Boolean(previous.quick) !== current.quick) hints.push(previous.quick ? 'the index was written with --quick' : 'this run has --quick, the index had not');
      if (canonicalJson(previous.set ?? {}) !== canonicalJson(current.set)) hints.push(`--set was ${showValue(previous.set ?? {})} there, ${showValue(current.set)} here`);
      out.push(`the experiment differs: ${describeDifferences(diffs)}${hints.length ? ` (${hints.join('; ')})` : ''}`);
    }
  }
  const ids = new Set(current.points.map((p) => p.id));
  const dropped = withRuns.filter((p) => !ids.has(p.id));
  if (dropped.length) {
    const finished = dropped.filter((p) => p.status === 'completed' || p.status === 'diverged').length;
    out.push(
      `${dropped.length} point${dropped.length === 1 ? '' : 's'} of the index with a run directory (${finished} finished) ${dropped.length === 1 ? 'is' : 'are'} not in this sweep (${dropped
        .slice(0, 3)
        .map((p) => p.id)
        .join(', ')}${dropped.length > 3 ? ', …' : ''})`,
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Grouping and summaries of final metrics

/** Settings of a point restricted to `by` (the group it belongs to for summaries). */
export function groupSettings(assignments: Record<string, Json>, by: readonly string[]): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const p of by) if (Object.hasOwn(assignments, p) && forbiddenSegment(p) === undefined) out[p] = assignments[p];
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
