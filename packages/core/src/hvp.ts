import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients by itself; every differentiable op here needs them.
import './gradients';
import type { ModelInstance, LossName } from '@goldstone/plugin-api';
import { unflattenParams } from './params';
import { lossFunction } from './losses';

/** A scalar function of a flat parameter vector (a loss as a function of the weights). */
export type FlatFunction = (w: tf.Tensor1D) => tf.Scalar;

/** tfjs types `grad` for `(x: Tensor) => Tensor`; a `FlatFunction` is that, more precisely typed. */
function gradOf(f: FlatFunction): (w: tf.Tensor1D) => tf.Tensor1D {
  return tf.grad(f as (x: tf.Tensor) => tf.Tensor) as (w: tf.Tensor1D) => tf.Tensor1D;
}

function checkVector(name: string, w: tf.Tensor, v?: tf.Tensor): void {
  if (w.rank !== 1) throw new Error(`${name}: w must be a 1-D tensor, got shape [${w.shape}]`);
  if (v && (v.rank !== 1 || v.size !== w.size)) {
    throw new Error(`${name}: v must be a 1-D tensor of ${w.size} values, got shape [${v.shape}]`);
  }
}

/** ∇f(w), a new tensor owned by the caller. */
export function gradientOf(f: FlatFunction, w: tf.Tensor1D): tf.Tensor1D {
  checkVector('gradientOf', w);
  return tf.tidy(() => gradOf(f)(w));
}

/**
 * The Hessian-vector product H(w)·v = ∇(∇f(w)·v) by double backpropagation (exact up to
 * rounding, one forward and two backward passes). Correct only if every op in `f` is
 * second-order safe: use the activations and losses of `@goldstone/core`, not tfjs's own tanh,
 * sigmoid, exp, softmax or `tf.losses.*`.
 */
export function hvp(f: FlatFunction, w: tf.Tensor1D, v: tf.Tensor1D): tf.Tensor1D {
  checkVector('hvp', w, v);
  return tf.tidy(() => {
    const gv = (): tf.Scalar => tf.sum(tf.mul(gradOf(f)(w), v)) as tf.Scalar;
    // allowNoGradients: where ∇f does not depend on w (f linear), the Hessian is zero.
    const { value, grads } = tf.engine().gradients(gv, [w], undefined, true);
    value.dispose();
    return (grads[0] ?? tf.zerosLike(w)) as tf.Tensor1D;
  });
}

/**
 * H(w)·v by central differences of the gradient: (∇f(w + εv) − ∇f(w − εv)) / 2ε, with ε an
 * absolute step along v. Truncation error O(ε²‖v‖³·f'''), rounding error O(ulp(∇f)/ε): with
 * float32 and ‖v‖ ≈ 1, ε ≈ 1e-3..1e-2 is a fair compromise. A check for `hvp`, not a substitute
 * (it is wrong near kinks of relu-like networks).
 */
export function hvpFiniteDifference(f: FlatFunction, w: tf.Tensor1D, v: tf.Tensor1D, eps = 1e-3): tf.Tensor1D {
  checkVector('hvpFiniteDifference', w, v);
  if (!(eps > 0)) throw new RangeError(`hvpFiniteDifference: eps must be > 0, got ${eps}`);
  return tf.tidy(() => {
    const g = gradOf(f);
    const step = tf.mul(v, eps);
    const plus = g(tf.add(w, step) as tf.Tensor1D);
    const minus = g(tf.sub(w, step) as tf.Tensor1D);
    return tf.div(tf.sub(plus, minus), 2 * eps) as tf.Tensor1D;
  });
}

/**
 * The model's mean loss on (x, y) as a function of its flat parameter vector: unflattens `w`
 * by `model.specs`, applies the model and the named loss. Differentiable to second order.
 */
export function flatLoss(model: ModelInstance, loss: LossName, x: tf.Tensor, y: tf.Tensor): FlatFunction {
  const L = lossFunction(loss);
  return (w: tf.Tensor1D) =>
    tf.tidy(() => {
      const params = unflattenParams(w, model.specs);
      return L(model.apply(params, x), y);
    });
}
