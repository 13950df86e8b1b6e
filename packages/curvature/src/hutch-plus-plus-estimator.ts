import { defineEstimator, settingsOf, type EstimatorSettings } from './estimator';
import { hutchPlusPlus } from './trace-estimators';

/** Probes (the product budget) when the settings give none. */
const PROBES = 30;

/** The products Hutch++ gets for the settings: max(6, probes), two per third at least. */
const budget = (settings: EstimatorSettings) => Math.max(6, settingsOf('hutch++', settings, 'trace').probes ?? PROBES);

/**
 * `hutch++`: Hutch++ (`hutchPlusPlus()`) with a budget of max(6, probes) products (default 30),
 * split in thirds: a sketch of the dominant range, its exact trace, and Hutchinson on the
 * deflated rest. The standard error is that of the deflated part; much smaller than
 * Hutchinson's when the spectrum decays fast.
 */
export const hutchPlusPlusEstimator = defineEstimator({
  name: 'hutch++',
  kinds: ['trace'],
  description: 'Hutch++ trace: max(6, probes) products in thirds (range sketch, its exact trace, Hutchinson on the rest), standard error of the rest',
  products: (_dim, settings) => budget(settings),
  async run(op, settings, rng) {
    const { probes = PROBES } = settingsOf('hutch++', settings, 'trace');
    const products = budget(settings);
    const tr = await hutchPlusPlus(op, { products, rng });
    return {
      trace: { value: tr.value, stderr: tr.stderr },
      provenance: {
        estimator: 'hutch++',
        settings: { probes, products },
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
