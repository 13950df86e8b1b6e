import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance, nearestName } from './errors';

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and adjacent swaps as one edit', () => {
    expect(editDistance('lr', 'lr')).toBe(0);
    expect(editDistance('lrr', 'lr')).toBe(1);
    expect(editDistance('epoch', 'epochs')).toBe(1);
    expect(editDistance('adma', 'adam')).toBe(1);
    expect(editDistance('optimiser', 'optimizer')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('abc', '')).toBe(3);
  });
});

describe('nearestName', () => {
  it('finds a close name and nothing for a far one', () => {
    expect(nearestName('cltt', ['clt', 'ising', 'mnist'])).toBe('clt');
    expect(nearestName('lrr', ['lr', 'epochs', 'momentum'])).toBe('lr');
    expect(nearestName('Adam', ['sgd', 'adam', 'adamw'])).toBe('adam');
    expect(nearestName('hessian', ['clt', 'ising'])).toBeUndefined();
    // Short names allow one edit only, and a one-letter name is never "close" to another letter.
    expect(nearestName('abc', ['xyz', 'axy'])).toBeUndefined();
    expect(nearestName('x', ['k', 'lr'])).toBeUndefined();
    expect(nearestName('lr', ['lr'])).toBeUndefined();
  });
  it('breaks ties alphabetically', () => {
    expect(nearestName('ab', ['ac', 'aa'])).toBe('aa');
  });
  it('formats the hint', () => {
    expect(didYouMean('epoch', ['epochs'])).toBe('; did you mean "epochs"?');
    expect(didYouMean('zzz', ['epochs'])).toBe('');
  });
});
