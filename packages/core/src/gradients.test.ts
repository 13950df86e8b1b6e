// Gradients are registered by core itself (src/gradients.ts), without the @tensorflow/tfjs union:
// from source under vitest, and from a build made with core's own tsup config under plain Node.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import './gradients';
import { relErr } from './test-support';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The union package's name, spelled so that a search for imports of it finds only real ones. */
const UNION = ['@tensorflow', 'tfjs'].join('/');
/** A file of the union package (`…/node_modules/@tensorflow/tfjs/…`), not of tfjs-core or a backend. */
const UNION_FILE = /[\\/]@tensorflow[\\/]tfjs[\\/]/;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const X = [-1.7, -0.4, 0.3, 1.2];
const A = [[1, 2, -1], [0.5, -3, 2]];
const B = [[2, -1], [0.25, 4], [-1.5, 0.5]];
const W = [0.3, -1.2, 2, 0.7];
const sig = (x: number): number => 1 / (1 + Math.exp(-x));
const softmax64 = (xs: number[]): number[] => {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const flat = (t: tf.Tensor): number[] => Array.from(t.dataSync());
const grad1 = (f: (x: tf.Tensor) => tf.Tensor): number[] =>
  tf.tidy(() => flat(tf.grad((x: tf.Tensor) => f(x))(tf.tensor1d(X))));

describe('gradients without the @tensorflow/tfjs union', () => {
  it('the union is neither installed nor loaded', () => {
    // Resolved from core, and (pnpm's bin shims put node_modules/.pnpm/node_modules on NODE_PATH)
    // from the workspace's hoisted packages: this fails if any package brings the union back.
    expect(() => createRequire(import.meta.url).resolve(UNION)).toThrow();
    const cache = (Module as unknown as { _cache: Record<string, unknown> })._cache;
    expect(Object.keys(cache).filter((f) => UNION_FILE.test(f))).toEqual([]);
  });

  it('registers the gradients of the kernels goldstone differentiates', () => {
    const kernels = ['Tanh', 'Sigmoid', 'Softplus', 'Exp', 'Log', 'Sqrt', 'Erf', 'Relu', 'Abs', 'Square', 'Multiply', 'Add',
      'Sub', 'RealDiv', 'Neg', 'Sum', 'Mean', 'Max', 'Maximum', 'Minimum', 'BatchMatMul', 'Softmax', 'GatherV2',
      'UnsortedSegmentSum', 'Reshape', 'Transpose', 'Slice', 'Concat', 'Select', 'Cast', 'SplitV', 'ExpandDims'];
    expect(kernels.filter((k) => tf.getGradient(k) === undefined)).toEqual([]);
  });

  it('first derivatives match analytic values', () => {
    expect(relErr(grad1((x) => tf.sum(tf.tanh(x))), X.map((x) => 1 - Math.tanh(x) ** 2))).toBeLessThan(1e-6);
    expect(relErr(grad1((x) => tf.sum(tf.sigmoid(x))), X.map((x) => sig(x) * (1 - sig(x))))).toBeLessThan(1e-6);
    expect(relErr(grad1((x) => tf.sum(tf.softplus(x))), X.map(sig))).toBeLessThan(1e-6);
    expect(relErr(grad1((x) => tf.sum(tf.exp(x))), X.map(Math.exp))).toBeLessThan(1e-6);
    expect(relErr(grad1((x) => tf.sum(tf.log(tf.abs(x)))), X.map((x) => 1 / x))).toBeLessThan(1e-6);
    expect(grad1((x) => tf.sum(tf.relu(x)))).toEqual(X.map((x) => (x > 0 ? 1 : 0)));
    // softmax and logSoftmax, weighted: ∂/∂x Σ wᵢ sᵢ = s ⊙ (w − s·w); ∂/∂x Σ wᵢ log sᵢ = w − s Σw
    const s = softmax64(X);
    const sw = s.reduce((acc, si, i) => acc + si * W[i], 0);
    const w = tf.tensor1d(W);
    expect(relErr(grad1((x) => tf.sum(tf.mul(tf.softmax(x), w))), s.map((si, i) => si * (W[i] - sw)))).toBeLessThan(1e-5);
    const sumW = W.reduce((a, b) => a + b, 0);
    expect(relErr(grad1((x) => tf.sum(tf.mul(tf.logSoftmax(x), w))), W.map((wi, i) => wi - s[i] * sumW))).toBeLessThan(1e-5);
    // gather: each index contributes its count
    expect(grad1((x) => tf.sum(tf.gather(x, tf.tensor1d([1, 1, 3], 'int32'))))).toEqual([0, 2, 0, 1]);
    w.dispose();
  });

  it('matMul gradients match analytic values: ∂ΣAB/∂A = 1Bᵀ, ∂ΣAB/∂B = Aᵀ1', () => {
    const [gA, gB] = tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.matMul(a, b)))([tf.tensor2d(A), tf.tensor2d(B)]).map(flat));
    expect(relErr(gA, A.flatMap(() => B.map((row) => row[0] + row[1])))).toBeLessThan(1e-6);
    expect(relErr(gB, B.flatMap((_, k) => [A[0][k] + A[1][k], A[0][k] + A[1][k]]))).toBeLessThan(1e-6);
  });

  it('gradients of gradients: (sin)″ = −sin and the HVP of ΣAx² is 2AᵀAv', () => {
    const d2 = tf.tidy(() => flat(tf.grad((x: tf.Tensor) => tf.sum(tf.grad((y: tf.Tensor) => tf.sum(tf.sin(y)))(x)))(tf.tensor1d(X))));
    expect(relErr(d2, X.map((x) => -Math.sin(x)))).toBeLessThan(1e-6);
    const v = [0.5, -1, 2];
    const hv = tf.tidy(() => {
      const a = tf.tensor2d(A);
      const vt = tf.tensor2d(v, [3, 1]);
      const g = (x: tf.Tensor): tf.Tensor => tf.grad((y: tf.Tensor) => tf.sum(tf.square(tf.matMul(a, y))))(x);
      return flat(tf.grad((x: tf.Tensor) => tf.sum(tf.mul(g(x), vt)))(tf.tensor2d([0.1, 0.2, 0.3], [3, 1])));
    });
    const av = A.map((row) => row.reduce((acc, aij, j) => acc + aij * v[j], 0));
    expect(relErr(hv, [0, 1, 2].map((j) => 2 * (A[0][j] * av[0] + A[1][j] * av[1])))).toBeLessThan(1e-6);
  });

  it('registers the chained ops (tensor.square().sum()) as the union did', () => {
    const t = tf.tensor1d([1, -2, 3]);
    expect(tf.tidy(() => t.square().sum().dataSync()[0])).toBe(14);
    t.dispose();
  });
});

describe('built with core tsup config, under plain Node', () => {
  // Under node_modules so that the build's bare imports resolve from core, as they do from dist.
  const outDir = join(pkgDir, 'node_modules', '.cache', `gradients-test-${process.pid}`);
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('registers the gradients and loads no union', async () => {
    const { build } = await import('tsup');
    const cwd = process.cwd();
    process.chdir(pkgDir); // tsup reads its config, entry, tsconfig and package.json from the cwd
    try {
      await build({ outDir, dts: false, sourcemap: false, silent: true });
    } finally {
      process.chdir(cwd);
    }
    const script = `
      import Module from 'node:module';
      const core = await import(${JSON.stringify(pathToFileURL(join(outDir, 'index.js')).href)});
      const tf = await import('@tensorflow/tfjs-core');
      await core.initBackend('cpu');
      const flat = (t) => Array.from(t.dataSync());
      const dtanh = flat(tf.grad((x) => tf.sum(tf.tanh(x)))(tf.tensor1d(${JSON.stringify(X)})));
      const [gA, gB] = tf.grads((a, b) => tf.sum(tf.matMul(a, b)))([tf.tensor2d(${JSON.stringify(A)}), tf.tensor2d(${JSON.stringify(B)})]).map(flat);
      const gather = flat(tf.grad((x) => tf.sum(tf.gather(x, tf.tensor1d([1, 1, 3], 'int32'))))(tf.tensor1d(${JSON.stringify(X)})));
      const chained = tf.tensor1d([1, -2, 3]).square().sum().dataSync()[0];
      const union = Object.keys(Module._cache).filter((f) => ${UNION_FILE}.test(f));
      console.log('RESULT ' + JSON.stringify({ dtanh, gA, gB, gather, chained, union }));
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: pkgDir, encoding: 'utf8' });
    const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line, `node exited ${run.status}: ${run.stderr}`).toBeDefined();
    const r = JSON.parse(line!.slice('RESULT '.length));
    expect(relErr(r.dtanh, X.map((x) => 1 - Math.tanh(x) ** 2))).toBeLessThan(1e-6);
    expect(relErr(r.gA, A.flatMap(() => B.map((row) => row[0] + row[1])))).toBeLessThan(1e-6);
    expect(relErr(r.gB, B.flatMap((_, k) => [A[0][k] + A[1][k], A[0][k] + A[1][k]]))).toBeLessThan(1e-6);
    expect(r.gather).toEqual([0, 2, 0, 1]);
    expect(r.chained).toBe(14);
    expect(r.union).toEqual([]);
  });
});
