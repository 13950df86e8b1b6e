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

const seedsSchema = z.array(z.number().int().min(0)).min(1, 'expected at least one seed');

/** A part's name: kebab-case, as in `phase-map`. */
const PART_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** One sub-sweep of `parts`: a grid, zipped lists and seeds of its own. */
const partSchema = z.strictObject({
  name: z.string().regex(PART_NAME, 'expected a kebab-case name such as phase-map'),
  grid: z.record(z.string(), axisSchema).optional(),
  zip: z.record(z.string(), axisSchema).optional(),
  seeds: seedsSchema.optional(),
});

export const SweepSchema = z.strictObject({
  /** Product over paths (first path outermost). */
  grid: z.record(z.string(), axisSchema).optional(),
  /** Paths whose lists advance together (equal lengths), combined with the grid as a product. */
  zip: z.record(z.string(), axisSchema).optional(),
  /** Shorthand for a `seed` axis, innermost (with `parts`: the seeds of every part that gives none). */
  seeds: seedsSchema.optional(),
  /**
   * A union of sub-sweeps, each with its own grid, zip and seeds (instead of a top-level grid and
   * zip): a scan of one setting and a phase map of two others in one experiment file.
   */
  parts: z.array(partSchema).min(1, 'expected at least one part').optional(),
  /** Settings that group runs for summaries and lines (default: every swept path but `seed`). */
  summaryBy: z.array(z.string()).optional(),
  /**
   * Train points that differ only in `seed` and `train.lr` together, as one batched model of stacked
   * replicas (at most `maxReplicas`, default 32, per group): `true`, or `{ maxReplicas: N }`.
   */
  vectorize: z
    .union([z.boolean(), z.strictObject({ maxReplicas: z.number().int().min(1).max(1024).optional() })])
    .optional()
    .describe('Train points that differ only in seed and train.lr as one batched model (true, or { maxReplicas: N }, default 32)'),
});

/** Replicas per vectorised group unless `sweep.vectorize.maxReplicas` says otherwise. */
export const DEFAULT_MAX_REPLICAS = 32;

/**
 * The sweep's `vectorize` setting: the largest group, or undefined when points run one by one.
 * (Not part of `ResolvedSweep`: it changes how points run, never what they compute, so a sweep
 * directory may be continued with it turned on or off.)
 */
export function vectorizeSetting(raw: unknown, opts: { file?: string } = {}): { maxReplicas: number } | undefined {
  const v = parseOrThrow(SweepSchema.shape.vectorize, isObject(raw) ? raw.vectorize : undefined, { file: opts.file, prefix: ['sweep', 'vectorize'] });
  if (v === undefined || v === false) return undefined;
  return { maxReplicas: v === true ? DEFAULT_MAX_REPLICAS : (v.maxReplicas ?? DEFAULT_MAX_REPLICAS) };
}

export type SweepSpec = z.output<typeof SweepSchema>;
export type SweepRange = z.output<typeof rangeSchema>;

/** The axes of a grid × zip × seeds product, ranges expanded. */
export interface ResolvedAxes {
  /** Grid axes, outermost first: path → values. */
  grid: Record<string, Json[]>;
  /** Zipped axes (equal lengths): path → values. */
  zip: Record<string, Json[]>;
  seeds: number[];
  /** Every swept path, in the order points are enumerated (`seed` last if swept). */
  paths: string[];
}

/** One part of a sweep with `parts`. */
export interface ResolvedPart extends ResolvedAxes {
  name: string;
}

/**
 * A sweep with every range expanded: the axes in order (grid paths, then zip paths, then seed).
 * With `parts`, `grid` and `zip` are empty, `seeds` is the default for parts, and `paths` is every
 * path swept in some part (first appearance order, `seed` last).
 */
export interface ResolvedSweep extends ResolvedAxes {
  summaryBy: string[];
  parts?: ResolvedPart[];
}

/** One point of a sweep: its stable id (the run directory's name) and its assignments. */
export interface SweepPoint {
  id: string;
  /** Position in the enumeration (0-based). */
  index: number;
  /** Path → value, applied like `--set path=value`. */
  assignments: Record<string, Json>;
  /** The part of a sweep with `parts` the point belongs to (the first one, when parts share it). */
  part?: string;
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
  const fail = (field: string, message: string) => new UsageError(`${where}${field}: ${message}`, { file: opts.file, field });
  if (raw === undefined || raw === null) {
    throw fail('sweep', 'the experiment has no sweep: block (declare grid, zip, seeds or parts; use goldstone run for a single run)');
  }
  if (isObject(raw)) {
    checkAxisPaths(raw, 'sweep', fail);
    if (Array.isArray(raw.parts)) raw.parts.forEach((part, i) => isObject(part) && checkAxisPaths(part, `sweep.parts[${i}]`, fail));
  }
  const spec = parseOrThrow(SweepSchema, raw, { file: opts.file, prefix: ['sweep'] });
  const maxPoints = opts.maxPoints ?? DEFAULT_MAX_POINTS;
  let resolved: ResolvedSweep;
  if (spec.parts) {
    for (const section of ['grid', 'zip'] as const) {
      if (spec[section] !== undefined) throw fail(`sweep.${section}`, `a sweep with parts declares its ${section} inside each part (sweep.parts[i].${section}), not beside them`);
    }
    const names = new Map<string, number>();
    const parts = spec.parts.map((part, i) => {
      const first = names.get(part.name);
      if (first !== undefined) throw fail(`sweep.parts[${i}].name`, `"${part.name}" is also the name of sweep.parts[${first}]; give each part its own name`);
      names.set(part.name, i);
      const axes = resolveAxes({ grid: part.grid, zip: part.zip, seeds: part.seeds ?? spec.seeds }, `sweep.parts[${i}]`, fail, maxPoints, opts.file);
      return { name: part.name, ...axes };
    });
    const swept = [...new Set(parts.flatMap((p) => p.paths.filter((path) => path !== 'seed')))];
    const paths = parts.some((p) => p.paths.includes('seed')) ? [...swept, 'seed'] : swept;
    resolved = { grid: {}, zip: {}, seeds: spec.seeds ?? [], paths, summaryBy: [], parts };
  } else {
    resolved = { ...resolveAxes(spec, 'sweep', fail, maxPoints, opts.file), summaryBy: [] };
  }
  for (const [i, p] of (spec.summaryBy ?? []).entries()) {
    if (!resolved.paths.includes(p)) throw fail(`sweep.summaryBy[${i}]`, `"${p}" is not swept (swept: ${resolved.paths.join(', ')})`);
  }
  resolved.summaryBy = spec.summaryBy ?? resolved.paths.filter((p) => p !== 'seed');
  const total = countPoints(resolved);
  if (total > maxPoints) throw tooManyPoints(opts.file, `${total} points (${describeAxes(resolved)})`, maxPoints, total);
  return resolved;
}

/** Refuse axis keys of `block.grid` and `block.zip` that are not paths, before the schema reads them. */
function checkAxisPaths(block: Record<string, unknown>, at: string, fail: (field: string, message: string) => UsageError): void {
  for (const section of ['grid', 'zip'] as const) {
    const axes = Object.hasOwn(block, section) ? block[section] : undefined;
    if (!isObject(axes)) continue;
    for (const key of Object.keys(axes)) {
      if (!PATH.test(key)) throw fail(`${at}.${section}.${key}`, 'expected a dotted path such as train.lr or model.options.hidden');
      const segment = forbiddenSegment(key);
      if (segment !== undefined) throw fail(`${at}.${section}.${key}`, `"${segment}" may not be a path segment (it names no experiment field); expected a path such as train.lr`);
    }
  }
}

/** Expand one grid × zip × seeds block (`at` is where it sits: `sweep`, `sweep.parts[1]`). */
function resolveAxes(
  spec: { grid?: Record<string, unknown[] | SweepRange>; zip?: Record<string, unknown[] | SweepRange>; seeds?: number[] },
  at: string,
  fail: (field: string, message: string) => UsageError,
  maxPoints: number,
  file: string | undefined,
): ResolvedAxes {
  // A range's num bounds the sweep from below: refuse before expanding it (a num of 1e9 would not fit in memory).
  for (const section of ['grid', 'zip'] as const) {
    for (const [path, axis] of Object.entries(spec[section] ?? {})) {
      if (Array.isArray(axis)) continue;
      const { num } = 'logspace' in axis ? axis.logspace : axis.linspace;
      if (num > maxPoints) throw tooManyPoints(file, `at least ${num} points (${at}.${section}.${path} has num ${num})`, maxPoints, num);
    }
  }
  const expand = (section: 'grid' | 'zip', path: string, axis: unknown[] | SweepRange): Json[] => {
    if (Array.isArray(axis)) return axis.map(toJson);
    try {
      return expandRange(axis);
    } catch (err) {
      throw fail(`${at}.${section}.${path}`, (err as Error).message);
    }
  };
  const grid: Record<string, Json[]> = {};
  for (const [path, axis] of Object.entries(spec.grid ?? {})) grid[path] = expand('grid', path, axis);
  const zip: Record<string, Json[]> = {};
  for (const [path, axis] of Object.entries(spec.zip ?? {})) {
    if (path in grid) throw fail(`${at}.zip.${path}`, `also swept in ${at}.grid; sweep a path once`);
    zip[path] = expand('zip', path, axis);
  }
  const zipPaths = Object.keys(zip);
  if (zipPaths.length > 1) {
    const n = zip[zipPaths[0]].length;
    const bad = zipPaths.find((p) => zip[p].length !== n);
    if (bad !== undefined) {
      const lengths = zipPaths.map((p) => `${p} has ${zip[p].length}`).join(', ');
      throw fail(`${at}.zip.${bad}`, `zipped lists must have equal lengths (${lengths})`);
    }
  }
  const seeds = spec.seeds ?? [];
  if (seeds.length > 0 && ('seed' in grid || 'seed' in zip)) {
    throw fail(`${at === 'sweep' ? 'sweep' : at}.seeds`, `seed is also swept in ${'seed' in grid ? `${at}.grid` : `${at}.zip`}; sweep it once`);
  }
  if (new Set(seeds).size !== seeds.length) throw fail(`${at}.seeds`, 'seeds repeat');
  const paths = [...Object.keys(grid), ...zipPaths, ...(seeds.length ? ['seed'] : [])];
  if (paths.length === 0) throw fail(at, 'declare at least one of grid, zip or seeds');
  return { grid, zip, seeds, paths };
}

/** The number of points a resolved sweep expands to (the product of its axis lengths; with parts, their sum), without expanding it. */
export function countPoints(sweep: ResolvedSweep | ResolvedAxes): number {
  if ('parts' in sweep && sweep.parts) return sweep.parts.reduce((n, part) => n + countPoints(part), 0);
  const zipPaths = Object.keys(sweep.zip);
  let n = zipPaths.length ? sweep.zip[zipPaths[0]].length : 1;
  for (const values of Object.values(sweep.grid)) n *= values.length;
  return n * (sweep.seeds.length || 1);
}

function describeAxes(sweep: ResolvedSweep | ResolvedAxes): string {
  if ('parts' in sweep && sweep.parts) return sweep.parts.map((part) => `${part.name}: ${describeAxes(part)}`).join('; ');
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

/**
 * Short names of several paths that tell them apart: each path's `shortName`, and where two paths
 * share one, their last segments until they differ (`train.groups.encoder.lr` and
 * `train.groups.decoder.lr` → `encoder.lr`, `decoder.lr`).
 */
export function shortNames(paths: readonly string[]): Map<string, string> {
  const out = new Map(paths.map((p) => [p, shortName(p)]));
  const segments = new Map(paths.map((p) => [p, p.split('.')]));
  const clashes = () => {
    const byName = new Map<string, string[]>();
    for (const [p, n] of out) byName.set(n, [...(byName.get(n) ?? []), p]);
    return [...byName.values()].filter((ps) => ps.length > 1);
  };
  for (let depth = 2; ; depth++) {
    const groups = clashes();
    if (groups.length === 0) break;
    let grew = false;
    for (const group of groups) {
      for (const p of group) {
        const segs = segments.get(p)!;
        if (depth > segs.length) continue;
        out.set(p, [...segs.slice(segs.length - depth, -1), shortName(p)].join('.'));
        grew = true;
      }
    }
    if (!grew) break;
  }
  return out;
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
  const names = shortNames(paths);
  let readable = paths
    .map((p) => `${names.get(p)}=${formatValue(assignments[p])}`.replace(/[^A-Za-z0-9.=+-]+/g, '-'))
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
  if (!sweep.parts) return numbered(axisCombinations(sweep).map((assignments) => ({ assignments })), 'sweep');
  // the union over parts: a point with the same assignments in two parts runs once (in the first)
  const seen = new Set<string>();
  const all: { assignments: Record<string, Json>; part: string }[] = [];
  for (const part of sweep.parts) {
    const own = numbered(axisCombinations(part).map((assignments) => ({ assignments })), `sweep.parts ${part.name}`);
    for (const p of own) {
      if (seen.has(p.id)) continue;
      seen.add(p.id);
      all.push({ assignments: p.assignments, part: part.name });
    }
  }
  return numbered(all, 'sweep');
}

/** Every assignment of an axes block: grid product (first path outermost) × zip rows × seeds (innermost). */
function axisCombinations(sweep: ResolvedAxes): Record<string, Json>[] {
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
  return combos;
}

/** Points with ids and positions; two equal points (a value repeated in an axis) are an error. */
function numbered(rows: { assignments: Record<string, Json>; part?: string }[], where: string): SweepPoint[] {
  const points = rows.map((r, index) => ({ id: pointId(r.assignments), index, assignments: r.assignments, ...(r.part !== undefined ? { part: r.part } : {}) }));
  const seen = new Map<string, number>();
  for (const p of points) {
    const first = seen.get(p.id);
    if (first !== undefined) throw new UsageError(`${where}: points ${first} and ${p.index} are the same (${p.id}); a value repeats in an axis`, { field: 'sweep' });
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
