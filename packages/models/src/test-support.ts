// Shared by this package's tests (not exported from the package).
import * as tf from '@tensorflow/tfjs-core';
import { Rng, flatLoss, flattenParams, gradientOf, hvp, hvpFiniteDifference } from '@goldstone/core';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ActivationName } from '@goldstone/core';
import type { LossName, ModelInstance, Params } from '@goldstone/plugin-api';

import { relErr, worstColumn } from '@goldstone/core/test-support';
import { curvatureOperator, denseMatrix, ggnProduct } from '@goldstone/curvature';

export { relErr, worstColumn };

/** A case of the float64 PyTorch fixtures of the plain mlp (`packages/core/test/fixtures/mlp-hvp.json`). */
export interface MlpFixtureCase {
  name: string;
  activation: ActivationName;
  hidden: number[];
  bias: boolean;
  loss: LossName;
  inputShape: number[];
  outputSize: number;
  batch: number;
  specs: { name: string; shape: number[] }[];
  x: number[];
  y: number[];
  yShape: number[];
  w: number[];
  v: number[];
  lossValue: number;
  grad: number[];
  hv: number[];
}

/** The float64 PyTorch fixtures of the plain mlp (made by packages/core/scripts/make-fixtures.py). */
export function mlpFixtures(): { cases: MlpFixtureCase[] } {
  return JSON.parse(readFileSync(fileURLToPath(new URL('../../core/test/fixtures/mlp-hvp.json', import.meta.url)), 'utf8')) as { cases: MlpFixtureCase[] };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function randomTensor(rng: Rng, shape: number[], std = 1): tf.Tensor {
  return tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1), std), shape, 'float32');
}

/** Targets for a regression check. */
export function regressionTargets(rng: Rng, batch: number, size: number): tf.Tensor {
  return randomTensor(rng, [batch, size]);
}

/** Output values of a model (host copy). */
export function outputs(model: ModelInstance, params: Params, x: tf.Tensor): Float32Array {
  const y = model.apply(params, x);
  const v = Float32Array.from(y.dataSync());
  y.dispose();
  return v;
}

/** Loss, gradient, H·v and its central finite difference (v normalised to unit length) at `params` (host copies). */
export function lossGradHvp(model: ModelInstance, params: Params, x: tf.Tensor, y: tf.Tensor, loss: LossName, v: Float32Array) {
  const f = flatLoss(model, loss, x, y);
  const w = flattenParams(params, model.specs);
  const vn = Math.sqrt(dot(v, v));
  const vt = tf.tensor1d(v.map((a) => a / vn)); // unit direction: the finite-difference step is eps
  const L = f(w);
  const g = gradientOf(f, w);
  const hv = hvp(f, w, vt);
  const fd = hvpFiniteDifference(f, w, vt, 1e-2);
  const out = {
    loss: L.dataSync()[0],
    grad: Float32Array.from(g.dataSync()),
    hv: Float32Array.from(hv.dataSync()),
    fd: Float32Array.from(fd.dataSync()),
  };
  tf.dispose([w, vt, L, g, hv, fd]);
  return out;
}

/**
 * For each declared symmetry direction v at `params`: |∇L·v| / (‖∇L‖‖v‖) and
 * |vᵀHv| / (‖v‖² λ_max), with λ_max the largest |eigenvalue| by power iteration.
 */
export function zeroModeReport(model: ModelInstance, params: Params, x: tf.Tensor, y: tf.Tensor, loss: LossName, rng: Rng) {
  const f = flatLoss(model, loss, x, y);
  const w = flattenParams(params, model.specs);
  const g = gradientOf(f, w);
  const gv = g.dataSync();
  const gNorm = Math.sqrt(dot(gv, gv));
  // power iteration for the spectral scale
  let u = rng.normalArray(model.paramCount);
  let lambda = 0;
  for (let it = 0; it < 30; it++) {
    const n = Math.sqrt(dot(u, u));
    const ut = tf.tensor1d(u.map((a) => a / n));
    const hu = hvp(f, w, ut);
    const hv = Float32Array.from(hu.dataSync());
    lambda = Math.sqrt(dot(hv, hv));
    tf.dispose([ut, hu]);
    u = hv;
  }
  const rows: { name: string; grad: number; curvature: number }[] = [];
  const syms = model.symmetries?.(params) ?? [];
  for (const s of syms) {
    for (const d of s.directions) {
      const dv = d.dataSync();
      const dn = dot(dv, dv);
      const hd = hvp(f, w, d);
      rows.push({ name: s.name, grad: Math.abs(dot(gv, dv)) / (gNorm * Math.sqrt(dn)), curvature: Math.abs(dot(dv, hd.dataSync())) / (dn * lambda) });
      hd.dispose();
      d.dispose();
    }
  }
  tf.dispose([w, g]);
  return { lambdaMax: lambda, rows, count: syms.reduce((n, s) => n + s.directions.length, 0), names: syms.map((s) => s.name) };
}

/** Apply a node permutation to inputs [B, N] or [B, N, F]: x′[:, i] = x[:, perm[i]]. */
export function permuteAxis1(x: tf.Tensor, perm: ArrayLike<number>): tf.Tensor {
  return tf.tidy(() => tf.gather(x, tf.tensor1d(Int32Array.from(perm), 'int32'), 1));
}

/**
 * A block of k random directions through `model.curvatureProducts` against the one-vector path
 * (double-backprop `hvp`, or `ggnProduct` for the Gauss–Newton kind): the worst column's relative
 * difference. Fails the test if the model has no rules (null).
 */
export function blockAgainstSingle(
  model: ModelInstance,
  params: Params,
  x: tf.Tensor,
  y: tf.Tensor,
  loss: LossName,
  kind: 'hessian' | 'ggn',
  k: number,
  seed: number,
): number {
  const rng = new Rng(seed);
  const dirs = Array.from({ length: k }, () => rng.normalArray(model.paramCount));
  const vectors = tf.tensor2d(dirs.map((d) => Array.from(d)), [k, model.paramCount]);
  const block = model.curvatureProducts?.({ params, x, y, loss, kind, vectors });
  if (!block) {
    vectors.dispose();
    throw new Error('curvatureProducts returned no block');
  }
  if (block.shape[0] !== k || block.shape[1] !== model.paramCount) throw new Error(`block of shape [${block.shape}]`);
  const got = block.arraySync();
  const w = flattenParams(params, model.specs);
  const f = flatLoss(model, loss, x, y);
  const want = dirs.map((d) =>
    tf.tidy(() => {
      const v = tf.tensor1d(d);
      return Float32Array.from((kind === 'hessian' ? hvp(f, w, v) : ggnProduct(model, loss, w, x, y, v)).dataSync());
    }),
  );
  tf.dispose([vectors, block, w]);
  return worstColumn(got, want);
}

/** Targets for `loss`: normal values (mse), one-hot classes (softmax), 0/1 labels (binary, `out` 1). */
export function lossTargets(loss: LossName, rng: Rng, batch: number, out: number): tf.Tensor {
  if (loss === 'mse') return tf.tensor2d(rng.normalArray(batch * out), [batch, out]);
  if (loss === 'binary-cross-entropy') return tf.tensor2d(Array.from({ length: batch * out }, () => (rng.uniform() < 0.5 ? 0 : 1)), [batch, out]);
  const t = new Float32Array(batch * out);
  for (let b = 0; b < batch; b++) t[b * out + rng.int(out)] = 1;
  return tf.tensor2d(t, [batch, out]);
}

/** The exact Hessian from blocks of columns (`denseMatrix` with the model's rules) against the one from single double-backprop products: the largest difference relative to the largest entry. */
export async function denseFromBlocksDifference(model: ModelInstance, params: Params, x: tf.Tensor, y: tf.Tensor, loss: LossName): Promise<{ difference: number; products: number; blockSize: number }> {
  const op = curvatureOperator({ model, loss, params, data: { x, y } });
  const ref = curvatureOperator({ model: { ...model, curvatureProducts: undefined }, loss, params, data: { x, y } });
  const [a, b] = [await denseMatrix(op), await denseMatrix(ref)];
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.values.length; i++) {
    diff = Math.max(diff, Math.abs(a.values[i] - b.values[i]));
    scale = Math.max(scale, Math.abs(b.values[i]));
  }
  const out = { difference: diff / scale, products: a.products, blockSize: op.blockSize ?? 1 };
  op.dispose();
  ref.dispose();
  return out;
}

/** A model at a point with a batch, as the curvature tests build them. */
export interface CurvatureSetting {
  model: ModelInstance;
  params: Params;
  x: tf.Tensor;
  y: tf.Tensor;
  dispose(): void;
}

/** `blockAgainstSingle` for the Hessian and the GGN on a setting made and disposed here, and the number of tensors left behind. */
export function checkBlocks(make: () => CurvatureSetting, loss: LossName, k: number, seed: number): { hessian: number; ggn: number; leaked: number; message: string } {
  const before = tf.memory().numTensors;
  const s = make();
  const hessian = blockAgainstSingle(s.model, s.params, s.x, s.y, loss, 'hessian', k, seed);
  const ggn = blockAgainstSingle(s.model, s.params, s.x, s.y, loss, 'ggn', k, seed);
  s.dispose();
  return { hessian, ggn, leaked: tf.memory().numTensors - before, message: `largest relative difference: hessian ${hessian.toExponential(2)}, ggn ${ggn.toExponential(2)}` };
}

/** Hessian blocks (mse, k = 5) of a size-agnostic setting on normal inputs and targets of another size, `[batch, sites]` each. */
export function blockOnOtherSize(s: CurvatureSetting, batch: number, sites: number, seed: number): number {
  const rng = new Rng(seed);
  const x = tf.tensor2d(rng.normalArray(batch * sites), [batch, sites]);
  const y = tf.tensor2d(rng.normalArray(batch * sites), [batch, sites]);
  const worst = blockAgainstSingle(s.model, s.params, x, y, 'mse', 'hessian', 5, seed + 1);
  tf.dispose([x, y]);
  return worst;
}
