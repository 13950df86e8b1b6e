import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError, type Registry } from '@goldstone/plugin-api';
import { parseAssignments, parseExperiment } from './experiment';
import { readConfigFile } from './experiment-file';
import { buildRegistry } from './plugin-loader';
import { resolveExperiment } from './resolve';

/**
 * Random mutations of a valid experiment file (wrong types, unknown and prototype keys, huge numbers,
 * NaN strings, deep nesting, duplicate JSON keys, hostile --set paths) through readConfigFile,
 * parseExperiment and resolveExperiment with built-in plugins: each either succeeds or is a
 * UsageError whose every line starts with the file or the flag and names a field, and nothing is ever
 * written into Object.prototype.
 */

const valid = {
  name: 'fuzz',
  seed: 1,
  task: { name: 'clt', options: { sites: 8, block: 2, trainSize: 64, distribution: 'exponential' } },
  model: { name: 'mlp', options: { hidden: [8, 4], activation: 'tanh' } },
  train: { optimizer: 'adam', lr: 0.01, epochs: 2, batchSize: 16, schedule: { kind: 'step', every: 1, gamma: 0.5 }, groups: { all: { lr: 0.1 } } },
  analyses: [{ name: 'hessian', options: { method: 'exact', topK: 3 } }],
  quick: { train: { epochs: 1 }, task: { options: { trainSize: 32 } } },
};

/** Every path to a value in the valid experiment, objects and lists included. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...prefix, i])));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  return out;
}
const PATHS = pathsOf(valid).filter((p) => p.length > 0);

/** Assign as an own data property, whatever the key (`__proto__` included), as JSON.parse would. */
function put(obj: Record<string | number, unknown>, key: string | number, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Deep nesting, built only when the mutation is applied (so that fast-check never prints it). */
class Deep {
  constructor(
    readonly depth: number,
    readonly asObject: boolean,
  ) {}
  build(): unknown {
    let v: unknown = 1;
    for (let i = 0; i < this.depth; i++) v = this.asObject ? { a: v } : [v];
    return v;
  }
  toString(): string {
    return `Deep(${this.depth}, ${this.asObject ? 'objects' : 'lists'})`;
  }
}

const KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'lrr', 'epoch', 'optimiser', 'hiden', 'x', '', ' ', 'a.b', '0'];

/** A value `polluted` would reach Object.prototype with, if anything let it. */
const POLLUTER = { polluted: 1 };

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('NaN', 'Infinity', '-1', '1e999', '', 'true', 'null', '__proto__', 'cltt', 'adma', 'cosin', 'hessain'),
  fc.integer(),
  fc.constantFrom(0, -1, 1e9, 1e308, -1e308, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, 0.5, -0, 1e-320),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.constant(POLLUTER),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 4 })), { maxLength: 4 }),
  fc.tuple(fc.constantFrom(2, 30, 63, 64, 65, 200, 5000), fc.boolean()).map(([d, o]) => new Deep(d, o)),
  fc.constantFrom(...KEYS).map((k) => {
    const o = {};
    put(o, k, POLLUTER);
    return o;
  }),
);

type Mutation =
  | { kind: 'replace'; path: (string | number)[]; value: unknown }
  | { kind: 'addKey'; path: (string | number)[]; key: string; value: unknown }
  | { kind: 'delete'; path: (string | number)[] };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), path: fc.constantFrom(...PATHS), value: hostileValue }),
  fc.record({ kind: fc.constant('addKey' as const), path: fc.constantFrom([], ...PATHS), key: fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 })), value: hostileValue }),
  fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...PATHS) }),
);

/** Apply a mutation in place (a deep value is never cloned: cloning it would overflow the test's own stack). */
function mutate(root: Record<string, unknown>, mut: Mutation): Record<string, unknown> {
  const m = 'value' in mut && mut.value instanceof Deep ? { ...mut, value: mut.value.build() } : mut;
  const path = m.path;
  let parent: any = root;
  const last = m.kind === 'addKey' ? undefined : path[path.length - 1];
  const walk = m.kind === 'addKey' ? path : path.slice(0, -1);
  for (const k of walk) {
    if (parent === null || typeof parent !== 'object') return root;
    parent = parent[k];
  }
  if (parent === null || typeof parent !== 'object') return root;
  if (m.kind === 'addKey') put(parent, m.key, m.value);
  else if (m.kind === 'replace') put(parent, last!, m.value);
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last!];
  return root;
}

/** Give a key of one object twice, as a hand-edited JSON file might. */
function duplicateAKey(text: string, pick: number): string {
  const keys = [...text.matchAll(/[{,]\s*("(?:[^"\\]|\\.)*")\s*:/g)];
  if (keys.length === 0) return text;
  const m = keys[pick % keys.length];
  const at = m.index! + 1;
  return `${text.slice(0, at)}${m[1]}: 0, ${text.slice(at)}`;
}

const SET_PATHS = ['train.lr', 'seed', 'task.name', 'model.options.hidden', 'analyses[0].options.topK', 'analyses[3].name', 'analyses.name', '__proto__.polluted', 'constructor.prototype.polluted', 'task.options.__proto__.polluted', 'train[0]', 'quick.train.lr', 'a..b', 'train.schedule.prototype'];
const SET_VALUES = ['abc', '1', '-1', 'NaN', '1e999', '[1, 2]', '{"__proto__": {"polluted": 1}}', '{x: 1}', '', 'null', `${'['.repeat(70)}${']'.repeat(70)}`, 'cltt'];

const dir = mkdtempSync(join(tmpdir(), 'goldstone-fuzz-'));
const here = dirname(fileURLToPath(import.meta.url));
let registry: Registry;

beforeAll(async () => {
  registry = await buildRegistry({
    builtins: { task: { clt: '@goldstone/task-clt' }, model: { mlp: '@goldstone/models' }, analysis: { hessian: '@goldstone/analysis-hessian' } },
    needed: [
      { kind: 'task', name: 'clt' },
      { kind: 'model', name: 'mlp' },
      { kind: 'analysis', name: 'hessian' },
    ],
    bases: [here],
    relativeTo: here,
  });
}, 120_000);

const protoKeys = () => Object.getOwnPropertyNames(Object.prototype).sort().join(',');

describe('experiment files under random mutation', () => {
  it('the unmutated experiment resolves', () => {
    const file = join(dir, 'valid.yaml');
    writeFileSync(file, toYaml(valid));
    const exp = parseExperiment(readConfigFile(file), { file, quick: true });
    expect(resolveExperiment(exp, registry, file).task.options).toMatchObject({ sites: 8, trainSize: 32 });
  });

  it('either resolve or fail with a UsageError naming the file or flag and a field', () => {
    const clean = protoKeys();
    let n = 0;
    const outcomes = { ok: 0, usage: 0 };
    fc.assert(
      fc.property(
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        fc.constantFrom('yaml', 'json', 'json-dup'),
        fc.boolean(),
        fc.array(fc.tuple(fc.constantFrom(...SET_PATHS), fc.constantFrom(...SET_VALUES)), { maxLength: 2 }),
        fc.nat(),
        (mutations, format, quick, sets, pick) => {
          const raw = mutations.reduce((v, m) => mutate(v, m), structuredClone(valid) as Record<string, unknown>);
          const file = join(dir, `exp-${n++}.${format === 'yaml' ? 'yaml' : 'json'}`);
          let text: string;
          try {
            text = format === 'yaml' ? toYaml(raw, { aliasDuplicateObjects: false }) : JSON.stringify(raw);
          } catch {
            return; // a value the serialiser itself refuses (deep nesting in the YAML writer) is not a file anyone has
          }
          if (format === 'json-dup') text = duplicateAKey(text, pick);
          writeFileSync(file, text);
          try {
            const set = parseAssignments(sets.map(([p, v]) => `${p}=${v}`));
            const exp = parseExperiment(readConfigFile(file), { file, quick, set });
            resolveExperiment(exp, registry, file);
            outcomes.ok++;
          } catch (err) {
            if (!(err instanceof UsageError)) throw new Error(`not a UsageError for ${file}: ${(err as Error)?.stack ?? String(err)}`);
            for (const line of err.message.split('\n')) {
              // The flag as errors name it: a value past 40 characters is cut short.
              const flags = sets.map(([p, v]) => `--set ${p}=${v.length > 40 ? `${v.slice(0, 40)}…` : v}`);
              const where = [file, ...flags].find((w) => line.startsWith(`${w}:`));
              if (!where) throw new Error(`message names neither the file nor the flag: ${line}`);
              const rest = line.slice(where.length);
              // A field (`train.lr: …`, `(top level): …`) or a place in the file (`:3:7: …`), or the whole file.
              if (!/^(:\d+:\d+)?: ((?:[^\s"]|\["(?:[^"\\]|\\.)*"\])+: |invalid (JSON|YAML)|duplicate key|nested deeper|expected an experiment object)/.test(rest)) {
                throw new Error(`message names no field: ${line}`);
              }
            }
            outcomes.usage++;
          }
          if (protoKeys() !== clean || ({} as Record<string, unknown>).polluted !== undefined) throw new Error(`Object.prototype changed by ${file}`);
        },
      ),
      { seed: Number(process.env.FUZZ_SEED ?? 20261201), numRuns: Number(process.env.FUZZ_RUNS ?? 400) },
    );
    // Both outcomes happen: the mutations are neither all harmless nor all fatal.
    expect(outcomes.ok).toBeGreaterThan(10);
    expect(outcomes.usage).toBeGreaterThan(100);
  }, 240_000);
});
