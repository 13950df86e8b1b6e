import { describe, expect, it } from 'vitest';
import type { AnalysisResult } from '@goldstone/plugin-api';
import { parsePath, resolvePath, settingOf } from './paths';
import { correlationsOptions } from './options';

const previous: Record<string, AnalysisResult> = {
  hessian: {
    result: { topEigenvalues: [5.5, 2, 1], trace: { value: 12, stderr: 0.5 }, nested: { rows: [{ v: [0, 7] }] }, bad: Number.NaN as unknown as number, label: 'x' },
    provenance: { analysis: 'hessian', seed: 1, backend: 'cpu' },
  },
  'hessian-2': {
    result: { top: [1], generators: [{ name: 'scale', relativeToLambdaMax: 0.2 }, { name: 'rotation', relativeToLambdaMax: 0.01 }, { name: 'boost', unsupported: 'no' }] },
    provenance: { analysis: 'hessian', seed: 1, backend: 'cpu' },
  },
  robustness: { result: { headline: { perturbationDrop: { 'soft-particles': 0.3, 'a.b': 0.4 } } }, provenance: { analysis: 'robustness', seed: 1, backend: 'cpu' } },
};

describe('parsePath', () => {
  it('splits keys and indices', () => {
    expect(parsePath('hessian.result.topEigenvalues[0]')).toEqual(['hessian', 'result', 'topEigenvalues', 0]);
    expect(parsePath('a.b[2][-1].c')).toEqual(['a', 'b', 2, -1, 'c']);
    expect(parsePath('hessian-2.result.top[0]')).toEqual(['hessian-2', 'result', 'top', 0]);
    expect(parsePath('r.result.headline.perturbationDrop["soft-particles"]')).toEqual(['r', 'result', 'headline', 'perturbationDrop', 'soft-particles']);
    expect(parsePath('h.result.generators[name=rotation].percentile')).toEqual(['h', 'result', 'generators', { field: 'name', equals: 'rotation' }, 'percentile']);
    expect(() => parsePath('a..b')).toThrow(/not a path/);
    expect(() => parsePath('a["b]')).toThrow(/not a path/);
    expect(() => parsePath('a[x]')).toThrow(/not a path/);
  });

  it('the options schema rejects malformed paths, naming the field', () => {
    const r = correlationsOptions.safeParse({ complexity: { lambdaMax: 'hessian..top' } });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/lambdaMax/);
  });
});

describe('resolvePath', () => {
  it('walks into nested objects and arrays', () => {
    expect(resolvePath(previous, 'hessian.result.topEigenvalues[0]')).toEqual({ value: 5.5 });
    expect(resolvePath(previous, 'hessian.result.topEigenvalues[-1]')).toEqual({ value: 1 });
    expect(resolvePath(previous, 'hessian.result.nested.rows[0].v[1]')).toEqual({ value: 7 });
    expect(resolvePath(previous, 'hessian-2.result.top[0]')).toEqual({ value: 1 });
  });

  it('reads quoted keys and picks array elements by a field', () => {
    expect(resolvePath(previous, 'robustness.result.headline.perturbationDrop["soft-particles"]')).toEqual({ value: 0.3 });
    expect(resolvePath(previous, 'robustness.result.headline.perturbationDrop.soft-particles')).toEqual({ value: 0.3 });
    expect(resolvePath(previous, 'robustness.result.headline.perturbationDrop["a.b"]')).toEqual({ value: 0.4 });
    expect(resolvePath(previous, 'hessian-2.result.generators[name=rotation].relativeToLambdaMax')).toEqual({ value: 0.01 });
    expect(resolvePath(previous, 'hessian-2.result.generators[name=translation].relativeToLambdaMax').note).toMatch(/no element with name = translation \(it has: scale, rotation, boost\)/);
    expect(resolvePath(previous, 'hessian-2.result.generators[name=boost].relativeToLambdaMax').note).toMatch(/generators\[name=boost\] is an object with keys name, unsupported, no "relativeToLambdaMax"/);
    expect(resolvePath(previous, 'hessian-2.result.top[name=x]').note).toMatch(/none has "name"/);
  });

  it('reads an estimate object { value, stderr } as its value', () => {
    expect(resolvePath(previous, 'hessian.result.trace')).toEqual({ value: 12 });
    expect(resolvePath(previous, 'hessian.result.trace.stderr')).toEqual({ value: 0.5 });
  });

  it('gives null with a note, never a throw, where a path breaks', () => {
    const cases: [string, RegExp][] = [
      ['distillation.result.summary.meanGain', /no analysis "distillation" ran before this one \(ran: hessian, hessian-2, robustness\)/],
      ['hessian.result.missing', /hessian\.result is an object with keys .*no "missing"/],
      ['hessian.result.topEigenvalues[3]', /has 3 element\(s\), no \[3\]/],
      ['hessian.result.trace[0]', /hessian\.result\.trace is an object .* not an array/],
      ['hessian.result.bad', /not a finite number/],
      ['hessian.result.label', /the string "x", not a finite number/],
      ['hessian.result.nested', /not a finite number/],
      ['not a path', /not a path/],
    ];
    for (const [path, note] of cases) {
      const r = resolvePath(previous, path);
      expect(r.value, path).toBeNull();
      expect(r.note, path).toMatch(note);
    }
    expect(resolvePath({}, 'hessian.result.x').note).toMatch(/none ran/);
  });
});

describe('settingOf', () => {
  it('reads a swept path as given, else walks nested settings', () => {
    expect(settingOf({ 'train.lr': 0.1, seed: 1 }, 'train.lr')).toBe(0.1);
    expect(settingOf({ model: { name: 'mlp' } }, 'model.name')).toBe('mlp');
    expect(settingOf({ seed: 1 }, 'model.name')).toBeUndefined();
  });
});
