import { describe, expect, it } from 'vitest';
import { headlineIssues, readHeadline, type HeadlineNumber } from './headline';

const good: HeadlineNumber[] = [
  { key: 'lambdaMax', label: 'λ_max', value: 12.5, exact: true, better: 'lower' },
  { key: 'trace', label: 'tr H (Hutchinson)', value: 40.1, stderr: 1.2 },
  { key: 'effectiveDimension', label: 'N_eff', value: 3.2, interval: [2.9, 3.6], level: 0.95 },
  { key: 'pgdDrop', label: 'PGD drop', value: null, note: 'no attack ran: the task has no input domain' },
];

describe('headlineIssues', () => {
  it('accepts every way of stating certainty, and a null with its reason', () => {
    expect(headlineIssues(good)).toEqual([]);
    expect(headlineIssues([])).toEqual([]);
  });

  it('names the entry and the field of each problem', () => {
    expect(headlineIssues({})).toEqual(['headline must be an array of headline numbers, got {}']);
    const bad = headlineIssues([
      { key: 'a', label: 'A', value: 1 },
      { key: 'a', label: 'A again', value: 2, stderr: -1 },
      { key: '1x', label: '', value: Number.NaN, exact: true },
      { key: 'iv', label: 'interval', value: 5, interval: [1, 2], level: 95 },
      { key: 'n', label: 'null', value: null },
      { key: 'two', label: 'two ways', value: 1, exact: true, stderr: 0.1, colour: 'red' },
      7,
    ]);
    expect(bad).toEqual([
      '[0] (a): give exactly one of stderr, interval (with level) or exact: true, got none',
      '[1] (a): key is used twice',
      '[1] (a): stderr must be a finite number ≥ 0, got -1',
      '[2] (1x): key must match ^[A-Za-z][A-Za-z0-9_.-]*$, got "1x"',
      '[2] (1x): label must be a non-empty string, got ""',
      '[2] (1x): value must be a finite number or null, got NaN',
      '[3] (iv): the interval [1, 2] does not hold the value 5',
      '[3] (iv): an interval needs its level, a number in (0, 1), got 95',
      '[4] (n): a null value needs a note saying why it could not be measured',
      '[5] (two): give exactly one of stderr, interval (with level) or exact: true, got several',
      '[5] (two): unknown field colour (expected key, label, value, stderr, interval, level, exact, unit, better, note)',
      '[6]: expected an object { key, label, value, … }, got 7',
    ]);
  });
});

describe('readHeadline', () => {
  it('returns a declared headline as it is, up to max', () => {
    expect(readHeadline({ result: { x: 1 }, headline: good })).toEqual(good);
    expect(readHeadline({ result: {}, headline: good }, 2)).toEqual(good.slice(0, 2));
  });

  it('reads the old shapes of results stored before headlines were declared', () => {
    const old = { headline: { topEigenvalues: [{ value: 9, residual: 1e-6 }], trace: { value: 15, stderr: 0.2 }, logDet: { value: -3, interval: [-4, -2], level: 0.9 }, excluded: [] } };
    expect(readHeadline({ result: old })).toEqual([
      { key: 'topEigenvalues[0]', label: 'topEigenvalues[0]', value: 9 },
      { key: 'trace', label: 'trace', value: 15, stderr: 0.2 },
      { key: 'logDet', label: 'logDet', value: -3, interval: [-4, -2], level: 0.9 },
    ]);
    expect(readHeadline({ result: { accuracy: 0.9, name: 'x', rows: [1, 2], nan: null } })).toEqual([{ key: 'accuracy', label: 'accuracy', value: 0.9 }]);
    expect(readHeadline({ result: [1, 2] })).toEqual([]);
  });
});
