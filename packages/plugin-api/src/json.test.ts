import { describe, expect, it } from 'vitest';
import { isObject, settingOf } from './json';

describe('isObject', () => {
  it('accepts plain objects and nothing else JSON can hold', () => {
    expect(isObject({})).toBe(true);
    expect(isObject({ a: 1 })).toBe(true);
    expect(isObject(JSON.parse('{"x":[1]}'))).toBe(true);
    for (const v of [null, undefined, [], [1], 'x', 0, true]) expect(isObject(v)).toBe(false);
  });
});

describe('settingOf', () => {
  it('reads a swept path as it was swept, else walks into a swept object', () => {
    expect(settingOf({ 'train.lr': 0.1, seed: 1 }, 'train.lr')).toBe(0.1);
    expect(settingOf({ model: { name: 'mlp', options: { hidden: [4] } } }, 'model.options.hidden')).toEqual([4]);
    expect(settingOf({ seed: 1 }, 'model.name')).toBeUndefined();
    expect(settingOf({ model: 'mlp' }, 'model.name')).toBeUndefined();
    expect(settingOf({}, 'constructor')).toBeUndefined();
  });
});
