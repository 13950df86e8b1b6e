import { defineEstimator, settingsOf } from './estimator';
import { stochasticLanczosQuadrature } from './spectral-density';

/** Probes and steps per probe when the settings give none. */
const PROBES = 5;
const STEPS = 40;

/**
 * `slq`: stochastic Lanczos quadrature (`stochasticLanczosQuadrature()`): per Rademacher probe
 * (default 5 probes), `steps` Lanczos steps (default 40) give a Gauss quadrature rule of the
 * spectral measure. Spectral sums read off the rules (`spectralSum`) carry the standard error
 * across probes; the metrics of spectrum-metrics.ts add an interval with each rule's
 * Chebyshev–Markov–Stieltjes quadrature bracket (`quadrature-bounds.ts`). The probes run in
 * lockstep, one block product per step over those still running (`blocks` in the provenance).
 */
export const slqEstimator = defineEstimator({
  name: 'slq',
  kinds: ['density'],
  description: 'Stochastic Lanczos quadrature: one Gauss rule per Rademacher probe, `steps` products each; spectral sums with their standard error across probes and intervals that add the quadrature bracket',
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
        blocks: slq.blocks,
        seed: rng.seed,
        probes,
        steps: slq.steps,
        probe: 'rademacher',
        // rules whose Krylov space became invariant are the probe's measure itself (no quadrature error)
        exactProbes: slq.quadratures.filter((q) => q.exact).length,
        intervals: 'Chebyshev–Markov–Stieltjes bracket per probe + Student-t Monte-Carlo error across probes',
      },
    };
  },
});
