import { curvatureOperator, lanczos, type DataBatch } from '@goldstone/curvature';
import type { LossName, ModelInstance, Params, Rng } from '@goldstone/plugin-api';

/** The top eigenpairs of the Hessian, as slice directions. */
export interface HessianDirections {
  /** Unit eigenvectors, by decreasing eigenvalue (float32 copies). */
  vectors: Float32Array[];
  values: number[];
  residuals: number[];
  converged: boolean;
  /** Hessian-vector products used. */
  products: number;
  steps: number;
}

/**
 * The top `count` eigenpairs of the Hessian of the mean loss over `data` at `params`, by Lanczos
 * with full reorthogonalisation (`@goldstone/curvature`) on the model's curvature operator (block
 * products where the model has them). Each vector's sign is fixed: its largest component positive.
 */
export async function hessianDirections(
  model: ModelInstance,
  loss: LossName,
  params: Params,
  data: DataBatch,
  opts: { count: number; maxSteps: number; tol: number; rng: Rng },
): Promise<HessianDirections> {
  const op = curvatureOperator({ model, loss, params, data, kind: 'hessian' });
  try {
    const r = await lanczos(op, { topK: opts.count, maxSteps: Math.min(op.dim, opts.maxSteps), tol: opts.tol, vectors: true, rng: opts.rng });
    const vectors = r.top.map((p) => {
      const v = p.vector!;
      let arg = 0;
      for (let i = 1; i < v.length; i++) if (Math.abs(v[i]) > Math.abs(v[arg])) arg = i;
      const sign = v[arg] < 0 ? -1 : 1;
      return Float32Array.from(v, (x) => sign * x);
    });
    return { vectors, values: r.top.map((p) => p.value), residuals: r.top.map((p) => p.residual), converged: r.topConverged, products: op.products, steps: r.steps };
  } finally {
    op.dispose();
  }
}
