import { defineEstimator, settingsOf } from './estimator';
import { stochasticLanczosQuadrature } from './spectral-density';

/**
 * `slq`: stochastic Lanczos quadrature (`stochasticLanczosQuadrature()`): per Rademacher probe,
 * `steps` Lanczos steps give a Gauss quadrature rule of the spectral measure. Spectral sums read
 * off the rules (`spectralSum`) carry the standard error across probes.
 */
export const slqEstimator = defineEstimator({
  name: 'slq',
  kinds: ['density'],
  description: 'Stochastic Lanczos quadrature: one Gauss rule per Rademacher probe, `steps` products each; spectral sums with their standard error across probes',
  products: (dim, settings) => {
    const s = settingsOf('slq', settings, 'density');
    return s.probes * Math.min(s.steps, dim);
  },
  run(op, settings, rng) {
    const { probes, steps } = settingsOf('slq', settings, 'density');
    const slq = stochasticLanczosQuadrature(op, { probes, steps, rng });
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
