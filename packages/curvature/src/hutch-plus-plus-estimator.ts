import { defineEstimator, settingsOf } from './estimator';
import { hutchPlusPlus } from './trace-estimators';

/** The product budget Hutch++ gets for `probes` (at least 6: two per third). */
const budget = (probes: number) => Math.max(6, probes);

/**
 * `hutch++`: Hutch++ (`hutchPlusPlus()`) with a budget of max(6, probes) products, split in
 * thirds: a sketch of the dominant range, its exact trace, and Hutchinson on the deflated rest.
 * The standard error is that of the deflated part; much smaller than Hutchinson's when the
 * spectrum decays fast.
 */
export const hutchPlusPlusEstimator = defineEstimator({
  name: 'hutch++',
  kinds: ['trace'],
  description: 'Hutch++ trace: max(6, probes) products in thirds (range sketch, its exact trace, Hutchinson on the rest), standard error of the rest',
  products: (_dim, settings) => budget(settingsOf('hutch++', settings, 'trace').probes),
  run(op, settings, rng) {
    const { probes } = settingsOf('hutch++', settings, 'trace');
    const products = budget(probes);
    const tr = hutchPlusPlus(op, { products, rng });
    return {
      trace: { value: tr.value, stderr: tr.stderr },
      provenance: {
        estimator: 'hutch++',
        settings: { probes, products },
        hvps: tr.products,
        seed: rng.seed,
        stderr: tr.stderr,
        probes: tr.probes,
        probe: 'rademacher',
      },
    };
  },
});
