import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { disposeParams, Rng, YIELD_INTERVAL_MS } from '@goldstone/core';
import { spin, tanhMlp, turnsDuring } from '@goldstone/core/test-support';
import { denseMatrix } from './dense-hessian';
import { estimators } from './estimators';
import { lanczos } from './lanczos';
import { curvatureOperator, type LinearOperator } from './linear-operator';
import { powerIteration } from './power-iteration';
import { stochasticLanczosQuadrature } from './spectral-density';
import { symmetryZeroModes } from './spectrum-metrics';
import { symmetricEigenDecomposition, symmetricEigenDecompositionAsync } from './symmetric-eigen';
import { hutchinson, hutchPlusPlus } from './trace-estimators';
import { knownSpectrum } from './test-support';

// Long curvature loops must let the event loop turn (a Ctrl-C handler, a timer) while they run:
// `turnsDuring` counts the turns made during a computation (a loop that never yields makes none).

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * `knownSpectrum()`'s operator, each product taking at least `ms` of synchronous work (a stand-in
 * for a slow Hessian-vector product), so that any run of > YIELD_INTERVAL_MS / ms products is long
 * enough to have to yield.
 */
function slowOperator(ms = 1): LinearOperator {
  const { op } = knownSpectrum();
  return {
    dim: op.dim,
    apply(v) {
      spin(ms);
      return op.apply(v);
    },
    get products() {
      return op.products;
    },
    dispose: () => op.dispose(),
  };
}

const SETTINGS = {
  eigenpairs: { topK: 5, bottomK: 2, maxSteps: 48, tol: 0 },
  trace: { probes: 3 * YIELD_INTERVAL_MS },
  density: { probes: 3, steps: YIELD_INTERVAL_MS },
};

describe('long curvature loops let the event loop turn', () => {
  for (const [name, e] of estimators) {
    it(`the ${name} estimator (${e.kinds.join(', ')})`, async () => {
      const op = slowOperator();
      const asked = Object.fromEntries(e.kinds.map((k) => [k, SETTINGS[k]]));
      const { turns, result } = await turnsDuring(async () => e.run(op, asked, new Rng(1)));
      expect(result.provenance.hvps).toBeGreaterThan(2 * YIELD_INTERVAL_MS);
      expect(turns).toBeGreaterThan(0);
    });
  }

  it('denseMatrix, lanczos, hutchinson, hutch++, SLQ, power iteration and symmetry modes', async () => {
    const runs: Record<string, (op: LinearOperator) => Promise<unknown>> = {
      denseMatrix: (op) => denseMatrix(op),
      lanczos: (op) => lanczos(op, { topK: 3, maxSteps: 48, tol: 0, rng: new Rng(2) }),
      hutchinson: (op) => hutchinson(op, { probes: 3 * YIELD_INTERVAL_MS, rng: new Rng(3) }),
      hutchPlusPlus: (op) => hutchPlusPlus(op, { products: 3 * YIELD_INTERVAL_MS, rng: new Rng(4) }),
      slq: (op) => stochasticLanczosQuadrature(op, { probes: 3, steps: YIELD_INTERVAL_MS, rng: new Rng(5) }),
      powerIteration: (op) => powerIteration(op, { k: 2, tol: 0, maxIterations: 2 * YIELD_INTERVAL_MS, rng: new Rng(6) }),
      symmetryZeroModes: (op) => {
        const rng = new Rng(7);
        const dirs = Array.from({ length: 3 * YIELD_INTERVAL_MS }, () => Float64Array.from(rng.normalArray(op.dim)));
        return symmetryZeroModes(op, dirs, { lambdaMax: 20, epsilon: 1e-3 });
      },
    };
    for (const [name, run] of Object.entries(runs)) {
      const op = slowOperator();
      const { turns } = await turnsDuring(() => run(op));
      expect(op.products, name).toBeGreaterThan(2 * YIELD_INTERVAL_MS);
      expect(turns, name).toBeGreaterThan(0);
    }
  });

  it('the dense eigendecomposition, with the same numbers as without yielding', async () => {
    const n = 800;
    const rng = new Rng(8);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
    const { turns, result } = await turnsDuring(async () => {
      const evd = await symmetricEigenDecompositionAsync(a, n);
      return { values: evd.values, vector: evd.vector(n - 1) };
    });
    const sync = symmetricEigenDecomposition(a, n);
    expect(result.values).toEqual(sync.values);
    expect(result.vector).toEqual(sync.vector(n - 1));
    // (4/3)·800³ ≈ 7·10⁸ flops take longer than YIELD_INTERVAL_MS on any machine
    expect(turns).toBeGreaterThan(0);
  });

  it('an exact Hessian of an MLP: a timer set when it starts fires while it runs', async () => {
    const rng = new Rng(9);
    const model = tanhMlp([4, 12, 8, 2]);
    const params = model.init(rng);
    const x = tf.tensor(rng.normalArray(64 * 4), [64, 4]);
    const y = tf.tensor(rng.normalArray(64 * 2), [64, 2]);
    const op = curvatureOperator({ model, loss: 'mse', params, data: { x, y } });
    try {
      // the stand-in for a SIGINT: a callback queued as the analysis starts
      let interruptedAt = -1;
      setTimeout(() => (interruptedAt = op.products), 0);
      const { turns, result } = await turnsDuring(async () => estimators.get('dense')!.run(op, { eigenpairs: { topK: 3, bottomK: 1 } }, rng));
      expect(result.provenance.hvps).toBe(model.paramCount);
      expect(turns).toBeGreaterThan(0);
      // it ran during the products, not after them
      expect(interruptedAt).toBeGreaterThanOrEqual(0);
      expect(interruptedAt).toBeLessThan(model.paramCount);
    } finally {
      op.dispose();
      tf.dispose([x, y]);
      disposeParams(params);
    }
  });
});
