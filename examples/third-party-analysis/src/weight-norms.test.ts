import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAnalysisContext, paramsFromArray, Rng } from '@goldstone/core';
import { testPlugin, toyLinearModel, toyRegressionTask } from '@goldstone/testkit';
import { weightNorms } from './weight-norms';

// The conformance suite every goldstone plugin passes.
testPlugin(weightNorms, { badOptions: { iterations: 'many' } });

describe('weight-norms', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('matches the norms of known tensors', async () => {
    const task = await toyRegressionTask.create(toyRegressionTask.options.parse({ inputs: 3, outputs: 2 }), { rng: new Rng(1) });
    const model = toyLinearModel.create(toyLinearModel.options.parse({}), { inputShape: [3], outputSize: 2, outputKind: 'regression' });
    // W = [[3, 0], [0, 4], [0, 0]]: Frobenius 5, spectral 4, max |w| 4; b = [1, 1]: Frobenius √2, no spectral norm.
    const params = paramsFromArray(new Float32Array([3, 0, 0, 4, 0, 0, 1, 1]), model.specs);
    const out = await weightNorms.run(createAnalysisContext({ task, model, params, seed: 1, backend: 'cpu' }), { iterations: 200 });
    const [w, b] = (out.result as any).params;
    expect(w.param).toBe('W');
    expect(w.frobenius).toBeCloseTo(5, 5);
    expect(w.maxAbs).toBeCloseTo(4, 6);
    expect(w.spectral).toBeCloseTo(4, 4);
    expect(b.frobenius).toBeCloseTo(Math.SQRT2, 6);
    expect(b.spectral).toBeNull();
    expect((out.result as any).total).toBeCloseTo(Math.sqrt(27), 5);
    expect(out.headline).toEqual([
      { key: 'total', label: expect.any(String), value: (out.result as any).total, exact: true },
      { key: 'maxSpectral', label: expect.any(String), value: w.spectral, exact: true, note: 'power iteration, 200 steps' },
    ]);
    tf.dispose(Object.values(params));
  });
});
