import { describe, expect, it } from 'vitest';
import { lrFactor } from './schedule';

describe('lrFactor', () => {
  it('is 1 for constant and for no schedule', () => {
    for (const e of [0, 0.5, 3, 99]) {
      expect(lrFactor({ kind: 'constant' }, e, 10)).toBe(1);
      expect(lrFactor(undefined, e, 10)).toBe(1);
    }
  });

  it('decays by gamma every `every` epochs', () => {
    const s = { kind: 'step', every: 3, gamma: 0.5 } as const;
    const expected = [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125];
    for (let e = 0; e < 10; e++) expect(lrFactor(s, e, 10)).toBe(expected[e]);
    expect(lrFactor(s, 2.99, 10)).toBe(1);
    // an epoch reached by summing fractions still counts as reached
    let acc = 0;
    for (let i = 0; i < 30; i++) acc += 0.1;
    expect(lrFactor(s, acc, 10)).toBe(0.5);
  });

  it('follows a half cosine from 1 to minFactor', () => {
    const s = { kind: 'cosine', minFactor: 0.1 } as const;
    expect(lrFactor(s, 0, 10)).toBeCloseTo(1, 12);
    expect(lrFactor(s, 5, 10)).toBeCloseTo(0.1 + 0.9 * 0.5, 12);
    expect(lrFactor(s, 2.5, 10)).toBeCloseTo(0.1 + 0.9 * 0.5 * (1 + Math.SQRT1_2), 12);
    expect(lrFactor(s, 10, 10)).toBeCloseTo(0.1, 12);
    expect(lrFactor(s, 12, 10)).toBeCloseTo(0.1, 12);
    expect(lrFactor({ kind: 'cosine' }, 10, 10)).toBeCloseTo(0, 12);
  });

  it('warms up linearly before the cosine', () => {
    const s = { kind: 'cosine', warmupEpochs: 2 } as const;
    expect(lrFactor(s, 0, 12)).toBe(0);
    expect(lrFactor(s, 0.5, 12)).toBeCloseTo(0.25, 12);
    expect(lrFactor(s, 2, 12)).toBeCloseTo(1, 12);
    expect(lrFactor(s, 7, 12)).toBeCloseTo(0.5, 12);
    expect(lrFactor(s, 12, 12)).toBeCloseTo(0, 12);
  });

  it('rejects bad settings', () => {
    expect(() => lrFactor({ kind: 'step', every: 0, gamma: 0.5 }, 1, 10)).toThrow(/every/);
    expect(() => lrFactor({ kind: 'cosine', minFactor: 2 }, 1, 10)).toThrow(/minFactor/);
    expect(() => lrFactor({ kind: 'bogus' } as never, 1, 10)).toThrow(/kind/);
    expect(() => lrFactor({ kind: 'constant' }, -1, 10)).toThrow(/epoch/);
  });
});
