import * as tf from '@tensorflow/tfjs-core';
import { ELU_ALPHA, LEAKY_RELU_SLOPE, type ActivationName } from './activations';

/**
 * First and second derivatives of the activations of `./activations`, as plain tensor ops (no
 * autodiff through them): what an R-operator pass (forward-over-reverse curvature products)
 * needs at every hidden layer.
 *
 * They follow what nested `tf.grad` of the activations computes, kinks included: relu′(0) = 0
 * (tfjs's `step`), leaky-relu′(0) = 0.01, elu′(0) = 0, and σ″ = 0 away from (and at) the kinks of
 * the piecewise-linear ones.
 */
export interface ActivationDerivatives {
  /** σ′(z), same shape as z; null where σ′ ≡ 1 (identity): the product is skipped. */
  first: tf.Tensor | null;
  /** σ″(z), same shape as z or a scalar; null where σ″ ≡ 0 (piecewise linear): the term is skipped. */
  second: tf.Tensor | null;
}

/** σ′ and σ″ at pre-activations `z` (new tensors owned by the caller). */
export type ActivationDerivativeRule = (z: tf.Tensor) => ActivationDerivatives;

const step = (z: tf.Tensor): tf.Tensor => tf.step(z, 0);

const RULES: Record<ActivationName, ActivationDerivativeRule> = {
  identity: () => ({ first: null, second: null }),
  relu: (z) => ({ first: step(z), second: null }),
  // leaky-relu(z) = a·z + (1 − a)·relu(z)
  'leaky-relu': (z) => ({ first: tf.tidy(() => tf.add(LEAKY_RELU_SLOPE, tf.mul(1 - LEAKY_RELU_SLOPE, step(z)))), second: null }),
  tanh: (z) =>
    tf.tidy(() => {
      const t = tf.tanh(z);
      const first = tf.sub(1, tf.square(t));
      return { first, second: tf.mul(tf.mul(-2, t), first) };
    }),
  sigmoid: (z) =>
    tf.tidy(() => {
      const s = tf.sigmoid(z);
      const first = tf.mul(s, tf.sub(1, s));
      return { first, second: tf.mul(first, tf.sub(1, tf.mul(2, s))) };
    }),
  // softplus′ = σ, softplus″ = σ(1 − σ)
  softplus: (z) =>
    tf.tidy(() => {
      const s = tf.sigmoid(z);
      return { first: s, second: tf.mul(s, tf.sub(1, s)) };
    }),
  // gelu(z) = z·Φ(z): gelu′ = Φ + zφ, gelu″ = φ·(2 − z²), φ the standard normal density
  gelu: (z) =>
    tf.tidy(() => {
      const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(Math.SQRT1_2, z))));
      const pdf = tf.mul(1 / Math.sqrt(2 * Math.PI), tf.exp(tf.mul(-0.5, tf.square(z))));
      return { first: tf.add(cdf, tf.mul(z, pdf)), second: tf.mul(pdf, tf.sub(2, tf.square(z))) };
    }),
  // elu(z) = relu(z) + α(e^(−relu(−z)) − 1): elu′ = step(z) + α·e^z·step(−z), elu″ = α·e^z·step(−z)
  elu: (z) =>
    tf.tidy(() => {
      const neg = step(tf.neg(z));
      const e = tf.mul(tf.exp(tf.neg(tf.relu(tf.neg(z)))), ELU_ALPHA === 1 ? neg : tf.mul(ELU_ALPHA, neg));
      return { first: tf.add(step(z), e), second: e };
    }),
  // z²
  quadratic: (z) => ({ first: tf.mul(2, z), second: tf.scalar(2) }),
};

/** The derivative rule of activation `name`, or null if it has none. */
export function activationDerivatives(name: ActivationName): ActivationDerivativeRule | null {
  return RULES[name] ?? null;
}
