import { describe, expect, it } from 'vitest';
import { Rng } from './rng';
import { auc, chanceScore, scoreArrays, withinTolerance } from './scoring';

describe('auc', () => {
  it('equals the fraction of positive–negative pairs ranked right (ties count ½), by brute force', () => {
    const rng = new Rng(1);
    for (let trial = 0; trial < 20; trial++) {
      const n = 5 + rng.int(40);
      const s = Array.from({ length: n }, () => Math.round(rng.normal() * 3) / 3); // many ties
      const y = Array.from({ length: n }, () => (rng.uniform() < 0.4 ? 1 : 0));
      let num = 0;
      let den = 0;
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++)
          if (y[i] === 1 && y[j] === 0) {
            den++;
            num += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
          }
      expect(auc(s, y)).toBeCloseTo(den ? num / den : 0.5, 12);
    }
  });
  it('is 1 for a perfect ranking, 0 for a reversed one', () => {
    expect(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
  });
});

describe('scores and chance', () => {
  it('computes accuracy, AUC and MSE, and the chance level of each', () => {
    expect(scoreArrays('classification', [1, 0, 0, 0, 2, 1], [0, 1, 0, 0, 1, 0], 3)).toEqual({ accuracy: 0.5 });
    expect(scoreArrays('binary', [2, -1, 0.5], [1, 0, 0], 1)).toEqual({ accuracy: 2 / 3, auc: 1 });
    expect(scoreArrays('regression', [1, 2], [0, 0], 1)).toEqual({ mse: 2.5 });
    expect(chanceScore('classification', [1, 0, 1, 0, 0, 1], 2)).toBeCloseTo(2 / 3);
    expect(chanceScore('regression', [1, 3], 1)).toBe(1);
    expect(chanceScore('binary', [1, 0, 0], 1)).toBe(0.5);
  });
  it('tolerance is an absolute drop for accuracy/AUC and a relative rise for MSE', () => {
    expect(withinTolerance('accuracy', 0.9, 0.885, 0.02)).toBe(true);
    expect(withinTolerance('accuracy', 0.9, 0.87, 0.02)).toBe(false);
    expect(withinTolerance('mse', 1, 1.019, 0.02)).toBe(true);
    expect(withinTolerance('mse', 1, 1.03, 0.02)).toBe(false);
    expect(withinTolerance('mse', 1, Number.NaN, 0.02)).toBe(false);
  });
});
