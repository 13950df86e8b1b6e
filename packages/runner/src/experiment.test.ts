import { describe, expect, it } from 'vitest';
import { deepMerge, parseExperiment, setPath } from './experiment';
import { UsageError } from '@goldstone/plugin-api';

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
    expect(usageError(() => parseExperiment({ ...base, train: { epoch: 3 } }, { file: 'f.yaml' })).message).toContain(
      'f.yaml: train: unknown field "epoch"',
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
