import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAnalysisContext, disposeParams, paramsFromArray } from '@goldstone/core';
import { curvatureOperator } from '@goldstone/curvature';
import type { TaskInstance } from '@goldstone/plugin-api';
import { mlp } from '@goldstone/models';
import { hessian } from './hessian';

interface Fixture {
  dims: number[];
  n: number;
  x: number[];
  y: number[];
  w: number[];
  vectors: number[][];
  hvps: number[][];
  eigenvalues: number[];
  trace: number;
}

// Float64 PyTorch reference: scripts/make-fixtures.py
const fx: Fixture = JSON.parse(readFileSync(new URL('../test/fixtures/tanh-mlp-ce.json', import.meta.url), 'utf8'));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function setting() {
  const [d, h, c] = fx.dims;
  const task: TaskInstance = {
    inputShape: [d],
    outputSize: c,
    outputKind: 'classification',
    loss: 'softmax-cross-entropy',
    splits: {
      train: { n: fx.n, x: Float32Array.from(fx.x), y: Float32Array.from(fx.y), xShape: [d], yShape: [c] },
      test: { n: fx.n, x: Float32Array.from(fx.x), y: Float32Array.from(fx.y), xShape: [d], yShape: [c] },
    },
    metrics: () => ({}),
  };
  const model = mlp.create(mlp.options.parse({ hidden: [h], activation: 'tanh' }), { inputShape: [d], outputSize: c, outputKind: 'classification' });
  const params = paramsFromArray(Float32Array.from(fx.w), model.specs);
  return { task, model, params };
}

const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
};

describe('against float64 PyTorch: tanh MLP, softmax cross-entropy', () => {
  it('gives the same Hessian-vector products', () => {
    const { task, model, params } = setting();
    expect(model.paramCount).toBe(fx.w.length);
    const x = tf.tensor(fx.x, [fx.n, fx.dims[0]]);
    const y = tf.tensor(fx.y, [fx.n, fx.dims[2]]);
    const op = curvatureOperator({ model, loss: task.loss, params, data: { x, y } });
    fx.vectors.forEach((v, i) => expect(relErr(op.apply(Float64Array.from(v)), fx.hvps[i])).toBeLessThan(1e-5));
    op.dispose();
    tf.dispose([x, y]);
    disposeParams(params);
  });

  for (const method of ['exact', 'lanczos'] as const) {
    it(`gives the same top eigenvalues and trace (${method})`, async () => {
      const { task, model, params } = setting();
      const ctx = createAnalysisContext({ task, model, params, seed: 3, backend: 'cpu', analysis: 'hessian' });
      const options = hessian.options.parse({ method, topK: 5, bottomK: 2, bottomSteps: 100, tol: 1e-7, traceProbes: 60, figures: false });
      const { result } = (await hessian.run(ctx, options)) as { result: any };
      expect(result.method).toBe(method);
      for (let i = 0; i < 5; i++) expect(Math.abs(result.topEigenvalues[i] - fx.eigenvalues[i]) / fx.eigenvalues[i]).toBeLessThan(1e-4);
      const last = fx.eigenvalues.length - 1;
      expect(Math.abs(result.bottomEigenvalues[0] - fx.eigenvalues[last]) / fx.eigenvalues[0]).toBeLessThan(1e-4);
      if (method === 'exact') {
        expect(result.trace.stderr).toBe(0);
        expect(Math.abs(result.trace.value - fx.trace) / Math.abs(fx.trace)).toBeLessThan(1e-5);
        expect(relErr(result.spectrum, fx.eigenvalues)).toBeLessThan(1e-5);
      } else {
        expect(result.trace.stderr).toBeGreaterThan(0);
        expect(Math.abs(result.trace.value - fx.trace)).toBeLessThan(3 * result.trace.stderr);
      }
      disposeParams(params);
    });
  }
});
