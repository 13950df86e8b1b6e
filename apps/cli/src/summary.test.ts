import { describe, expect, it } from 'vitest';
import type { AnalysisResult } from '@goldstone/plugin-api';
import { headlineNumbers, runSummary } from './summary';

const provenance = { analysis: 'x', version: '0', options: {} } as unknown as AnalysisResult['provenance'];

describe('end-of-run summary', () => {
  it('shows held-out metrics, the worst out-of-distribution split and each analysis headline', () => {
    const lines = runSummary({
      outputKind: 'regression',
      final: { 'train.mse': 0.5, 'test.mse': 0.75, 'test.loss': 0.75, 'ood-a.mse': 1.5, 'ood-b.mse': 2.25, 'ood-b.loss': 2.25, 'ood-c.mse': null },
      analyses: {
        hessian: { result: { method: 'exact', headline: { topEigenvalues: [{ value: 3.5 }, { value: 1 }], trace: { value: 15.25, stderr: 0.5 }, nearZeroModes: { value: 2, stderr: 0 } } }, provenance },
        'weight-norms': { result: { total: 4.0625, params: [1, 2] }, provenance },
        declared: {
          result: {},
          headline: [
            { key: 'dim', label: 'N_eff', value: 3.25, interval: [2.875, 3.625], level: 0.95 },
            { key: 'drop', label: 'PGD drop', value: null, note: 'not measured' },
            { key: 'time', label: 'wall time', value: 2, exact: true, unit: 's' },
          ],
          provenance,
        },
      },
    });
    expect(lines).toEqual([
      'held out   test.mse=0.75  test.loss=0.75  (train.mse=0.5)',
      'worst OOD  ood-b: mse=2.25 (of 2 out-of-distribution splits)',
      'hessian    topEigenvalues[0]=3.5  trace=15.25±0.5  nearZeroModes=2',
      'weight-norms total=4.063',
      'declared   dim=3.25 [2.875, 3.625]  drop=—  time=2 s',
    ]);
  });

  it('takes the lowest accuracy as the worst split of a classifier, and says nothing it does not know', () => {
    const lines = runSummary({ outputKind: 'classification', final: { 'test.accuracy': 0.9, 'shifted.accuracy': 0.6, 'rotated.accuracy': 0.8 }, analyses: {} });
    expect(lines).toEqual(['held out   test.accuracy=0.9', 'worst OOD  shifted: accuracy=0.6 (of 2 out-of-distribution splits)']);
    expect(runSummary({ outputKind: 'binary', final: {}, analyses: {} })).toEqual([]);
    expect(headlineNumbers({ result: [1, 2] })).toEqual([]);
    expect(headlineNumbers({ result: { a: 1, b: 'x', c: 2, d: 3, e: 4, f: 5 } }).map((h) => h.key)).toEqual(['a', 'c', 'd', 'e']);
  });
});
