import { defineEstimator, settingsOf } from './estimator';
import { stochasticLanczosQuadrature } from './spectral-density';

/** Probes and steps per probe when the settings give none. */
const PROBES = 5;
const STEPS = 40;

/**
 * `slq`: stochastic Lanczos quadrature (`stochasticLanczosQuadrature()`): per Rademacher probe
 * (default 5 probes), `steps` Lanczos steps (default 40) give a Gauss quadrature rule of the
 * spectral measure. Spectral sums read off the rules (`spectralSum`) carry the standard error
 * across probes.
 */
export const slqEstimator = defineEstimator({
  name: 'slq',
  kinds: ['density'],
  description: 'Stochastic Lanczos quadrature: one Gauss rule per Rademacher probe, `steps` products each; spectral sums with their standard error across probes',
  products: (dim, settings) => {
    const { probes = PROBES, steps = STEPS } = settingsOf('slq', settings, 'density');
    return probes * Math.min(steps, dim);
  },
  async run(op, settings, rng) {
    const { probes = PROBES, steps = STEPS } = settingsOf('slq', settings, 'density');
    const slq = await stochasticLanczosQuadrature(op, { probes, steps, rng });
    return {
      density: { quadratures: slq.quadratures },
      provenance: {
        estimator: 'slq',
        settings: { probes, steps },
        hvps: slq.products,
        seed: rng.seed,
        probes,
        steps: slq.steps,
        probe: 'rademacher',
      },
    };
  },
});
