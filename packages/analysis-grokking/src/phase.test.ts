import { describe, expect, it } from 'vitest';
import { asPredicted, classifyPhase, firstReach, predictPhase } from './phase';

describe('phases', () => {
  it('finds the first step at or above the threshold', () => {
    expect(firstReach([0, 10, 20, 30], [0.1, 0.89, 0.9, 1], 0.9)).toBe(20);
    expect(firstReach([0, 10], [0.1, null], 0.9)).toBeNull();
    expect(firstReach([0, 10, 20], [null, NaN, 0.95], 0.9)).toBe(20);
  });

  it('classifies as the toy does (Figure 5), with lag the comprehension window', () => {
    expect(classifyPhase(100, 150, 2000)).toBe('comprehension');
    expect(classifyPhase(100, 2100, 2000)).toBe('comprehension');
    expect(classifyPhase(100, 2101, 2000)).toBe('grokking');
    expect(classifyPhase(500, 300, 2000)).toBe('comprehension');
    expect(classifyPhase(100, null, 2000)).toBe('memorisation');
    expect(classifyPhase(null, null, 2000)).toBe('confusion');
    expect(classifyPhase(null, 50, 2000)).toBe('confusion');
  });

  it('predicts from T_r and T_m', () => {
    expect(predictPhase(100, 500)).toBe('generalisation');
    expect(predictPhase(100, null)).toBe('generalisation');
    expect(predictPhase(500, 100)).toBe('memorisation');
    expect(predictPhase(100, 100)).toBe('memorisation');
    expect(predictPhase(null, 100)).toBe('memorisation');
    expect(predictPhase(null, null)).toBe('confusion');
    expect(asPredicted('grokking')).toBe('generalisation');
    expect(asPredicted('comprehension')).toBe('generalisation');
    expect(asPredicted('memorisation')).toBe('memorisation');
  });
});
