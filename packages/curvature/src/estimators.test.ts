import { describe, expect, it } from 'vitest';
import { Rng, yieldToEventLoop } from '@goldstone/core';
import type { Rng as RngLike } from '@goldstone/plugin-api';
import { denseEstimator } from './dense-estimator';
import { defineEstimator, ESTIMATOR_KINDS, settingsOf, type Estimator, type EstimatorKind, type EstimatorSettings } from './estimator';
import { estimator, estimatorNames, estimators, registerEstimator } from './estimators';
import { hutchinsonEstimator } from './hutchinson-estimator';
import { dot, type LinearOperator } from './linear-operator';
import { spectralSum } from './spectral-density';
import { knownSpectrum } from './test-support';

/** The settings each kind is checked with. */
const SETTINGS: Required<EstimatorSettings> = {
  eigenpairs: { topK: 5, bottomK: 2, vectors: 1, maxSteps: 40, tol: 1e-8 },
  trace: { probes: 30 },
  density: { probes: 6, steps: 20 },
};

/** Run `e` for `kinds` on the known spectrum and check every answer against the truth. */
async function checkEstimator(e: Estimator, kinds: readonly EstimatorKind[]): Promise<void> {
  const { op, lambdas, trace } = knownSpectrum();
  const n = lambdas.length;
  const scale = lambdas[0];
  const settings: EstimatorSettings = Object.fromEntries(kinds.map((k) => [k, SETTINGS[k]]));
  const before = op.products;
  const out = await e.run(op, settings, new Rng(11));
  const where = `${e.name} (${kinds.join(', ')})`;
  if (kinds.includes('eigenpairs')) {
    const eig = out.eigenpairs;
    expect(eig, where).toBeDefined();
    expect(eig!.top).toHaveLength(5);
    expect(eig!.bottom).toHaveLength(2);
    // an estimator that computed every eigenvalue is exact (to rounding); an iterative one to its tolerance
    const tol = eig!.spectrum ? 1e-10 : 1e-6;
    eig!.top.forEach((p, i) => expect(Math.abs(p.value - lambdas[i]) / scale, where).toBeLessThan(tol));
    eig!.bottom.forEach((p, i) => expect(Math.abs(p.value - lambdas[n - 1 - i]) / scale, where).toBeLessThan(tol));
    expect(eig!.converged, where).toBe(true);
    expect(eig!.top[0].vector, where).toHaveLength(n);
  }
  if (kinds.includes('trace')) {
    const t = out.trace;
    expect(t, where).toBeDefined();
    expect(Math.abs(t!.value - trace), where).toBeLessThanOrEqual(3 * t!.stderr + 1e-9 * scale);
  }
  if (kinds.includes('density')) {
    const qs = out.density?.quadratures;
    expect(qs?.length, where).toBeGreaterThan(0);
    for (const q of qs!) expect(q.weights.reduce((s, w) => s + w, 0), where).toBeCloseTo(1, 10);
    const t = spectralSum(qs!, n, (x) => x);
    expect(Math.abs(t.value - trace), where).toBeLessThanOrEqual(3 * t.stderr + 1e-9 * scale);
  }
  for (const k of ESTIMATOR_KINDS) if (!kinds.includes(k)) expect(out[k], `${where} answered ${k} unasked`).toBeUndefined();
  // provenance: its registry name, what it used, the products it made (within its stated bound)
  expect(out.provenance.estimator).toBe(e.name);
  expect(typeof out.provenance.settings).toBe('object');
  expect(out.provenance.hvps).toBe(op.products - before);
  if (e.products) expect(out.provenance.hvps).toBeLessThanOrEqual(e.products(n, settings));
  expect(JSON.parse(JSON.stringify(out.provenance))).toEqual(out.provenance);
  // same stream, same numbers
  const again = await e.run(op, settings, new Rng(11));
  expect(again.trace).toEqual(out.trace);
  expect(again.density).toEqual(out.density);
  expect(again.eigenpairs?.top.map((p) => p.value)).toEqual(out.eigenpairs?.top.map((p) => p.value));
}

describe('the estimator registry', () => {
  it('lists the built-in estimators by kind', () => {
    expect([...estimators.keys()]).toEqual(['dense', 'lanczos', 'block-lanczos', 'hutchinson', 'hutch++', 'slq']);
    expect(estimatorNames('eigenpairs')).toEqual(['dense', 'lanczos', 'block-lanczos']);
    expect(estimatorNames('trace')).toEqual(['dense', 'hutchinson', 'hutch++']);
    expect(estimatorNames('density')).toEqual(['dense', 'slq']);
  });

  it('looks estimators up by kind and name', () => {
    expect(estimator('trace', 'hutchinson')).toBe(hutchinsonEstimator);
    expect(estimator('eigenpairs', 'dense')).toBe(denseEstimator);
    expect(estimator('density', 'dense')).toBe(denseEstimator);
  });

  it('names the known estimators of the kind when a name is unknown or of another kind', () => {
    expect(() => estimator('trace', 'hutchinsn')).toThrow('unknown trace estimator "hutchinsn" (known: "dense", "hutchinson", "hutch++")');
    expect(() => estimator('trace', 'slq')).toThrow('estimator "slq" estimates density, not trace (trace estimators: "dense", "hutchinson", "hutch++")');
  });

  for (const [name, e] of estimators) {
    for (const kind of e.kinds) {
      it(`${name} gives the right ${kind} on an operator with a known spectrum`, () => checkEstimator(e, [kind]));
    }
    if (e.kinds.length > 1) it(`${name} answers all its kinds (${e.kinds.join(', ')}) in one run`, () => checkEstimator(e, e.kinds));
  }
});

describe('adding an estimator', () => {
  // A whole estimator, as it would sit in its own file: Hutchinson with Gaussian probes.
  const gaussianHutchinson = defineEstimator({
    name: 'gaussian-hutchinson',
    kinds: ['trace'],
    description: 'Hutchinson trace with Gaussian probes: one product per probe, sample standard error',
    products: (_dim, settings) => settingsOf('gaussian-hutchinson', settings, 'trace').probes ?? 30,
    async run(op: LinearOperator, settings: EstimatorSettings, rng: RngLike) {
      const { probes = 30 } = settingsOf('gaussian-hutchinson', settings, 'trace');
      const before = op.products;
      const samples: number[] = [];
      for (let i = 0; i < probes; i++) {
        const z = Float64Array.from(rng.normalArray(op.dim));
        samples.push(dot(z, op.apply(z)));
        await yieldToEventLoop(); // a Ctrl-C is handled between products
      }
      const value = samples.reduce((s, x) => s + x, 0) / probes;
      const stderr = Math.sqrt(samples.reduce((s, x) => s + (x - value) ** 2, 0) / (probes - 1) / probes);
      return {
        trace: { value, stderr },
        provenance: { estimator: 'gaussian-hutchinson', settings: { probes }, hvps: op.products - before, seed: rng.seed, stderr, probe: 'gaussian' },
      };
    },
  });

  it('is one definition and one registration, after which it is picked by name', async () => {
    const unregister = registerEstimator(gaussianHutchinson);
    try {
      expect(estimatorNames('trace')).toEqual(['dense', 'hutchinson', 'hutch++', 'gaussian-hutchinson']);
      expect(estimator('trace', 'gaussian-hutchinson')).toBe(gaussianHutchinson);
      await checkEstimator(estimator('trace', 'gaussian-hutchinson'), ['trace']);
      expect(() => registerEstimator(gaussianHutchinson)).toThrow('already registered');
    } finally {
      unregister();
    }
    expect(estimators.has('gaussian-hutchinson')).toBe(false);
    expect(() => estimator('trace', 'gaussian-hutchinson')).toThrow('unknown trace estimator');
  });

  it('refuses a built-in name and malformed estimators', () => {
    expect(() => registerEstimator({ ...gaussianHutchinson, name: 'lanczos' })).toThrow('"lanczos" is already registered');
    expect(() => defineEstimator({ ...gaussianHutchinson, name: 'Gaussian Hutchinson' })).toThrow('name must be');
    expect(() => defineEstimator({ ...gaussianHutchinson, kinds: [] })).toThrow('kinds must be');
    expect(() => defineEstimator({ ...gaussianHutchinson, kinds: ['spectrum' as EstimatorKind] })).toThrow('kinds must be');
  });

  it('says which settings are missing', async () => {
    const { op } = knownSpectrum();
    await expect(async () => hutchinsonEstimator.run(op, {}, new Rng(1))).rejects.toThrow('hutchinson: no trace settings given');
  });
});
