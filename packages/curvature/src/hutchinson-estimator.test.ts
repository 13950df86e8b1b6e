import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { hutchinsonEstimator } from './hutchinson-estimator';
import { knownSpectrum, traceCoverage } from './test-support';

describe('hutchinson estimator', () => {
  it('covers the exact trace with its standard error, over seeds', async () => {
    const c = await traceCoverage(hutchinsonEstimator, { probes: 30 }, 40);
    expect(c.hvps).toEqual(Array(40).fill(30));
    expect(c.within3).toBeGreaterThanOrEqual(38);
    // the reported error bar is the spread of the estimates across seeds
    expect(c.spreadOverStderr).toBeGreaterThan(0.7);
    expect(c.spreadOverStderr).toBeLessThan(1.4);
  });

  it('is reproducible from its seed and says which it was', async () => {
    const { op } = knownSpectrum();
    const a = await hutchinsonEstimator.run(op, { trace: { probes: 5 } }, new Rng(9));
    const b = await hutchinsonEstimator.run(op, { trace: { probes: 5 } }, new Rng(9));
    expect(a.trace).toEqual(b.trace);
    expect(a.provenance).toMatchObject({ estimator: 'hutchinson', seed: 9, probes: 5, probe: 'rademacher', stderr: a.trace!.stderr });
  });

  it('records the default it used', async () => {
    const { op } = knownSpectrum();
    const out = await hutchinsonEstimator.run(op, { trace: {} }, new Rng(9));
    expect(out.provenance).toMatchObject({ settings: { probes: 30 }, hvps: 30 });
  });
});
