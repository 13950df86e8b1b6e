import { describe, expect, it } from 'vitest';
import { isObject } from './json';

describe('isObject', () => {
  it('accepts plain objects and nothing else JSON can hold', () => {
    expect(isObject({})).toBe(true);
    expect(isObject({ a: 1 })).toBe(true);
    expect(isObject(JSON.parse('{"x":[1]}'))).toBe(true);
    for (const v of [null, undefined, [], [1], 'x', 0, true]) expect(isObject(v)).toBe(false);
  });
});
