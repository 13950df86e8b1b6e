import * as tf from '@tensorflow/tfjs-core';
import { API_VERSION, defineAnalysis, z, type Json } from '@goldstone/plugin-api';

/** Largest singular value of a matrix by power iteration on WᵀW (deterministic start). */
function spectralNorm(w: tf.Tensor2D, iterations: number): number {
  return tf.tidy(() => {
    let v: tf.Tensor2D = tf.div(tf.ones([w.shape[1], 1]), Math.sqrt(w.shape[1]));
    for (let i = 0; i < iterations; i++) {
      const u = tf.matMul(w, v);
      const next = tf.matMul(w, u, true, false);
      v = tf.div(next, tf.add(tf.norm(next), 1e-30));
    }
    return tf.norm(tf.matMul(w, v)).dataSync()[0];
  });
}

/**
 * Per-parameter weight norms of the trained model: Frobenius norm, largest absolute entry and, for
 * matrices, the spectral norm. A small example of an analysis written outside the @goldstone scope.
 */
export const weightNorms = defineAnalysis({
  name: 'weight-norms',
  apiVersion: API_VERSION,
  description: 'Frobenius, max-abs and spectral norms of every parameter tensor (third-party example)',
  options: z.strictObject({
    /** Power-iteration steps for spectral norms. */
    iterations: z.number().int().min(1).max(1000).default(50).describe('Power-iteration steps for spectral norms'),
  }),
  async run(ctx, options) {
    const rows: { param: string; shape: number[]; frobenius: number; maxAbs: number; spectral: number | null }[] = [];
    for (const spec of ctx.model.specs) {
      const t = ctx.params[spec.name];
      const [frobenius, maxAbs] = tf.tidy(() => [tf.norm(t).dataSync()[0], tf.max(tf.abs(t)).dataSync()[0]]);
      const spectral = t.rank === 2 ? spectralNorm(t as tf.Tensor2D, options.iterations) : null;
      rows.push({ param: spec.name, shape: spec.shape, frobenius, maxAbs, spectral });
    }
    const total = Math.sqrt(rows.reduce((s, r) => s + r.frobenius ** 2, 0));
    const spectral = rows.flatMap((r) => (r.spectral === null ? [] : [r.spectral]));
    return {
      result: { total, params: rows } as unknown as Json,
      // the numbers the run summary, `goldstone compare` and the report card show first, each
      // with its error bar: these are computed from the weights, with no sampling, so exact
      headline: [
        { key: 'total', label: 'Frobenius norm of all parameters', value: total, exact: true },
        spectral.length > 0
          ? { key: 'maxSpectral', label: 'largest spectral norm of a weight matrix', value: Math.max(...spectral), exact: true, note: `power iteration, ${options.iterations} steps` }
          : { key: 'maxSpectral', label: 'largest spectral norm of a weight matrix', value: null, note: 'the model has no weight matrix' },
      ],
      figures: [
        {
          name: 'norms',
          title: 'Frobenius norm per parameter tensor',
          spec: {
            $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
            data: { values: rows.map((r) => ({ param: r.param, frobenius: r.frobenius })) },
            mark: 'bar',
            encoding: {
              x: { field: 'param', type: 'nominal', sort: null, title: 'parameter' },
              y: { field: 'frobenius', type: 'quantitative', title: '‖W‖_F' },
            },
          },
        },
      ],
      provenance: { analysis: 'weight-norms', seed: ctx.seed, backend: ctx.backend, iterations: options.iterations },
    };
  },
});
