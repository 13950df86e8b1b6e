import { describe, expect, it } from 'vitest';
import { quantileSorted } from './quantile';

describe('quantileSorted', () => {
  it('interpolates between order statistics (type 7, as numpy.quantile)', () => {
    const s = [1, 2, 4, 8];
    // numpy.quantile([1, 2, 4, 8], [0, 0.25, 0.5, 0.9, 1]) = 1, 1.75, 3, 6.8, 8
    expect([0, 0.25, 0.5, 0.9, 1].map((q) => quantileSorted(s, q))).toEqual([1, 1.75, 3, 6.800000000000001, 8]);
    expect(quantileSorted([5], 0.3)).toBe(5);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });
});
