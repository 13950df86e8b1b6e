import * as tf from '@tensorflow/tfjs-core';
import { Rng, scoreTensors } from '@goldstone/core';
import type { ModelInstance, Params, Split, TaskInstance } from '@goldstone/plugin-api';

/**
 * A quadratic problem with a known Hessian: a linear model y = x·w (no bias, one output) under
 * MSE on n examples of d inputs, L(w) = ‖Xw − Y‖² / n, so ∇L = 2Xᵀ(Xw − Y)/n and H = 2XᵀX/n.
 * `columns` sets the design: orthogonal columns with these norms (H diagonal, eigenvalues
 * 2·norm²/n, eigenvectors the coordinate axes), else Gaussian. With `exact`, the targets are
 * Y = X·w* and the returned parameters are w* (the minimum, loss 0). `applyReplicas` is given.
 */
export function quadraticSetting(opts: { n: number; d: number; seed: number; columns?: number[]; exact?: boolean }) {
  const rng = new Rng(opts.seed);
  const { n, d } = opts;
  const X = new Float64Array(n * d);
  if (opts.columns) {
    if (opts.columns.length !== d || n < d) throw new Error('quadraticSetting: columns needs d norms and n ≥ d');
    for (let j = 0; j < d; j++) X[j * d + j] = opts.columns[j];
  } else for (let i = 0; i < X.length; i++) X[i] = rng.normal();
  const wStar = Float64Array.from({ length: d }, () => rng.normal());
  const Y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += X[i * d + j] * wStar[j];
    Y[i] = opts.exact ? s : s + rng.normal();
  }
  const split: Split = { n, x: Float32Array.from(X), y: Float32Array.from(Y), xShape: [d], yShape: [1] };
  const task: TaskInstance = {
    inputShape: [d],
    outputSize: 1,
    outputKind: 'regression',
    loss: 'mse',
    splits: { train: split, test: split },
    metrics: (pred, y) => scoreTensors('regression', pred, y),
  };
  const model: ModelInstance = {
    specs: [{ name: 'w', shape: [d, 1] }],
    paramCount: d,
    init: (r) => ({ w: tf.tensor2d(r.normalArray(d), [d, 1]) }),
    apply: (p, x) => tf.matMul(tf.reshape(x, [-1, d]), p.w as tf.Tensor2D),
    applyReplicas: (p, x) => tf.matMul(x as tf.Tensor3D, p.w as tf.Tensor3D),
  };
  const w0 = opts.exact ? Float32Array.from(wStar) : rng.normalArray(d);
  const params: Params = { w: tf.tensor2d(w0, [d, 1]) };
  // the analytic surface, from the float32 data the model sees
  const Xf = Array.from(split.x);
  const Yf = Array.from(split.y);
  const hessian = new Float64Array(d * d);
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += Xf[i * d + a] * Xf[i * d + b];
    hessian[a * d + b] = (2 * s) / n;
  }
  const residual = (w: ArrayLike<number>) => Array.from({ length: n }, (_, i) => Xf.slice(i * d, (i + 1) * d).reduce((s, x, j) => s + x * w[j], 0) - Yf[i]);
  const r0 = residual(w0);
  const loss0 = r0.reduce((s, r) => s + r * r, 0) / n;
  const grad = Array.from({ length: d }, (_, j) => (2 * r0.reduce((s, r, i) => s + r * Xf[i * d + j], 0)) / n);
  /** L(w0 + δ) = L0 + gᵀδ + ½ δᵀHδ, exact for the quadratic. */
  const surface = (delta: ArrayLike<number>) => {
    let quad = 0;
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) quad += delta[a] * hessian[a * d + b] * delta[b];
    return loss0 + grad.reduce((s, g, j) => s + g * delta[j], 0) + 0.5 * quad;
  };
  return { task, model, params, w0, hessian, loss0, grad, surface };
}
