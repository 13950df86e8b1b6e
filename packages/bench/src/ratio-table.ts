import type { KrylovRow } from './krylov';
import type { ToyReport } from './grokking-toy';
import type { HessianReport } from './exact-hessian';
import type { EstimatorReport } from './curvature-estimators';
import type { SeedsReport } from './seeds';
import { ratio } from './stats';

/** A case of the train-step / HVP table, beside PyTorch's median from the same run. */
export interface Row {
  case: string;
  backend: string;
  median_ms: number;
  pytorch_median_ms: number | null;
  /** ours / PyTorch (> 1: slower than PyTorch). */
  ratio_vs_pytorch: number | null;
}

/** One line of the summary: a case, goldstone's time, PyTorch's from the same run, goldstone / PyTorch. */
export interface RatioRow {
  case: string;
  backend: string;
  goldstone_ms: number | null;
  pytorch_ms: number | null;
  /** goldstone / PyTorch wall time (< 1: goldstone is faster); null when a side is missing. */
  ratio: number | null;
  /** What is compared, where it is not one call against one call. */
  note?: string;
}

export interface RatioSources {
  /** Backend the rows are taken from (the first of these that ran each case): wasm, then the others. */
  prefer?: readonly string[];
  table?: readonly Row[];
  krylov?: readonly KrylovRow[];
  toy?: ToyReport;
  hessian?: HessianReport;
  estimators?: EstimatorReport;
  seeds?: SeedsReport;
}

const r3 = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 1000) / 1000);

function pick<T extends { backend: string }>(rows: readonly T[], prefer: readonly string[]): T | undefined {
  for (const b of prefer) {
    const r = rows.find((x) => x.backend === b);
    if (r) return r;
  }
  return rows[0];
}

function row(c: string, backend: string, ours: number | null | undefined, peer: number | null | undefined, note?: string): RatioRow {
  return { case: c, backend, goldstone_ms: r3(ours), pytorch_ms: r3(peer), ratio: ratio(ours ?? undefined, peer ?? undefined), ...(note ? { note } : {}) };
}

/** Every case of the run in one table: the per-call cases, Krylov, the toy, and issue 16's (a)–(c). */
export function ratioTable(src: RatioSources): RatioRow[] {
  const prefer = src.prefer ?? ['wasm', 'tensorflow', 'cpu'];
  const out: RatioRow[] = [];
  const cases = [...new Set((src.table ?? []).map((r) => r.case))];
  for (const c of cases) {
    const r = pick((src.table ?? []).filter((x) => x.case === c), prefer)!;
    out.push(row(c, r.backend, r.median_ms, r.pytorch_median_ms, 'median per call'));
  }
  for (const algorithm of ['lanczos', 'power'] as const) {
    const r = pick((src.krylov ?? []).filter((x) => x.algorithm === algorithm), prefer);
    if (r) out.push(row(`krylov-${algorithm}-top5`, r.backend, r.ms, r.pytorch_ms, `to top-5 at 1e-3 (${r.products ?? '-'} HVPs; PyTorch ${r.pytorch_products ?? '-'})`));
  }
  if (src.toy) {
    const t = src.toy;
    out.push(row('grokking-toy-sweep', t.ours.available ? t.ours.backend : '-', t.ours.available ? t.ours.sweep_wall_ms : null, t.pytorch.available ? t.pytorch.pool.wall_ms : null, 'goldstone sweep --workers 2 vs 2 PyTorch processes, wall'));
  }
  if (src.hessian) {
    const h = src.hessian;
    out.push(row(h.problem.name, h.ours?.backend ?? '-', h.ours?.ms, h.pytorch.available ? h.pytorch.ms : null, 'denseMatrix vs torch.autograd.functional.hessian'));
  }
  if (src.estimators) {
    const e = src.estimators;
    const b = e.ours?.backend ?? '-';
    const base = `mlp-${e.problem.case.sizes.join('-')}-b${e.problem.case.batch}`;
    out.push(row(`slq-${e.problem.slq.probes}x${e.problem.slq.steps}-${base}`, b, e.ours?.slq.ms, e.pytorch.available ? e.pytorch.slq.ms : null, 'estimator registry vs PyHessian-style density loop'));
    out.push(row(`hutchinson-${e.problem.hutchinson.probes}-${base}`, b, e.ours?.hutchinson.ms, e.pytorch.available ? e.pytorch.hutchinson.ms : null, 'estimator registry vs PyHessian-style trace loop'));
  }
  if (src.seeds) {
    const s = src.seeds;
    const n = `seeds-${s.problem.seeds}x${s.problem.steps}`;
    const pool = s.pytorch.available ? s.pytorch.pool : null;
    const ms = (o: SeedsReport['sequential']) => (o.available ? o.ms : null);
    out.push(row(`${n}-sequential`, s.backend, ms(s.sequential), pool?.train_ms, 'one process, in-process time, vs the 2-process pool without start-up'));
    out.push(row(`${n}-vectorised`, s.backend, ms(s.vectorised), pool?.train_ms, s.vectorised.available ? 'trainReplicas, in-process, vs the pool without start-up' : `unavailable: ${s.vectorised.reason}`));
    const per = Math.ceil(s.problem.seeds / s.problem.workers);
    out.push(row(`${n}-${s.problem.workers}-workers`, s.backend, ms(s.workers), pool?.ms, `${s.problem.workers} processes × ${per} seeds each side, wall with start-up`));
  }
  return out;
}

/** The table as aligned text (for stderr at the end of a run). */
export function formatRatioTable(rows: readonly RatioRow[]): string {
  const cells = rows.map((r) => [r.case, r.backend, fmt(r.goldstone_ms), fmt(r.pytorch_ms), r.ratio === null ? '-' : r.ratio.toFixed(2), r.note ?? '']);
  const head = ['case', 'backend', 'goldstone ms', 'PyTorch ms', 'ratio', 'compared'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i >= 2 && i <= 4 ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), ...cells.map(line), 'ratio = goldstone / PyTorch wall time, same run (< 1: goldstone faster)'].join('\n');
}

function fmt(v: number | null): string {
  if (v === null) return '-';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}
