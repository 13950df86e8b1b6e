import { describe, it, expect } from 'vitest';
import { formatRatioTable, ratioTable } from './ratio-table';
import { SECTIONS, sectionsFromEnv, type Row } from './run';
import type { KrylovRow } from './krylov';
import type { HessianReport } from './exact-hessian';
import type { EstimatorReport } from './curvature-estimators';
import type { SeedsReport, SeedsRun } from './seeds';
import { estimatorProblem } from './curvature-estimators';
import { hessianProblem } from './exact-hessian';
import { seedsProblem } from './seeds';

const run = (ms: number, extra: Partial<SeedsRun> = {}): SeedsRun => ({ available: true, ms, seeds_per_s: 16 / (ms / 1000), seeds: [], ...extra });

describe('BENCH_ONLY', () => {
  it('unset or empty: every section; a comma-separated list picks some, in run order; unknown names are an error', () => {
    expect(sectionsFromEnv(undefined)).toEqual([...SECTIONS]);
    expect(sectionsFromEnv('')).toEqual([...SECTIONS]);
    expect(sectionsFromEnv('grokking-toy')).toEqual(['grokking-toy']);
    expect(sectionsFromEnv('seeds, exact-hessian')).toEqual(['exact-hessian', 'seeds']);
    expect(() => sectionsFromEnv('seeds,hessian')).toThrow(/BENCH_ONLY: expected a comma-separated list of cases, krylov/);
  });
});

describe('ratioTable', () => {
  const table: Row[] = [
    { case: 'hvp-mlp-64-192-192-10', backend: 'cpu', median_ms: 120, pytorch_median_ms: 2, ratio_vs_pytorch: 60 },
    { case: 'hvp-mlp-64-192-192-10', backend: 'wasm', median_ms: 7, pytorch_median_ms: 2, ratio_vs_pytorch: 3.5 },
  ];
  const krylov: KrylovRow[] = [
    { backend: 'cpu', algorithm: 'lanczos', products: 23, ms: 700, pytorch_products: 26, pytorch_ms: 14, time_ratio_vs_pytorch: 50 },
    { backend: 'wasm', algorithm: 'lanczos', products: 23, ms: 110, pytorch_products: 26, pytorch_ms: 14, time_ratio_vs_pytorch: 7.86 },
  ];
  const hp = hessianProblem(false);
  const hessian = {
    problem: { ...hp, params: 1208, loss: 'mse' },
    ours: { backend: 'wasm', params: 1208, products: 1208, ms: 18_000, ms_per_product: 14.9, asymmetry: 1e-7, max_abs: 1, trace: 3 },
    pytorch: { available: true, torch: '1.13', threads: 2, ms: 1_200, vectorized_ms: 300, loss_abs_diff: 0, rel_max_diff: 1e-7, max_abs: 1 },
    ratio_vs_pytorch: 15,
  } satisfies HessianReport;
  const ep = estimatorProblem(false);
  const estimators = {
    problem: { ...ep, params: 51466, loss: 'ce' },
    ours: { backend: 'wasm', params: 51466, slq: { ms: 8000, products: 800, ms_per_product: 10, trace: 1, trace_stderr: 0.1 }, hutchinson: { ms: 1000, products: 100, ms_per_product: 10, trace: 1, trace_stderr: 0.1 } },
    pytorch: { available: false, reason: 'no torch' },
    ratios: { slq: null, hutchinson: null },
  } satisfies EstimatorReport;
  const sp = seedsProblem(false);
  const seeds: SeedsReport = {
    problem: { ...sp, epochs: 30, params: 808, protocol: '' },
    backend: 'wasm',
    sequential: run(12_000),
    vectorised: { available: false, reason: 'no trainReplicas' },
    workers: run(8_000, { train_ms: 7_000, processes: 2 }),
    pytorch: { available: true, torch: '1.13', pool: { ...run(4_000, { train_ms: 2_500, processes: 2 }), threads_per_process: 1 }, single: { ...run(4_500), threads: 1 } },
    ratios: { sequential: 4.8, vectorised: null, workers: 2 },
  };

  it('one row per case from the wasm backend, with the ratio goldstone / PyTorch and what is compared', () => {
    const rows = ratioTable({ table, krylov, hessian, estimators, seeds });
    expect(rows.map((r) => r.case)).toEqual([
      'hvp-mlp-64-192-192-10',
      'krylov-lanczos-top5',
      'exact-hessian-mlp-16-24-24-8-n2048',
      'slq-10x80-mlp-64-192-192-10-b128',
      'hutchinson-100-mlp-64-192-192-10-b128',
      'seeds-16x300-sequential',
      'seeds-16x300-vectorised',
      'seeds-16x300-2-workers',
    ]);
    expect(rows.every((r) => r.backend === 'wasm')).toBe(true);
    expect(rows[0]).toMatchObject({ goldstone_ms: 7, pytorch_ms: 2, ratio: 3.5 });
    expect(rows[2]).toMatchObject({ goldstone_ms: 18_000, pytorch_ms: 1_200, ratio: 15 });
    expect(rows[3]).toMatchObject({ goldstone_ms: 8000, pytorch_ms: null, ratio: null });
    // in-process ways against the pool's in-process time, the worker processes against its wall time
    expect(rows[5]).toMatchObject({ goldstone_ms: 12_000, pytorch_ms: 2_500, ratio: 4.8 });
    expect(rows[6]).toMatchObject({ goldstone_ms: null, ratio: null, note: 'unavailable: no trainReplicas' });
    expect(rows[7]).toMatchObject({ goldstone_ms: 8_000, pytorch_ms: 4_000, ratio: 2 });
    expect(ratioTable({ table, prefer: ['cpu'] })[0]).toMatchObject({ backend: 'cpu', ratio: 60 });
    expect(ratioTable({})).toEqual([]);
  });

  it('formats as aligned text with a header and the reading rule', () => {
    const text = formatRatioTable(ratioTable({ table, hessian }));
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^case\s+backend\s+goldstone ms\s+PyTorch ms\s+ratio\s+compared$/);
    expect(lines[1]).toMatch(/^hvp-mlp-64-192-192-10\s+wasm\s+7\.00\s+2\.00\s+3\.50\s+median per call$/);
    expect(lines[2]).toMatch(/18000\s+1200\s+15\.00/);
    expect(lines.at(-1)).toMatch(/< 1: goldstone faster/);
  });
});
