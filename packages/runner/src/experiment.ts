import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { didYouMean, isObject, UsageError, type Json } from '@goldstone/plugin-api';

const pluginRef = z.strictObject({
  name: z.string().min(1),
  options: z.record(z.string(), z.unknown()).default({}),
});

const scheduleSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('constant') }),
  z.strictObject({ kind: z.literal('step'), every: z.number().int().positive(), gamma: z.number().positive() }),
  z.strictObject({
    kind: z.literal('cosine'),
    minFactor: z.number().min(0).max(1).optional(),
    warmupEpochs: z.number().min(0).optional(),
  }),
]);

const groupSettings = z.strictObject({
  lr: z.number().positive().optional(),
  weightDecay: z.number().min(0).optional(),
});

/** The `train:` section of an experiment. */
export const TrainSchema = z.strictObject({
  optimizer: z.enum(['sgd', 'adam', 'adamw']).default('adam'),
  lr: z.number().positive().default(1e-3),
  momentum: z.number().min(0).lt(1).optional(),
  nesterov: z.boolean().optional(),
  beta1: z.number().min(0).lt(1).optional(),
  beta2: z.number().min(0).lt(1).optional(),
  eps: z.number().positive().optional(),
  weightDecay: z.number().min(0).default(0),
  schedule: scheduleSchema.default({ kind: 'constant' }),
  epochs: z.number().int().positive().default(10),
  batchSize: z.number().int().positive().default(64),
  /** Per parameter group (by the model's group names) learning rate and weight decay. */
  groups: z.record(z.string(), groupSettings).optional(),
  evalEvery: z.number().int().positive().default(1),
  /** Soft symmetry penalty from the task's declared input symmetries (see symmetry-penalty.ts). */
  symmetryPenalty: z
    .strictObject({
      form: z.enum(['sampled', 'generator']),
      lambda: z.number().min(0),
      schedule: scheduleSchema.optional(),
      symmetry: z.string().min(1).optional(),
    })
    .optional(),
  logEvery: z.number().int().positive().default(10),
  checkpointEvery: z.number().int().positive().default(1),
});

const analysisRef = pluginRef.extend({
  /** The result id (`analyses/<id>.json`); default the name, `name-2`, … for a name listed again. */
  id: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only')
    .optional(),
});

/** An experiment file: what to train, on what, and which analyses to run. */
export const ExperimentSchema = z.strictObject({
  /** Names the default run directory (`runs/<name>`), so it is a short file name. */
  name: z
    .string()
    .max(120, 'at most 120 characters (it names the run directory)')
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only')
    .optional(),
  description: z.string().optional(),
  /** Where the protocol departs from, or fills in, a published one. */
  protocol: z.string().optional(),
  seed: z.number().int().min(0).default(0),
  backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  /** Third-party plugin modules: package names or paths relative to the experiment file. */
  plugins: z.array(z.string().min(1)).default([]),
  task: pluginRef,
  model: pluginRef,
  train: TrainSchema.prefault({}),
  analyses: z.array(analysisRef).default([]),
  /** Overrides deep-merged into the experiment when run with `--quick` (a CI-sized run). */
  quick: z.record(z.string(), z.unknown()).optional(),
  /** Sweep declaration (read by `goldstone sweep`). */
  sweep: z.unknown().optional(),
});

export type Experiment = z.output<typeof ExperimentSchema>;
export type TrainSettings = z.output<typeof TrainSchema>;

/** A key in a path through a parsed file: an object field or a list index. */
export type PathKey = string | number;

/**
 * Field names that are never valid in an experiment: parsers and clones drop them or, assigned, they
 * reach `Object.prototype`. They are rejected wherever they appear (files, `quick:`, `--set` paths).
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** How deeply lists and objects may nest in an experiment (files, `--set` values). */
export const MAX_DEPTH = 64;

/** How many lists and objects an experiment may hold in all. */
const MAX_NODES = 1_000_000;

/** `where: ` as a message prefix, or nothing. */
function at(where: string | undefined): string {
  return where ? `${where}: ` : '';
}

function describeReceived(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 40 ? value.slice(0, 40) + '…' : value}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object' || typeof k === 'symbol' || !Object.hasOwn(v, k)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/**
 * Dotted path as a user writes it: `train.lr`, `analyses[0].options.k`, `sweep.grid.train.lr`; a key
 * that would vanish or blur in it (empty, with spaces or quotes) as `train[""]`, `options["a b"]`.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else if (typeof k === 'symbol' || k === '' || /["\s]/.test(k)) out += `[${JSON.stringify(String(k))}]`;
    else out += out ? `.${k}` : k;
  }
  return out;
}

/**
 * Check a parsed value before it is cloned, merged or validated: no reserved field names
 * (`__proto__`, `constructor`, `prototype`), at most `MAX_DEPTH` levels of nesting, at most a million
 * lists and objects. Iterative, so a hostile file cannot overflow the stack. Errors name `where` (the
 * file or flag) and the field.
 */
export function checkTree(value: unknown, where: { file?: string; prefix?: readonly PathKey[] } = {}): void {
  const base = where.prefix ?? [];
  const stack: [unknown, PathKey[]][] = [[value, [...base]]];
  let nodes = 0;
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (path.length - base.length >= MAX_DEPTH) {
      const shown = formatPath(path.slice(0, base.length + 6));
      throw new UsageError(`${at(where.file)}${shown}…: nested deeper than ${MAX_DEPTH} levels`, { file: where.file, field: shown });
    }
    if (++nodes > MAX_NODES) throw new UsageError(`${at(where.file)}more than ${MAX_NODES} lists and objects; an experiment is far smaller`, { file: where.file });
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], [...path, i]]);
      continue;
    }
    for (const k of Object.keys(v)) {
      const field = formatPath([...path, k]);
      if (RESERVED_KEYS.has(k)) throw new UsageError(`${at(where.file)}${field}: "${k}" is not allowed as a field name`, { file: where.file, field });
      stack.push([(v as Record<string, unknown>)[k], [...path, k]]);
    }
  }
}

/** Where one part of the experiment came from: the file (default), `quick:` or a command-line flag. */
interface Origin {
  /** The path in the merged experiment that this source wrote (everything below it is from there too). */
  path: PathKey[];
  /** The file or the flag (`--set train.lr=abc`) to name. */
  where?: string;
  /** The path to name for `path` (`quick.train.lr` for `train.lr` from `quick:`). */
  shown: PathKey[];
}

/** The sources of an experiment's fields, for error messages about them. */
interface Blame {
  file?: string;
  origins: Origin[];
}

function isPrefix(prefix: readonly PathKey[], path: readonly PathKey[]): boolean {
  return prefix.length <= path.length && prefix.every((k, i) => k === path[i]);
}

/** Record that `origin.path` was written; whatever earlier sources wrote below it is gone. */
function record(blame: Blame, origin: Origin): void {
  blame.origins = blame.origins.filter((o) => !isPrefix(origin.path, o.path));
  blame.origins.push(origin);
}

/** The source and the path to name for a field of the merged experiment. */
function locate(blame: Blame | undefined, file: string | undefined, path: readonly PathKey[]): { where?: string; field: string } {
  let best: Origin | undefined;
  for (const o of blame?.origins ?? []) if (isPrefix(o.path, path) && (!best || o.path.length >= best.path.length)) best = o;
  if (!best) return { where: file, field: formatPath(path) };
  return { where: best.where, field: formatPath([...best.shown, ...path.slice(best.path.length)]) };
}

/**
 * The experiments (and their plugin option objects) that `parseExperiment` produced, with the
 * sources of their fields, so that later validation (`resolveExperiment`) names `--set` or `quick:`
 * too.
 */
const blames = new WeakMap<object, { blame: Blame; base: PathKey[] }>();

/**
 * The source (file or flag) and the path to name for a field of a parsed experiment: `train.lr` set by
 * `--set` is `{ where: '--set train.lr=abc', field: 'train.lr' }`, one from `quick:` is
 * `{ where: file, field: 'quick.train.lr' }`.
 */
export function locateField(experiment: object, path: readonly PathKey[], file?: string): { where?: string; field: string } {
  const entry = blames.get(experiment);
  return locate(entry?.blame, entry?.blame.file ?? file, [...(entry?.base ?? []), ...path]);
}

type AnyDef = { type: string; [k: string]: any };
const defOf = (s: unknown): AnyDef | undefined => (s as { _zod?: { def?: AnyDef } } | undefined)?._zod?.def;

/** The schemas a value is checked against, through optional, default, union and pipe wrappers. */
function unwrap(schema: unknown, depth = 0): unknown[] {
  const def = defOf(schema);
  if (!def || depth > 32) return [];
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
      return unwrap(def.innerType, depth + 1);
    case 'pipe':
      return unwrap(def.in, depth + 1);
    case 'lazy':
      return unwrap(def.getter(), depth + 1);
    case 'union':
      return (def.options as unknown[]).flatMap((o) => unwrap(o, depth + 1));
    case 'intersection':
      return [...unwrap(def.left, depth + 1), ...unwrap(def.right, depth + 1)];
    default:
      return [schema];
  }
}

/** Whether an object value fits an object schema's literal fields (the option of a discriminated union it means). */
function literalsMatch(def: AnyDef, value: unknown): boolean {
  if (!isObject(value)) return true;
  for (const [key, field] of Object.entries(def.shape as Record<string, unknown>)) {
    const d = defOf(field);
    if (d?.type === 'literal' && Object.hasOwn(value, key) && !(d.values as unknown[]).includes(value[key])) return false;
  }
  return true;
}

/** The field names an object schema at `path` knows (for "did you mean"), given the value checked. */
function knownKeysAt(schema: unknown, path: readonly PropertyKey[], input: unknown): string[] {
  let nodes = unwrap(schema);
  let value = input;
  for (const key of path) {
    nodes = nodes.flatMap((n) => {
      const d = defOf(n)!;
      if (d.type === 'object') return typeof key === 'string' && Object.hasOwn(d.shape, key) ? unwrap(d.shape[key]) : [];
      if (d.type === 'array' && typeof key === 'number') return unwrap(d.element);
      if (d.type === 'record') return unwrap(d.valueType);
      return [];
    });
    value = valueAt(value, [key]);
  }
  const objects = nodes.map((n) => defOf(n)!).filter((d) => d.type === 'object');
  const matching = objects.filter((d) => literalsMatch(d, value));
  return [...new Set((matching.length > 0 ? matching : objects).flatMap((d) => Object.keys(d.shape as object)))];
}

/** Where a zod failure is reported: the file, a prefix for the paths, the schema (for suggestions). */
export interface IssueWhere {
  file?: string;
  prefix?: (string | number)[];
  schema?: z.ZodType;
}

/**
 * Turn a zod failure into a UsageError that names the file (or the flag a value came from), the
 * field, what was expected and what was found, one line per problem, with the nearest known name
 * for a misspelt field or value.
 */
export function zodToUsageError(error: z.ZodError, input: unknown, where: IssueWhere & { blame?: Blame } = {}): UsageError {
  const prefix = where.prefix ?? [];
  const lines: string[] = [];
  let first: { where?: string; field: string } | undefined;
  const say = (path: PathKey[], text: string) => {
    const loc = locate(where.blame, where.file, path);
    first ??= loc;
    lines.push(`${at(loc.where)}${loc.field || '(top level)'}: ${text}`);
  };
  for (const issue of error.issues) {
    const issuePath = issue.path.filter((k): k is PathKey => typeof k !== 'symbol');
    const path = [...prefix, ...issuePath];
    const received = valueAt(input, issuePath);
    if (issue.code === 'unrecognized_keys') {
      const known = where.schema ? knownKeysAt(where.schema, issuePath, input) : [];
      for (const key of issue.keys) say([...path, key], `unknown field "${key}"${didYouMean(key, known)}`);
      continue;
    }
    const values = issue.code === 'invalid_value' ? issue.values : issue.code === 'invalid_union' ? (issue as { options?: unknown[] }).options : undefined;
    let text: string;
    if (issue.code === 'invalid_type') {
      text = `expected ${issue.expected}, got ${describeReceived(received)}`;
    } else if (values && values.length > 0) {
      const near = typeof received === 'string' ? didYouMean(received, values.filter((v): v is string => typeof v === 'string')) : '';
      text = `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeReceived(received)}${near}`;
    } else {
      text = `${issue.message}${received !== undefined ? ` (got ${describeReceived(received)})` : ''}`;
    }
    say(path, text);
  }
  const fromFile = first && first.where === where.file;
  return new UsageError(lines.join('\n'), { file: fromFile ? where.file : undefined, field: first?.field });
}

/**
 * Parse a value with a schema or throw a UsageError naming file and field. For the plugin options of
 * an experiment from `parseExperiment`, a value that came from `--set` or `quick:` is named as such.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, where: { file?: string; prefix?: (string | number)[] } = {}): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const entry = input !== null && typeof input === 'object' ? blames.get(input) : undefined;
  const blame = entry && isPrefix(entry.base, where.prefix ?? []) && isPrefix(where.prefix ?? [], entry.base) ? entry.blame : undefined;
  throw zodToUsageError(parsed.error, input, { ...where, file: where.file ?? blame?.file, schema, blame });
}

/**
 * Merge `over` into `base`: objects merge key by key, everything else (arrays included) is replaced.
 * `onReplace` hears the path of each value `over` replaced or added.
 */
function mergeAt(base: unknown, over: unknown, path: PathKey[], onReplace: (path: PathKey[]) => void): unknown {
  if (!isObject(base) || !isObject(over)) {
    if (over === undefined) return base;
    onReplace(path);
    return over;
  }
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (RESERVED_KEYS.has(k)) throw new UsageError(`${formatPath([...path, k])}: "${k}" is not allowed as a field name`, { field: formatPath([...path, k]) });
    if (Object.hasOwn(out, k)) out[k] = mergeAt(out[k], v, [...path, k], onReplace);
    else {
      onReplace([...path, k]);
      out[k] = v;
    }
  }
  return out;
}

/** Deep merge: objects merge key by key, everything else (arrays included) is replaced. Own fields only. */
export function deepMerge<T>(base: T, over: unknown): T {
  return mergeAt(base, over, [], () => {}) as T;
}

/** Split a dotted path (`train.lr`, `analyses[0].options.k`) into keys, refusing reserved names. */
export function parsePath(path: string, where = `--set ${path}`): PathKey[] {
  const keys: PathKey[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!m) throw new UsageError(`${where}: ${path}: cannot read this path (expected e.g. train.lr or analyses[0].options.k)`, { field: path });
    if (RESERVED_KEYS.has(m[1])) {
      throw new UsageError(`${where}: ${formatPath([...keys, m[1]])}: "${m[1]}" is not allowed in a path`, { field: formatPath([...keys, m[1]]) });
    }
    keys.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) keys.push(Number(idx[1]));
  }
  return keys;
}

/** Write `value` at `keys`, creating objects and lists on the way; returns the path from which on everything is new. */
function assignPath(target: Record<string, unknown>, keys: PathKey[], value: unknown, where: string): PathKey[] {
  let obj: unknown = target;
  let created: PathKey[] | undefined;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const container = obj as Record<PathKey, unknown>;
    const here = formatPath(keys.slice(0, i));
    if (Array.isArray(obj)) {
      if (typeof k !== 'number') throw new UsageError(`${where}: ${here}: is a list; address an entry by its index, e.g. ${here}[0]`, { field: here });
      if (k > obj.length) throw new UsageError(`${where}: ${formatPath(keys.slice(0, i + 1))}: index ${k} is past the end of the list (${obj.length} entries)`, { field: here });
    } else if (typeof k === 'number') {
      throw new UsageError(`${where}: ${here}: is not a list (got ${describeReceived(obj)})`, { field: here });
    }
    if (i === keys.length - 1) {
      container[k] = value;
      break;
    }
    const next = Object.hasOwn(container, k) ? container[k] : undefined;
    if (next === null || typeof next !== 'object') {
      container[k] = typeof keys[i + 1] === 'number' ? [] : {};
      created ??= keys.slice(0, i + 1);
    }
    obj = container[k];
  }
  return created ?? keys;
}

/**
 * Set a dotted path (`train.lr`, `model.options.hidden`, `analyses[0].options.k`) in a plain object,
 * creating objects on the way. Reserved names (`__proto__`, `constructor`, `prototype`), a field of a
 * list, an index past a list's end are UsageErrors naming `where` (default `--set PATH`).
 */
export function setPath(target: Record<string, unknown>, path: string, value: unknown, where = `--set ${path}`): void {
  const keys = parsePath(path, where);
  checkTree(value, { file: where, prefix: keys });
  assignPath(target, keys, value, where);
}

/** Where each `--set` key came from, for the records `parseAssignments` returns. */
const assignmentLabels = new WeakMap<object, Map<string, string>>();

function labelAssignment(set: Record<string, unknown>, key: string, label: string): void {
  let labels = assignmentLabels.get(set);
  if (!labels) assignmentLabels.set(set, (labels = new Map()));
  labels.set(key, label);
}

/** A flag's value as errors show it (`--set train.lr=abc`): past 40 characters, cut short. */
function shortValue(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function readValue(text: string): unknown {
  try {
    return text === '' ? '' : parseYaml(text);
  } catch {
    return text;
  }
}

/** Parse a `--set key=value` list: values are read as YAML (numbers, booleans, lists), else strings. */
export function parseAssignments(list: readonly string[] | undefined, flag = '--set'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} ${item}: expected key=value (e.g. train.lr=0.01)`);
    const key = item.slice(0, eq).trim();
    const label = `${flag} ${key}=${shortValue(item.slice(eq + 1))}`;
    const keys = parsePath(key, label);
    const value = readValue(item.slice(eq + 1));
    checkTree(value, { file: label, prefix: keys });
    out[key] = value;
    labelAssignment(out, key, label);
  }
  return out;
}

function renderValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || value === undefined) return String(value);
  return JSON.stringify(value) ?? String(value);
}

export interface ParseExperimentOptions {
  /** The experiment file, named in errors. */
  file?: string;
  /** Deep-merge the `quick:` overrides. */
  quick?: boolean;
  /** `--set` assignments (path → value), applied last, in order. */
  set?: Record<string, unknown>;
  /**
   * Where each `set` key came from, named in its errors (`{ seed: '--seed abc' }`). Default: what
   * `parseAssignments` recorded, else `--set path=value`.
   */
  sources?: Record<string, string>;
  /** Check the `quick:` overrides also when not applying them (default true; a reader parsing one file many times checks them once). */
  checkQuick?: boolean;
}

/**
 * Validate a raw experiment object (already read from YAML or JSON), applying `quick:` overrides
 * when asked and `--set` assignments last. An invalid value is reported where it came from: the file,
 * `quick.…` in the file, or the flag. Plugin options are validated separately, by each plugin's own
 * schema, once the registry is built (see `resolveExperiment` in the runner).
 */
export function parseExperiment(raw: unknown, opts: ParseExperimentOptions = {}): Experiment {
  const file = opts.file;
  if (!isObject(raw)) {
    throw new UsageError(`${at(file)}expected an experiment object (task, model, train, analyses), got ${describeReceived(raw)}`, { file });
  }
  checkTree(raw, { file });
  const blame: Blame = { file, origins: [] };
  let obj = structuredClone(raw);
  if (opts.quick && obj.quick !== undefined) {
    if (!isObject(obj.quick)) {
      throw new UsageError(`${at(file)}quick: expected an object of overrides, got ${describeReceived(obj.quick)}`, { file, field: 'quick' });
    }
    obj = mergeAt(obj, obj.quick, [], (path) => record(blame, { path, where: file, shown: ['quick', ...path] })) as Record<string, unknown>;
  }
  const set = opts.set ?? {};
  const labels = assignmentLabels.get(set);
  for (const [key, value] of Object.entries(set)) {
    const label = (opts.sources && Object.hasOwn(opts.sources, key) ? opts.sources[key] : undefined) ?? labels?.get(key) ?? `--set ${key}=${shortValue(renderValue(value))}`;
    const keys = parsePath(key, label);
    checkTree(value, { file: label, prefix: keys });
    const path = assignPath(obj, keys, structuredClone(value), label);
    record(blame, { path, where: label, shown: path });
  }
  const parsed = ExperimentSchema.safeParse(obj);
  if (!parsed.success) throw zodToUsageError(parsed.error, obj, { file, schema: ExperimentSchema, blame });
  // `quick:` is checked on every parse, so a typo in it is found before a CI-sized run needs it.
  if (!opts.quick && opts.checkQuick !== false && raw.quick !== undefined) parseExperiment(raw, { ...opts, quick: true });
  const exp = parsed.data;
  blames.set(exp, { blame, base: [] });
  blames.set(exp.task.options, { blame, base: ['task', 'options'] });
  blames.set(exp.model.options, { blame, base: ['model', 'options'] });
  exp.analyses.forEach((a, i) => blames.set(a.options, { blame, base: ['analyses', i, 'options'] }));
  return exp;
}

/** The resolved experiment as stored in run.json. */
export function experimentToJson(exp: Experiment): Json {
  return JSON.parse(JSON.stringify(exp)) as Json;
}
