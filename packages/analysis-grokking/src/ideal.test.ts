import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { standardize } from './geometry';
import { allPairs, allParallelograms, idealAccuracy, nullDimension, predictedAccuracy } from './ideal';

const fixture = JSON.parse(readFileSync(new URL('../test/fixtures/ideal-accuracy.json', import.meta.url), 'utf8')) as {
  p: number;
  cases: { trainNum: number; seed: number; train: [number, number][]; idealTestAccuracy: number; idealAccuracy: number; nullDim: number; P0D: number; PD: number }[];
};

const without = (p: number, drop: [number, number][]) => allPairs(p).filter(([a, b]) => !drop.some(([c, e]) => c === a && e === b));

describe('null dimension (ml-matrix)', () => {
  it('counts the null space of the parallelogram rows, by hand', () => {
    expect(nullDimension([], 4)).toBe(4);
    expect(nullDimension([[1, -1, -1, 1]], 4)).toBe(3);
    // E0 + E2 = 2E1 and E1 + E3 = 2E2: only translations and scalings are left
    expect(nullDimension([[1, -2, 1, 0], [0, 1, -2, 1]], 4)).toBe(2);
    // every parallelogram of 10 symbols: the linear representation is the only one
    const D0 = allPairs(10);
    const rows = allParallelograms(D0).map(([a, b]) => {
      const x = new Array(10).fill(0);
      x[D0[a][0]]++;
      x[D0[a][1]]++;
      x[D0[b][0]]--;
      x[D0[b][1]]--;
      return x;
    });
    expect(rows).toHaveLength(70);
    expect(nullDimension(rows, 10)).toBe(2);
  });
});

describe('ideal accuracy (the toy\'s D̄ algorithm)', () => {
  it('all pairs but one whose sum the others carry: every parallelogram is implied, ideal test accuracy 1', () => {
    const r = idealAccuracy(10, without(10, [[4, 5]]));
    expect(r.testAccuracy).toBe(1);
    expect(r.accuracy).toBe(1);
    expect(r.nullDim).toBe(2);
    expect(r.dofBeyondAffine).toBe(0);
    expect(r.counts).toMatchObject({ pairs: 55, train: 54, test: 1, P0: 70, PD: 70, Dbar: 55 });
  });

  it('a test pair whose sum no train pair has is never in D̄: (0, 0) left out gives 0', () => {
    const r = idealAccuracy(10, without(10, [[0, 0]]));
    expect(r.testAccuracy).toBe(0);
    expect(r.accuracy).toBeCloseTo(54 / 55, 12);
    const s = idealAccuracy(10, without(10, [[0, 0], [4, 5], [9, 9]]));
    expect(s.testAccuracy).toBeCloseTo(1 / 3, 12); // (4, 5) yes, (0, 0) and (9, 9) have unseen sums
  });

  it('a training set with no parallelogram (every sum once) implies none: ideal 0, null dimension p', () => {
    const train: [number, number][] = [];
    for (let b = 0; b < 10; b++) train.push([0, b]);
    for (let a = 1; a < 10; a++) train.push([a, 9]);
    const r = idealAccuracy(10, train);
    expect(r.counts.P0D).toBe(0);
    expect(r.counts.PD).toBe(0);
    expect(r.nullDim).toBe(10);
    expect(r.testAccuracy).toBe(0);
  });

  it('induces parallelograms by linear dependence: (0,3)=(1,2) and (2,5)=(3,4) imply (0,5)=(1,4)', () => {
    const r = idealAccuracy(6, [[0, 3], [1, 2], [2, 5], [3, 4], [1, 4]], [[0, 5]]);
    expect(r.counts.P0D).toBe(2);
    expect(r.testAccuracy).toBe(1);
    // without (3, 4) nothing ties (0, 5) to (1, 4)
    expect(idealAccuracy(6, [[0, 3], [1, 2], [2, 5], [1, 4]], [[0, 5]]).testAccuracy).toBe(0);
  });

  it('orientation and order of the train pairs do not matter', () => {
    const train = fixture.cases[20].train;
    const a = idealAccuracy(10, train);
    const b = idealAccuracy(10, [...train].reverse().map(([x, y]) => [y, x] as [number, number]));
    expect(b).toEqual(a);
  });

  it(`matches the toy's own numbers on its training sets (${fixture.cases.length} cases from the committed numpy script)`, () => {
    for (const c of fixture.cases) {
      const r = idealAccuracy(fixture.p, c.train);
      const where = `train_num ${c.trainNum}, seed ${c.seed}`;
      expect(r.testAccuracy, where).toBeCloseTo(c.idealTestAccuracy, 12);
      expect(r.accuracy, where).toBeCloseTo(c.idealAccuracy, 12);
      expect(r.nullDim, where).toBe(c.nullDim);
      expect(r.counts.P0D, where).toBe(c.P0D);
      expect(r.counts.PD, where).toBe(c.PD);
    }
  });
});

describe('accuracy predicted from a representation', () => {
  it('a linear representation has every parallelogram: the test pairs with a seen sum', () => {
    const E = standardize(Float64Array.from({ length: 10 }, (_, i) => 0.7 * i - 2), 10, 1);
    const train = without(10, [[0, 0], [4, 5], [9, 9]]);
    const r = predictedAccuracy(10, 1, E, train, 0.01);
    expect(r.parallelograms).toBe(70);
    expect(r.testAccuracy).toBeCloseTo(1 / 3, 12);
    expect(r.accuracy).toBeCloseTo(53 / 55, 12);
  });

  it('a scrambled representation predicts only what its own parallelograms give', () => {
    const E = standardize(Float64Array.from([0, 5, 1, 9, 2, 7, 3, 8, 4, 6]), 10, 1);
    const r = predictedAccuracy(10, 1, E, without(10, [[4, 5]]), 0.01);
    expect(r.parallelograms).toBeLessThan(70);
    expect(r.testAccuracy === 0 || r.testAccuracy === 1).toBe(true);
  });
});
