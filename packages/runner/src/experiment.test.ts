import { describe, expect, it } from 'vitest';
import { deepMerge, parseAssignments, parseExperiment, parseOrThrow, setPath } from './experiment';
import { UsageError, z } from '@goldstone/plugin-api';

const base = { task: { name: 'clt' }, model: { name: 'mlp', options: { hidden: [8] } } };

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('parseExperiment', () => {
  it('fills defaults', () => {
    const exp = parseExperiment(base);
    expect(exp.seed).toBe(0);
    expect(exp.backend).toBe('auto');
    expect(exp.train.optimizer).toBe('adam');
    expect(exp.train.schedule).toEqual({ kind: 'constant' });
    expect(exp.analyses).toEqual([]);
    expect(exp.task.options).toEqual({});
  });

  it('names the file, the field, what was expected and what was found', () => {
    const err = usageError(() => parseExperiment({ ...base, train: { lr: 'fast' } }, { file: 'exp.yaml' }));
    expect(err.message).toBe('exp.yaml: train.lr: expected number, got "fast"');
    expect(err.file).toBe('exp.yaml');
    expect(err.field).toBe('train.lr');
  });

  it('rejects unknown fields (typos) and bad enum values', () => {
    expect(usageError(() => parseExperiment({ ...base, train: { epoch: 3 } }, { file: 'f.yaml' })).message).toBe(
      'f.yaml: train.epoch: unknown field "epoch"; did you mean "epochs"?',
    );
    expect(usageError(() => parseExperiment({ ...base, train: { optimizer: 'lbfgs' } })).message).toContain(
      'train.optimizer: expected one of "sgd", "adam", "adamw", got "lbfgs"',
    );
    expect(usageError(() => parseExperiment({ ...base, analyses: [{ options: {} }] })).message).toContain('analyses[0].name: expected string, got nothing');
  });

  it('rejects a non-object file', () => {
    expect(usageError(() => parseExperiment('hello', { file: 'x.yaml' })).message).toContain('x.yaml: expected an experiment object');
  });

  it('applies quick overrides only with quick, and --set assignments last', () => {
    const raw = { ...base, train: { epochs: 50 }, quick: { train: { epochs: 2 } } };
    expect(parseExperiment(raw).train.epochs).toBe(50);
    expect(parseExperiment(raw, { quick: true }).train.epochs).toBe(2);
    const exp = parseExperiment(raw, { quick: true, set: { 'train.epochs': 7, 'model.options.hidden': [4, 4], seed: 3 } });
    expect(exp.train.epochs).toBe(7);
    expect(exp.model.options).toEqual({ hidden: [4, 4] });
    expect(exp.seed).toBe(3);
  });
});

describe('setPath and deepMerge', () => {
  it('sets nested and indexed paths', () => {
    const o: Record<string, unknown> = { analyses: [{ name: 'a' }] };
    setPath(o, 'analyses[0].options.k', 5);
    setPath(o, 'a.b.c', 1);
    expect(o).toEqual({ analyses: [{ name: 'a', options: { k: 5 } }], a: { b: { c: 1 } } });
    expect(() => setPath(o, 'a..b', 1)).toThrow(UsageError);
  });
  it('merges objects and replaces arrays', () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] } })).toEqual({ a: { b: 1, c: [3] }, d: 1 });
  });
});

/** Own property names of Object.prototype, to prove nothing was written into it. */
const protoKeys = () => Object.getOwnPropertyNames(Object.prototype).sort();

describe('prototype keys', () => {
  const clean = protoKeys();
  const afterEach = () => {
    expect(protoKeys()).toEqual(clean);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  };

  it('setPath refuses __proto__, constructor and prototype as path segments, naming the flag and path', () => {
    for (const [path, field] of [
      ['__proto__.x', '__proto__'],
      ['constructor.prototype.x', 'constructor'],
      ['task.options.__proto__.x', 'task.options.__proto__'],
      ['task.prototype', 'task.prototype'],
      ['analyses[0].constructor', 'analyses[0].constructor'],
    ]) {
      const err = usageError(() => setPath({ task: { options: {} }, analyses: [{}] }, path, 1));
      expect(err.message).toMatch(new RegExp(`^--set ${path.replace(/[[\].]/g, '\\$&')}: ${field.replace(/[[\].]/g, '\\$&')}: "\\w+" is not allowed in a path$`));
      afterEach();
    }
    expect(usageError(() => setPath({}, '__proto__.x', 1, '--set hessian.__proto__.x=1')).message).toMatch(/^--set hessian\.__proto__\.x=1: __proto__:/);
  });

  it('--set assignments with prototype paths or values are UsageErrors and write nothing', () => {
    expect(usageError(() => parseAssignments(['__proto__.x=1'])).message).toBe('--set __proto__.x=1: __proto__: "__proto__" is not allowed in a path');
    expect(usageError(() => parseAssignments(['constructor.prototype.x=1'])).message).toContain('--set constructor.prototype.x=1: constructor:');
    expect(usageError(() => parseAssignments(['task.options={"__proto__": {"x": 1}}'])).message).toBe(
      '--set task.options={"__proto__": {"x": 1}}: task.options.__proto__: "__proto__" is not allowed as a field name',
    );
    expect(usageError(() => parseExperiment(base, { file: 'exp.yaml', set: { '__proto__.x': 1 } })).message).toBe(
      '--set __proto__.x=1: __proto__: "__proto__" is not allowed in a path',
    );
    afterEach();
  });

  it('deepMerge copies own fields only and refuses prototype keys', () => {
    expect(() => deepMerge({ a: 1 }, JSON.parse('{"__proto__": {"x": 1}}'))).toThrow(UsageError);
    expect(() => deepMerge({ a: 1 }, { constructor: { prototype: { x: 1 } } })).toThrow(UsageError);
    // "constructor" is inherited by every object: it must not count as a field of the base.
    expect(deepMerge({}, { toString: 1 })).toEqual({ toString: 1 });
    afterEach();
  });

  it('__proto__ inside quick: or task.options is an error naming the field, with or without --quick', () => {
    const raw = JSON.parse('{"task": {"name": "clt", "options": {"__proto__": {"x": 1}}}, "model": {"name": "mlp"}}');
    expect(usageError(() => parseExperiment(raw, { file: 'exp.json' })).message).toBe('exp.json: task.options.__proto__: "__proto__" is not allowed as a field name');
    const quick = JSON.parse('{"task": {"name": "clt"}, "model": {"name": "mlp"}, "quick": {"__proto__": {"train": {"epochs": 1}}}}');
    for (const q of [false, true]) {
      const err = usageError(() => parseExperiment(quick, { file: 'exp.json', quick: q }));
      expect(err.message).toBe('exp.json: quick.__proto__: "__proto__" is not allowed as a field name');
      expect(err.field).toBe('quick.__proto__');
    }
    afterEach();
  });
});

describe('messages name where a value came from', () => {
  it('a value from quick: is named quick.PATH in the file', () => {
    const raw = { ...base, train: { lr: 0.1 }, quick: { train: { lr: 'fast', epochs: 2 } } };
    const err = usageError(() => parseExperiment(raw, { file: 'exp.yaml', quick: true }));
    expect(err.message).toBe('exp.yaml: quick.train.lr: expected number, got "fast"');
    expect(err.file).toBe('exp.yaml');
    expect(err.field).toBe('quick.train.lr');
    // A subtree quick: adds is quick's, down to its leaves.
    const added = { ...base, quick: { train: { schedule: { kind: 'step', every: 2 } } } };
    expect(usageError(() => parseExperiment(added, { file: 'exp.yaml', quick: true })).message).toBe(
      'exp.yaml: quick.train.schedule.gamma: expected number, got nothing',
    );
    // A value the file gives is the file's.
    expect(usageError(() => parseExperiment({ ...raw, train: { lr: -1 }, quick: { train: { epochs: 2 } } }, { file: 'exp.yaml', quick: true })).message).toMatch(
      /^exp\.yaml: train\.lr: /,
    );
  });

  it('a value from --set is named as that flag, not the file', () => {
    const set = parseAssignments(['train.lr=abc', 'train.epochs=3']);
    const err = usageError(() => parseExperiment(base, { file: 'exp.yaml', set }));
    expect(err.message).toBe('--set train.lr=abc: train.lr: expected number, got "abc"');
    expect(err.file).toBeUndefined();
    expect(err.field).toBe('train.lr');
    // --set over a bad quick: value wins, and so does its blame.
    const raw = { ...base, quick: { train: { lr: 'fast' } } };
    expect(parseExperiment(raw, { file: 'exp.yaml', quick: true, set: { 'train.lr': 0.5 } }).train.lr).toBe(0.5);
    expect(usageError(() => parseExperiment(raw, { file: 'exp.yaml', quick: true, set: parseAssignments(['train=5']) })).message).toBe(
      '--set train=5: train: expected object, got number 5',
    );
    // What --set creates is the flag's, including what it leaves out.
    expect(usageError(() => parseExperiment(base, { file: 'exp.yaml', set: parseAssignments(['train.schedule.every=5']) })).message).toBe(
      '--set train.schedule.every=5: train.schedule.kind: expected one of "constant", "step", "cosine", got nothing',
    );
    // A record built by hand names the path and value; explicit sources win.
    expect(usageError(() => parseExperiment(base, { set: { seed: -1 } })).message).toMatch(/^--set seed=-1: seed: /);
    expect(usageError(() => parseExperiment(base, { set: { seed: 'x' }, sources: { seed: 'sweep point 3' } })).message).toBe(
      'sweep point 3: seed: expected number, got "x"',
    );
  });

  it('plugin options validated later are blamed on --set or quick: too', () => {
    const schema = z.strictObject({ hidden: z.array(z.number().int()), activation: z.enum(['tanh', 'relu']).optional() });
    const fromSet = parseExperiment(base, { file: 'exp.yaml', set: parseAssignments(['model.options.hidden=abc']) });
    expect(usageError(() => parseOrThrow(schema, fromSet.model.options, { file: 'exp.yaml', prefix: ['model', 'options'] })).message).toBe(
      '--set model.options.hidden=abc: model.options.hidden: expected array, got "abc"',
    );
    const fromQuick = parseExperiment({ ...base, quick: { model: { options: { activation: 'rel' } } } }, { file: 'exp.yaml', quick: true });
    expect(usageError(() => parseOrThrow(schema, fromQuick.model.options, { file: 'exp.yaml', prefix: ['model', 'options'] })).message).toBe(
      'exp.yaml: quick.model.options.activation: expected one of "tanh", "relu", got "rel"; did you mean "relu"?',
    );
    // From the file: the file, with a suggestion for a misspelt option.
    const plain = parseExperiment({ ...base, model: { name: 'mlp', options: { hiden: [4] } } }, { file: 'exp.yaml' });
    expect(usageError(() => parseOrThrow(schema, plain.model.options, { file: 'exp.yaml', prefix: ['model', 'options'] })).message).toBe(
      'exp.yaml: model.options.hidden: expected array, got nothing\nexp.yaml: model.options.hiden: unknown field "hiden"; did you mean "hidden"?',
    );
  });
});

describe('suggestions', () => {
  it('suggests the nearest field, enum value and schedule kind', () => {
    const msg = (raw: Record<string, unknown>) => usageError(() => parseExperiment({ ...base, ...raw }, { file: 'f.yaml' })).message;
    expect(msg({ train: { lrr: 0.1 } })).toBe('f.yaml: train.lrr: unknown field "lrr"; did you mean "lr"?');
    expect(msg({ trian: {} })).toBe('f.yaml: trian: unknown field "trian"; did you mean "train"?');
    expect(msg({ train: { optimizer: 'adma' } })).toBe('f.yaml: train.optimizer: expected one of "sgd", "adam", "adamw", got "adma"; did you mean "adam"?');
    expect(msg({ train: { schedule: { kind: 'cosin' } } })).toContain('got "cosin"; did you mean "cosine"?');
    // The fields of the schedule kind given, not of another kind.
    expect(msg({ train: { schedule: { kind: 'step', every: 1, gamma: 0.5, evry: 2 } } })).toBe(
      'f.yaml: train.schedule.evry: unknown field "evry"; did you mean "every"?',
    );
    expect(msg({ train: { zzzzzz: 1 } })).toBe('f.yaml: train.zzzzzz: unknown field "zzzzzz"');
  });
});

describe('hostile shapes', () => {
  it('deep nesting is a UsageError naming the file and the path, not a stack overflow', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const err = usageError(() => parseExperiment({ ...base, task: { name: 'clt', options: { a: deep } } }, { file: 'exp.json' }));
    expect(err.message).toBe('exp.json: task.options.a[0][0][0]…: nested deeper than 64 levels');
    expect(usageError(() => parseAssignments([`task.options.a=${'['.repeat(70)}${']'.repeat(70)}`])).message).toMatch(
      /^--set task\.options\.a=\[{40}…: task\.options\.a\[0\]\[0\].*…: nested deeper than 64 levels$/,
    );
  });

  it('setPath cannot address a field of a list or an index past its end', () => {
    const o: Record<string, unknown> = { analyses: [{ name: 'a' }] };
    expect(usageError(() => setPath(o, 'analyses.name', 'x')).message).toBe('--set analyses.name: analyses: is a list; address an entry by its index, e.g. analyses[0]');
    expect(usageError(() => setPath(o, 'analyses[5].name', 'x')).message).toBe(
      '--set analyses[5].name: analyses[5]: index 5 is past the end of the list (1 entries)',
    );
    setPath(o, 'analyses[1].name', 'b');
    expect(o.analyses).toEqual([{ name: 'a' }, { name: 'b' }]);
    expect(usageError(() => setPath({ train: {} }, 'train[0]', 1)).message).toBe('--set train[0]: train: is not a list (got an object)');
  });
});


describe('quick: overrides', () => {
  it('are checked even when the run is not --quick, blamed on quick.*', () => {
    const raw = { task: { name: 'clt' }, model: { name: 'mlp' }, quick: { train: { lrr: 0.1 } } };
    expect(() => parseExperiment(raw, { file: 'exp.yaml' })).toThrow(/^exp\.yaml: quick\.train\.lrr: unknown field "lrr"; did you mean "lr"\?/);
    expect(parseExperiment({ ...raw, quick: { train: { lr: 0.1 } } }, { file: 'exp.yaml' }).train.lr).toBe(1e-3);
  });
});

describe('name', () => {
  it('is a short file name, since it names the run directory', () => {
    const raw = { task: { name: 'clt' }, model: { name: 'mlp' } };
    expect(parseExperiment({ ...raw, name: 'a'.repeat(120) }).name).toHaveLength(120);
    expect(() => parseExperiment({ ...raw, name: 'a'.repeat(121) }, { file: 'exp.yaml' })).toThrow(/^exp\.yaml: name: at most 120 characters \(it names the run directory\)/);
  });
});
