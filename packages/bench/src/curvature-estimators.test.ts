import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '@goldstone/core';
import { denseMatrix } from '@goldstone/curvature';
import { PYHESSIAN_SCRIPT, estimatorProblem, runEstimators, runTorchEstimators, setupEstimators, type EstimatorProblem } from './curvature-estimators';

const torchAvailable = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

describe('the SLQ / Hutchinson problem', () => {
  it('full: the 51k model at batch 128, SLQ 10 probes × 80 steps, Hutchinson 100 probes; quick: fewer probes', () => {
    const p = estimatorProblem(false);
    expect(p.case).toMatchObject({ sizes: [64, 192, 192, 10], batch: 128 });
    expect([p.slq, p.hutchinson]).toEqual([{ probes: 10, steps: 80 }, { probes: 100 }]);
    const q = estimatorProblem(true);
    expect(q.slq.probes * q.slq.steps + q.hutchinson.probes).toBeLessThan(100);
  });
  it('the PyTorch peer is committed where the runner looks for it', () => {
    expect(PYHESSIAN_SCRIPT.endsWith('packages/bench/pyhessian_bench.py')).toBe(true);
    expect(existsSync(PYHESSIAN_SCRIPT)).toBe(true);
  });
});

describe('runEstimators on a small problem (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  const small: EstimatorProblem = {
    name: 'small',
    case: { name: 'small', kind: 'hvp', sizes: [4, 6, 3], batch: 32 },
    slq: { probes: 6, steps: 12 },
    hutchinson: { probes: 100 },
    reps: 1,
  };
  const denseTrace = async (seed: number) => {
    const { op } = setupEstimators(small, new Rng(seed).split(small.name).split('case'));
    const m = await denseMatrix(op);
    op.dispose();
    let t = 0;
    for (let i = 0; i < m.n; i++) t += m.values[i * m.n + i];
    return t;
  };

  it("Hutchinson's trace and SLQ's trace cover the dense Hessian's trace; products as configured; no leaks", async () => {
    const before = tf.memory().numTensors;
    const tr = await denseTrace(0);
    const { run, peer } = await runEstimators(small, 0, 'cpu');
    expect(tf.memory().numTensors).toBe(before);
    const n = 4 * 6 + 6 + 6 * 3 + 3;
    expect(run.params).toBe(n);
    expect(run.hutchinson.products).toBe(100);
    expect(run.slq.products).toBe(6 * 12);
    expect(run.hutchinson.trace_stderr).toBeGreaterThan(0);
    expect(Math.abs(run.hutchinson.trace - tr)).toBeLessThanOrEqual(4 * run.hutchinson.trace_stderr);
    expect(Math.abs(run.slq.trace - tr)).toBeLessThanOrEqual(4 * run.slq.trace_stderr + 1e-6 * Math.abs(tr));
    expect(run.slq.top_node).toBeGreaterThan(0);
    expect([peer.w.length, peer.probe.length, peer.probe_hv.length]).toEqual([n, n, n]);
  });

  it.skipIf(!torchAvailable)(
    "the PyHessian-style peer rebuilds the same Hessian, and its estimates cover the same trace",
    async () => {
      const tr = await denseTrace(2);
      const { peer } = await runEstimators(small, 2, 'cpu');
      const t = runTorchEstimators(peer, { threads: 1 });
      if (!t.available) throw new Error(t.reason);
      expect(t.check.hvp_rel_diff).toBeLessThan(1e-4);
      expect([t.hutchinson.products, t.slq.products]).toEqual([100, 6 * 12]);
      expect(Math.abs(t.hutchinson.trace - tr)).toBeLessThanOrEqual(4 * t.hutchinson.trace_stderr);
      expect(Math.abs(t.slq.trace - tr)).toBeLessThanOrEqual(4 * t.slq.trace_stderr + 1e-4 * Math.abs(tr));
    },
    120_000,
  );

  it('the peer is reported unavailable when the interpreter is missing', () => {
    expect(runTorchEstimators({} as never, { python: '/nonexistent/python3' }).available).toBe(false);
  });
});
