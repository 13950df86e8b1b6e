import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '@goldstone/plugin-api';
import { experimentFileReader, loadExperimentFile, parseAssignments, readConfigFile } from './experiment-file';

const dir = mkdtempSync(join(tmpdir(), 'goldstone-experiment-file-'));
function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The UsageError `fn` throws (returning, or throwing anything else, fails the test). */
function usageError(fn: () => unknown): UsageError {
  const thrown: unknown[] = [];
  try {
    fn();
  } catch (err) {
    thrown.push(err);
  }
  expect(thrown[0]).toBeInstanceOf(UsageError);
  return thrown[0] as UsageError;
}

const protoKeys = () => Object.getOwnPropertyNames(Object.prototype).sort();

describe('readConfigFile', () => {
  it('reads YAML and JSON', () => {
    expect(readConfigFile(write('ok.yaml', 'task: {name: clt}\n'))).toEqual({ task: { name: 'clt' } });
    expect(readConfigFile(write('ok.json', '\ufeff{"task": {"name": "clt"}}'))).toEqual({ task: { name: 'clt' } });
  });

  it('names the file for a missing file, a directory and a syntax error (with line and column)', () => {
    expect(usageError(() => readConfigFile(join(dir, 'none.yaml'))).message).toBe(`${join(dir, 'none.yaml')}: file not found`);
    mkdirSync(join(dir, 'sub.yaml'), { recursive: true });
    expect(usageError(() => readConfigFile(join(dir, 'sub.yaml'))).message).toMatch(/sub\.yaml: is a directory/);
    const json = write('bad.json', '{"task":\n  {"a": 1 "b": 2}}');
    expect(usageError(() => readConfigFile(json)).message).toMatch(new RegExp(`^${json}:2:11: invalid JSON: `));
    const yaml = write('bad.yaml', 'task: [1, 2\n');
    expect(usageError(() => readConfigFile(yaml)).message).toMatch(new RegExp(`^${yaml}:2:1: invalid YAML: `));
  });

  it('refuses a key given twice in JSON (file:line:col, the field and the key)', () => {
    const top = write('dup-top.json', '{"task": {"name": "clt"},\n "task": {"name": "ising"}}');
    expect(usageError(() => readConfigFile(top)).message).toBe(`${top}:2:2: task: duplicate key "task" (JSON keeps only the last value)`);
    const nested = write('dup.json', '{"task": {"name": "clt"},\n "train": {"lr": 1, "epochs": 2,\n   "lr": 3}}');
    expect(usageError(() => readConfigFile(nested)).message).toBe(`${nested}:3:4: train.lr: duplicate key "lr" (JSON keeps only the last value)`);
    const inList = write('dup-list.json', '{"analyses": [{"name": "a"}, {"name": "b", "options": {"k": 1, "k": 2}}]}');
    expect(usageError(() => readConfigFile(inList)).message).toMatch(/:1:\d+: analyses\[1\]\.options\.k: duplicate key "k"/);
    // The same key in different objects, and keys inside strings, are fine.
    expect(readConfigFile(write('nodup.json', '{"a": {"k": 1}, "b": {"k": "\\"k\\": 2, \\"k\\": 3"}}'))).toEqual({ a: { k: 1 }, b: { k: '"k": 2, "k": 3' } });
  });

  it('refuses a key given twice in YAML, naming it', () => {
    const file = write('dup.yaml', 'task:\n  name: clt\ntrain:\n  lr: 1\n  lr: 2\n');
    expect(usageError(() => readConfigFile(file)).message).toBe(`${file}:5:3: duplicate key "lr": a key may appear once in each mapping`);
  });

  it('refuses __proto__, constructor and prototype keys, which parsers keep as own fields and clones drop', () => {
    const clean = protoKeys();
    const cases: [string, string, string][] = [
      ['proto-quick.yaml', 'task: {name: clt}\nquick:\n  __proto__: {train: {epochs: 1}}\n', 'quick.__proto__'],
      ['proto-options.json', '{"task": {"name": "clt", "options": {"__proto__": {"sites": 4}}}}', 'task.options.__proto__'],
      ['ctor.yaml', 'model:\n  options:\n    constructor: {prototype: {x: 1}}\n', 'model.options.constructor'],
    ];
    for (const [name, text, field] of cases) {
      const file = write(name, text);
      const err = usageError(() => readConfigFile(file));
      expect(err.message).toMatch(new RegExp(`^${file}: ${field.replace(/\./g, '\\.')}: "\\w+" is not allowed as a field name$`));
      expect(err.field).toBe(field);
    }
    expect(protoKeys()).toEqual(clean);
  });

  it('refuses deep nesting with exit 2 instead of a stack overflow', () => {
    const n = 100_000;
    const json = write('deep.json', `{"task": {"options": {"a": ${'['.repeat(n)}${']'.repeat(n)}}}}`);
    const err = usageError(() => readConfigFile(json));
    expect(err.message).toMatch(new RegExp(`^${json}:1:\\d+: task\\.options\\.a\\[0\\]\\[0\\]\\[0\\]…: nested deeper than 64 levels$`));
    const yaml = write('deep.yaml', `task: ${'['.repeat(n)}${']'.repeat(n)}\n`);
    expect(usageError(() => readConfigFile(yaml)).message).toMatch(new RegExp(`^${yaml}(:\\d+:\\d+)?: .*nested deeper than 64 levels$`));
    const seqs = write('deep-seq.yaml', `${'- '.repeat(70)}x\n`);
    expect(usageError(() => readConfigFile(seqs)).message).toMatch(/nested deeper than 64 levels$/);
    // An alias to itself is a cycle: as deep as it gets.
    const cycle = write('cycle.yaml', 'task: &a [*a]\n');
    expect(usageError(() => readConfigFile(cycle)).message).toMatch(/: task\[0\]\[0\].*…: nested deeper than 64 levels$/);
    // 64 levels are fine.
    expect(readConfigFile(write('ok-deep.json', `${'['.repeat(64)}${']'.repeat(64)}`))).toBeInstanceOf(Array);
  });
});

describe('loadExperimentFile', () => {
  const file = write('exp.yaml', 'task: {name: clt}\nmodel: {name: mlp}\ntrain: {lr: 0.1}\nquick:\n  train: {epochs: fast}\n');

  it('names quick.PATH for a value from quick: and the flag for a value from --set', () => {
    expect(usageError(() => loadExperimentFile(file, { quick: true })).message).toBe(`${file}: quick.train.epochs: expected number, got "fast"`);
    expect(usageError(() => loadExperimentFile(file, { set: parseAssignments(['train.lr=abc']) })).message).toBe(
      '--set train.lr=abc: train.lr: expected number, got "abc"',
    );
    expect(loadExperimentFile(file, { quick: true, set: parseAssignments(['train.epochs=2']) }).experiment.train.epochs).toBe(2);
  });
});

describe('experimentFileReader', () => {
  it('reads the file once, applies each call\'s assignments, makes plugin paths absolute, and checks quick: on the first call', () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-reader-'));
    const file = join(dir, 'exp.json');
    writeFileSync(file, JSON.stringify({ task: { name: 'clt' }, model: { name: 'mlp' }, plugins: ['./p.mjs'], quick: { train: { epochs: 1 } } }));
    const read = experimentFileReader(file);
    writeFileSync(file, 'not read again');
    expect(read({ set: { seed: 3 } }).seed).toBe(3);
    expect(read({ set: { seed: 4 }, quick: true }).train.epochs).toBe(1);
    expect(read().plugins).toEqual([join(dir, 'p.mjs')]);
    const badFile = join(dir, 'bad.json');
    writeFileSync(badFile, JSON.stringify({ task: { name: 'clt' }, model: { name: 'mlp' }, quick: { train: { epochz: 1 } } }));
    expect(() => experimentFileReader(badFile)()).toThrow(/quick\.train\.epochz: unknown field "epochz"/);
  });
});
