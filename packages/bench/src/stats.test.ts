import { describe, it, expect } from 'vitest';
import { median, quantile, summarize, timeIt, ratio } from './stats';

describe('stats', () => {
  it('median of odd and even counts, unsorted input', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/no samples/);
  });

  it('nearest-rank quantiles as in torch_bench.py', () => {
    const s = Array.from({ length: 11 }, (_, i) => i * 10); // 0..100
    expect(quantile(s, 0)).toBe(0);
    expect(quantile(s, 0.1)).toBe(10);
    expect(quantile(s, 0.9)).toBe(90);
    expect(quantile(s, 1)).toBe(100);
    expect(quantile([7, 9], 0.5)).toBe(9); // round half up: index floor(0.5 + 0.5) = 1
  });

  it('summarize reports median, p10, p90, min and count', () => {
    expect(summarize([3, 1, 2, 100, 4])).toEqual({ median_ms: 3, p10_ms: 1, p90_ms: 100, min_ms: 1, reps: 5 });
  });

  it('timeIt calls warm-up plus timed reps and returns one non-negative sample per rep', () => {
    let calls = 0;
    const samples = timeIt(() => void calls++, 2, 5);
    expect(calls).toBe(7);
    expect(samples).toHaveLength(5);
    for (const t of samples) expect(t).toBeGreaterThanOrEqual(0);
  });

  it('ratio is ours over the peer, null when the peer is missing', () => {
    expect(ratio(10, 4)).toBe(2.5);
    expect(ratio(1, 3)).toBe(0.33);
    expect(ratio(1, undefined)).toBeNull();
    expect(ratio(1, 0)).toBeNull();
  });
});
