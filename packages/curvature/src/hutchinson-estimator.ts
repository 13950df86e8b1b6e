import { defineEstimator, settingsOf } from './estimator';
import { hutchinson } from './trace-estimators';

/** Probes when the settings give none. */
const PROBES = 30;

/**
 * `hutchinson`: tr(A) ≈ mean of zᵀAz over Rademacher probes z (`hutchinson()`), one product per
 * probe (default 30 probes), with the sample standard error.
 */
export const hutchinsonEstimator = defineEstimator({
  name: 'hutchinson',
  kinds: ['trace'],
  description: 'Hutchinson trace with Rademacher probes: one product per probe, sample standard error',
  products: (_dim, settings) => settingsOf('hutchinson', settings, 'trace').probes ?? PROBES,
  async run(op, settings, rng) {
    const { probes = PROBES } = settingsOf('hutchinson', settings, 'trace');
    const tr = await hutchinson(op, { probes, rng });
    return {
      trace: { value: tr.value, stderr: tr.stderr },
      provenance: {
        estimator: 'hutchinson',
        settings: { probes },
        hvps: tr.products,
        blocks: tr.blocks,
        seed: rng.seed,
        stderr: tr.stderr,
        probes: tr.probes,
        probe: 'rademacher',
      },
    };
  },
});
