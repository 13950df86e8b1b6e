import { z } from 'zod';
import { isObject, UsageError, type Json } from '@goldstone/plugin-api';

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
  name: z
    .string()
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

function describeReceived(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 40 ? value.slice(0, 40) + '…' : value}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: any = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[k as any];
  }
  return v;
}

/** Dotted path as a user writes it: `train.lr`, `analyses[0].options.k`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out ? `.${String(k)}` : String(k);
  }
  return out;
}

/**
 * Turn a zod failure into a UsageError that names the file, the field, what was expected and what
 * was found, one line per problem.
 */
export function zodToUsageError(error: z.ZodError, input: unknown, where: { file?: string; prefix?: (string | number)[] } = {}): UsageError {
  const prefix = where.prefix ?? [];
  const lines = error.issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    const field = formatPath(path) || '(top level)';
    const received = valueAt(input, issue.path);
    let text: string;
    if (issue.code === 'unrecognized_keys') {
      text = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    } else if (issue.code === 'invalid_type') {
      text = `expected ${issue.expected}, got ${describeReceived(received)}`;
    } else if (issue.code === 'invalid_value') {
      text = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeReceived(received)}`;
    } else {
      text = `${issue.message}${received !== undefined ? ` (got ${describeReceived(received)})` : ''}`;
    }
    return `${where.file ? `${where.file}: ` : ''}${field}: ${text}`;
  });
  const first = error.issues[0];
  return new UsageError(lines.join('\n'), {
    file: where.file,
    field: first ? formatPath([...prefix, ...first.path]) : undefined,
  });
}

/** Parse a value with a schema or throw a UsageError naming file and field. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: { file?: string; prefix?: (string | number)[] } = {},
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw zodToUsageError(parsed.error, input, where);
  return parsed.data;
}

/** Deep merge: objects merge key by key, everything else (arrays included) is replaced. */
export function deepMerge<T>(base: T, over: unknown): T {
  if (!isObject(base) || !isObject(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? deepMerge(out[k], v) : v;
  return out as T;
}

/** Set a dotted path (`train.lr`, `model.options.hidden`, `analyses[0].options.k`) in a plain object, creating objects on the way. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!m) throw new UsageError(`--set: cannot read the path "${path}" (expected e.g. train.lr or analyses[0].options.k)`);
    keys.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) keys.push(Number(idx[1]));
  }
  let obj: any = target;
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i];
    if (obj[k] === undefined || obj[k] === null || typeof obj[k] !== 'object') obj[k] = typeof keys[i + 1] === 'number' ? [] : {};
    obj = obj[k];
  }
  obj[keys[keys.length - 1]] = value;
}

/**
 * Validate a raw experiment object (already read from YAML or JSON), applying `quick:` overrides
 * when asked and `--set` assignments last. Plugin options are validated separately, by each plugin's
 * own schema, once the registry is built (see `resolveExperiment` in the runner).
 */
export function parseExperiment(
  raw: unknown,
  opts: { file?: string; quick?: boolean; set?: Record<string, unknown> } = {},
): Experiment {
  if (!isObject(raw)) {
    throw new UsageError(`${opts.file ? `${opts.file}: ` : ''}expected an experiment object (task, model, train, analyses), got ${describeReceived(raw)}`, {
      file: opts.file,
    });
  }
  let obj: Record<string, unknown> = structuredClone(raw);
  if (opts.quick && obj.quick !== undefined) {
    if (!isObject(obj.quick)) throw new UsageError(`${opts.file ? `${opts.file}: ` : ''}quick: expected an object of overrides`, { file: opts.file, field: 'quick' });
    obj = deepMerge(obj, obj.quick);
  }
  for (const [path, value] of Object.entries(opts.set ?? {})) setPath(obj, path, value);
  return parseOrThrow(ExperimentSchema, obj, { file: opts.file });
}

/** The resolved experiment as stored in run.json. */
export function experimentToJson(exp: Experiment): Json {
  return JSON.parse(JSON.stringify(exp)) as Json;
}
