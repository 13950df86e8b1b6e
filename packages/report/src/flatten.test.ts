import { describe, expect, it } from 'vitest';
import { flattenScalars, summarizeNumbers } from './flatten';

describe('flattenScalars', () => {
  it('turns nested objects into dotted keys and keeps scalars', () => {
    const rows = flattenScalars({ a: 1, b: { c: 2.5, d: { e: true } }, s: 'x', n: null });
    expect(rows).toEqual([
      { key: 'a', value: 1 },
      { key: 'b.c', value: 2.5 },
      { key: 'b.d.e', value: true },
      { key: 's', value: 'x' },
      { key: 'n', value: null },
    ]);
  });

  it('shows short numeric arrays inline and summarises long ones', () => {
    const long = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100: mean 50.5
    const rows = flattenScalars({ top: [3, 2, 1], all: long });
    expect(rows[0]).toEqual({ key: 'top', value: '[3, 2, 1]' });
    expect(rows[1]).toEqual({ key: 'all', value: '100 numbers · min 1 · mean 50.5 · max 100' });
  });

  it('summarises matrices with their shape', () => {
    const m = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    expect(flattenScalars({ m })).toEqual([{ key: 'm', value: '2×3 array · min 1 · mean 3.5 · max 6' }]);
  });

  it('reads long arrays of objects as columns', () => {
    const eigen = Array.from({ length: 10 }, (_, i) => ({ value: 10 - i, converged: i < 7 }));
    const rows = flattenScalars({ eigen });
    expect(rows).toEqual([
      { key: 'eigen', value: '10 entries' },
      { key: 'eigen[].value', value: '10 numbers · min 1 · mean 5.5 · max 10' },
      { key: 'eigen[].converged', value: 'true, false' },
    ]);
  });

  it('expands short arrays of objects element by element', () => {
    expect(flattenScalars({ fits: [{ psi: 4.1 }, { psi: 3.9 }] })).toEqual([
      { key: 'fits[0].psi', value: 4.1 },
      { key: 'fits[1].psi', value: 3.9 },
    ]);
  });

  it('counts non-finite values and caps the number of rows', () => {
    expect(summarizeNumbers([1, Number.NaN, 3])).toBe('3 numbers · min 1 · mean 2 · max 3 · 1 not finite');
    const big = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]));
    const rows = flattenScalars(big, { maxRows: 10 });
    expect(rows).toHaveLength(11);
    expect(rows[10]).toEqual({ key: '…', value: '20 more entries not shown' });
  });

  it('names a bare scalar result', () => {
    expect(flattenScalars(42)).toEqual([{ key: 'value', value: 42 }]);
  });
});
