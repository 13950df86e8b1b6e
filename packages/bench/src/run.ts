import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend, backendInfo, BackendUnavailableError, installWasmKernels, uninstallWasmKernels, type BackendName } from '@goldstone/core';
import { CASES, prepareCase, type BenchCase } from './cases';
import { summarize, timeIt, ratio, type Summary } from './stats';
import { runTorch, type TorchResult } from './torch';
import {
  krylovProblem,
  krylovTable,
  runKrylov,
  runTorchKrylov,
  type KrylovBackendRun,
  type KrylovPeerInput,
  type KrylovProblem,
  type KrylovReference,
  type KrylovRow,
  type TorchKrylovResult,
} from './krylov';
import { runToy, toyProblem, type ToyReport } from './grokking-toy';
import type { HessianReport } from './exact-hessian';
import type { EstimatorReport } from './curvature-estimators';
import type { SeedsReport } from './seeds';
import { estimatorSection, hessianSection, seedsSection } from './sections';
import { formatRatioTable, ratioTable, type RatioRow, type Row } from './ratio-table';

export interface BenchSettings {
  quick: boolean;
  warmup: number;
  reps: number;
  seed: number;
}

export interface BackendRun {
  /** `cpu`, `wasm`, `tensorflow`, or `wasm-stock` (wasm without goldstone's kernel fixes). */
  backend: string;
  fixes: string[];
  cases: Record<string, Summary & { params: number }>;
}

export type { Row } from './ratio-table';

/** The parts of a run, in the order they run; `BENCH_ONLY` (comma-separated) picks some. */
export const SECTIONS = ['cases', 'krylov', 'exact-hessian', 'curvature-estimators', 'seeds', 'grokking-toy'] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchReport {
  machine: Record<string, string | number>;
  settings: BenchSettings & { dtype: 'float32'; loss: string; optimizer: string; timing: string };
  /** The sections this run measured (all, unless `BENCH_ONLY` chose some). */
  sections: Section[];
  cases: BenchCase[];
  backends: BackendRun[];
  unavailable: Array<{ backend: string; reason: string }>;
  pytorch?: TorchResult;
  table?: Row[];
  krylov?: KrylovReport;
  /** Issue 16 (a): the exact Hessian of the quickstart model against torch.autograd.functional.hessian. */
  'exact-hessian'?: HessianReport;
  /** Issue 16 (b): SLQ and Hutchinson on the 51k model against PyHessian's loops. */
  'curvature-estimators'?: EstimatorReport;
  /** Issue 16 (c): 16 seeds of a tiny model, seeds per second, against PyTorch one process per core. */
  seeds?: SeedsReport;
  /** The grokking toy (docs/grokking-toy.md): phase-map cells through `goldstone sweep --workers 2` and PyTorch. */
  'grokking-toy'?: ToyReport;
  /** Every measured case in one table: goldstone, PyTorch, goldstone / PyTorch (also printed to stderr at the end). */
  ratios: RatioRow[];
}

/** The curvature case family: top-k eigenvalues by Lanczos and by deflated power iteration. */
export interface KrylovReport {
  problem: KrylovProblem & { params: number; loss: string };
  /** The top-k eigenvalues every run is measured against, and where they were computed. */
  reference: KrylovReference | null;
  backends: KrylovBackendRun[];
  pytorch: TorchKrylovResult;
  table: KrylovRow[];
}

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${v}"`);
  return n;
}

export function settingsFromEnv(): BenchSettings {
  const quick = !['', '0', undefined].includes(process.env.BENCH_QUICK);
  return {
    quick,
    warmup: envInt('BENCH_WARMUP', quick ? 1 : 10),
    reps: envInt('BENCH_REPS', quick ? 3 : 50),
    seed: envInt('BENCH_SEED', 0),
  };
}

/** The sections `BENCH_ONLY` names (comma-separated), or all of them when it is unset or empty. */
export function sectionsFromEnv(value: string | undefined = process.env.BENCH_ONLY): Section[] {
  if (value === undefined || value.trim() === '') return [...SECTIONS];
  const names = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
  const unknown = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: expected a comma-separated list of ${SECTIONS.join(', ')} (or unset), got "${value}"`);
  return SECTIONS.filter((n) => names.includes(n));
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

function runCases(label: string, cases: readonly BenchCase[], s: BenchSettings): BackendRun['cases'] {
  const out: BackendRun['cases'] = {};
  for (const c of cases) {
    const prepared = prepareCase(c, new Rng(s.seed).split(c.name));
    for (let i = 0; i < Math.max(1, s.warmup); i++) prepared.run(); // also creates the optimiser's state
    const before = tf.memory().numTensors;
    const samples = timeIt(() => void prepared.run(), 0, s.reps);
    if (tf.memory().numTensors !== before) throw new Error(`${c.name} on ${label} leaked tensors`);
    prepared.dispose();
    out[c.name] = { ...summarize(samples), params: prepared.params };
    progress(`bench: ${label.padEnd(10)} ${c.name.padEnd(26)} median ${out[c.name].median_ms.toFixed(2)} ms`);
  }
  return out;
}

/** Initialise the backend the issue-16 sections run on: wasm (what users get), else cpu. */
async function sectionBackend(): Promise<BackendName> {
  try {
    await initBackend('wasm', { log: progress });
    return 'wasm';
  } catch (err) {
    if (!(err instanceof BackendUnavailableError)) throw err;
    progress(`bench: wasm unavailable (${err.detail}); the issue-16 sections run on cpu`);
    await initBackend('cpu', { log: progress });
    return 'cpu';
  }
}

/**
 * Run the chosen sections (default all): the per-call cases and Krylov on every available backend,
 * the issue-16 sections on wasm, each beside its PyTorch peer; return the report.
 */
export async function runBench(s: BenchSettings, sections: readonly Section[] = SECTIONS): Promise<BenchReport> {
  const want = (x: Section) => sections.includes(x);
  const backends: BackendRun[] = [];
  const unavailable: BenchReport['unavailable'] = [];
  const problem = krylovProblem(s.quick);
  const krylovRuns: KrylovBackendRun[] = [];
  let shared: { reference: KrylovReference; peer: KrylovPeerInput } | null = null;
  const report: Partial<BenchReport> = {};
  const python = process.env.BENCH_PYTHON;
  if (want('cases') || want('krylov')) {
    for (const name of ['cpu', 'wasm', 'tensorflow'] as BackendName[]) {
      try {
        await initBackend(name, { log: progress });
      } catch (err) {
        if (!(err instanceof BackendUnavailableError)) throw err;
        unavailable.push({ backend: name, reason: err.message });
        progress(`bench: ${name} unavailable: ${err.detail}`);
        continue;
      }
      if (want('cases')) backends.push({ backend: name, fixes: backendInfo().fixes, cases: runCases(name, CASES, s) });
      if (want('krylov')) {
        const k = await runKrylov(problem, s.seed, name, shared ?? undefined);
        shared ??= { reference: k.reference, peer: k.peer };
        krylovRuns.push(k.run);
        progress(
          `bench: ${name.padEnd(10)} ${problem.name}: lanczos ${k.run.lanczos.products ?? '-'} HVPs ${k.run.lanczos.ms?.toFixed(0) ?? '-'} ms, ` +
            `power ${k.run.power.products ?? '-'} HVPs ${k.run.power.ms?.toFixed(0) ?? '-'} ms`,
        );
      }
      if (want('cases') && name === 'wasm' && !s.quick) {
        // The same backend without the kernel fixes, to show what they buy (training cases only).
        uninstallWasmKernels();
        try {
          backends.push({ backend: 'wasm-stock', fixes: [], cases: runCases('wasm-stock', CASES.filter((c) => c.kind === 'train'), s) });
        } finally {
          installWasmKernels();
        }
      }
    }
  }
  if (want('exact-hessian') || want('curvature-estimators') || want('seeds')) {
    const backend = await sectionBackend();
    const ss = { quick: s.quick, seed: s.seed, python, log: progress };
    if (want('exact-hessian')) report['exact-hessian'] = await hessianSection(ss, backend);
    if (want('curvature-estimators')) report['curvature-estimators'] = await estimatorSection(ss, backend);
    if (want('seeds')) report.seeds = await seedsSection(ss, backend);
  }
  if (want('cases')) {
    progress('bench: PyTorch peer');
    const pytorch = runTorch({ python, warmup: s.warmup, reps: s.reps, quick: s.quick });
    if (!pytorch.available) progress(`bench: ${pytorch.reason}`);
    report.pytorch = pytorch;
    report.table = table(backends, pytorch);
  }
  if (want('krylov')) {
    progress('bench: PyTorch peer, krylov');
    const torchKrylov: TorchKrylovResult = shared ? runTorchKrylov(shared.peer, { python }) : { available: false, reason: 'no tfjs backend ran the problem' };
    if (!torchKrylov.available) progress(`bench: ${torchKrylov.reason}`);
    report.krylov = {
      problem: {
        ...problem,
        params: shared?.peer.w.length ?? 0,
        loss: 'softmax-cross-entropy, tanh MLP (@goldstone/models mlp), Hessian by double backprop (float32)',
      },
      reference: shared?.reference ?? null,
      backends: krylovRuns,
      pytorch: torchKrylov,
      table: krylovTable(krylovRuns, torchKrylov),
    };
  }
  if (want('grokking-toy')) report['grokking-toy'] = runToy(toyProblem(s.quick), { python, log: progress });
  const ratios = ratioTable({
    table: report.table,
    krylov: report.krylov?.table,
    toy: report['grokking-toy'],
    hessian: report['exact-hessian'],
    estimators: report['curvature-estimators'],
    seeds: report.seeds,
  });
  return {
    machine: machineInfo(),
    settings: {
      ...s,
      dtype: 'float32',
      loss: 'softmax-cross-entropy (@goldstone/core lossFunction; torch.nn.CrossEntropyLoss)',
      optimizer: 'adam lr 1e-3 (@goldstone/core createOptimizer; torch.optim.Adam)',
      timing: `median of ${s.reps} after ${s.warmup} warm-up calls, wall clock, result read back to the host`,
    },
    sections: [...sections],
    cases: want('cases') ? [...CASES] : [],
    backends,
    unavailable,
    ...report,
    ratios,
  };
}

function machineInfo(): Record<string, string | number> {
  return {
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    loadavg1: Math.round(os.loadavg()[0] * 100) / 100,
    tfjs: tf.version_core,
  };
}

/** Only the grokking-toy section (machine, settings and the section), in-process; `BENCH_ONLY=grokking-toy` prints `runBench` of that section. */
export function runToyOnly(s: BenchSettings): { machine: Record<string, string | number>; settings: BenchSettings; 'grokking-toy': ToyReport } {
  const toy = runToy(toyProblem(s.quick), { python: process.env.BENCH_PYTHON, log: progress });
  return { machine: machineInfo(), settings: s, 'grokking-toy': toy };
}

/** One row per (case, backend) with the PyTorch median of the same run and the ratio. */
export function table(backends: readonly BackendRun[], pytorch: TorchResult): Row[] {
  const rows: Row[] = [];
  for (const c of CASES) {
    const peer = pytorch.available ? pytorch.cases[c.name]?.median_ms : undefined;
    for (const b of backends) {
      const ours = b.cases[c.name];
      if (!ours) continue;
      rows.push({
        case: c.name,
        backend: b.backend,
        median_ms: Math.round(ours.median_ms * 1000) / 1000,
        pytorch_median_ms: peer === undefined ? null : Math.round(peer * 1000) / 1000,
        ratio_vs_pytorch: ratio(ours.median_ms, peer),
      });
    }
  }
  return rows;
}

export async function main(): Promise<void> {
  const sections = sectionsFromEnv();
  const report = await runBench(settingsFromEnv(), sections);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  progress(`\n${formatRatioTable(report.ratios)}`);
}
