import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { API_VERSION, defineAnalysis, defineModel, defineTask } from './plugin';
import { checkParamNames, checkSplit, formatBytes, formatCount } from './preflight';
import { Registry } from './registry';

const split = (n: number) => ({ n, x: new Float32Array(n), y: new Float32Array(n), xShape: [1], yShape: [1] });

describe('helpers for check hooks', () => {
  it('checkSplit: a missing split lists the splits, an empty one says so, a present one passes', () => {
    const task = { splits: { train: split(4), test: split(2), 'ood-x': split(0) } };
    expect(checkSplit(task, 'split', 'ood')).toEqual([{ field: 'split', message: 'the task has no split "ood" (it has: train, test, ood-x)' }]);
    expect(checkSplit(task, 'poolSplit', 'ood-x')).toEqual([{ field: 'poolSplit', message: 'the task\'s split "ood-x" has no examples' }]);
    expect(checkSplit(task, 'split', 'test')).toEqual([]);
    // inherited names are not splits
    expect(checkSplit(task, 'split', 'toString')).toHaveLength(1);
  });

  it('checkParamNames: one issue per unknown name, at its index, listing the parameters', () => {
    const model = { specs: [{ name: 'w', shape: [2, 2] }, { name: 'b', shape: [2] }] };
    expect(checkParamNames(model, 'params', ['b', 'v', 'w', 'u'])).toEqual([
      { field: 'params[1]', message: 'the model has no parameter "v" (it has: w, b)' },
      { field: 'params[3]', message: 'the model has no parameter "u" (it has: w, b)' },
    ]);
    expect(checkParamNames(model, 'params', undefined)).toEqual([]);
  });

  it('formatBytes and formatCount write sizes for people', () => {
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(12 * 2 ** 30)).toBe('12 GiB');
    expect(formatBytes(1.6e11)).toBe('149 GiB');
    expect(formatCount(999999)).toBe('999999');
    expect(formatCount(1e10)).toBe('1.0e10');
  });
});

describe('the preflight hooks are optional (API version 1)', () => {
  it('plugins with and without hooks register side by side', () => {
    const options = z.strictObject({});
    const plain = defineTask({ name: 'plain', apiVersion: API_VERSION, options, create: () => ({}) as never });
    const sized = defineTask({ name: 'sized', apiVersion: API_VERSION, options, create: () => ({}) as never, estimate: () => ({ bytes: 1, field: 'n' }) });
    const model = defineModel({ name: 'm', apiVersion: API_VERSION, options, create: () => ({}) as never, check: () => [], estimate: () => ({ bytes: 0, params: 3 }) });
    const analysis = defineAnalysis({ name: 'a', apiVersion: API_VERSION, options, run: async () => ({}) as never, check: (_o, ctx) => (ctx.train.epochs < 2 ? [{ field: 'x', message: 'too short' }] : []) });
    const r = new Registry();
    for (const p of [plain, sized, model, analysis]) r.add(p, { package: 'p', version: '1.0.0' });
    expect(API_VERSION).toBe(1);
    expect(r.get('task', 'plain').estimate).toBeUndefined();
    expect(r.get('task', 'sized').estimate?.({})).toEqual({ bytes: 1, field: 'n' });
    expect(r.get('analysis', 'a').check?.({}, { train: { epochs: 1, batchSize: 1, optimizer: 'sgd' } } as never)).toEqual([{ field: 'x', message: 'too short' }]);
  });
});
