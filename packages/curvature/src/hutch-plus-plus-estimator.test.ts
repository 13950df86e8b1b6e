import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { hutchPlusPlusEstimator } from './hutch-plus-plus-estimator';
import { hutchinsonEstimator } from './hutchinson-estimator';
import { knownSpectrum, traceCoverage } from './test-support';

describe('hutch++ estimator', () => {
  it('covers the exact trace with its standard error, over seeds, with a smaller error than Hutchinson', async () => {
    const c = await traceCoverage(hutchPlusPlusEstimator, { probes: 30 }, 40);
    expect(c.hvps.every((h) => h <= 30)).toBe(true);
    expect(c.within3).toBeGreaterThanOrEqual(38);
    expect(c.spreadOverStderr).toBeGreaterThan(0.7);
    expect(c.spreadOverStderr).toBeLessThan(1.4);
    // the outliers are taken exactly: at the same budget, about half Hutchinson's error bar
    const h = await traceCoverage(hutchinsonEstimator, { probes: 30 }, 40);
    expect(c.meanStderr).toBeLessThan(0.7 * h.meanStderr);
  });

  it('raises a budget below 6 products to 6', async () => {
    const { op } = knownSpectrum();
    const out = await hutchPlusPlusEstimator.run(op, { trace: { probes: 2 } }, new Rng(4));
    expect(out.provenance.settings).toEqual({ probes: 2, products: 6 });
    expect(out.provenance.hvps).toBeLessThanOrEqual(hutchPlusPlusEstimator.products!(op.dim, { trace: { probes: 2 } }));
    expect((await hutchPlusPlusEstimator.run(op, { trace: {} }, new Rng(4))).provenance.settings).toEqual({ probes: 30, products: 30 });
  });
});
