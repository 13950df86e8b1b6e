import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients by itself; every differentiable op here needs them.
import './gradients';

/**
 * Second-order-safe elementwise functions and the activations built from them.
 *
 * Stock tfjs 4.22 computes wrong second derivatives for ops whose gradient uses the op's saved
 * *output* (tanh, sigmoid, exp, elu, softmax, …), and throws for ops whose gradient uses
 * comparisons (leakyRelu, maximum, logSumExp, …). Everything here is written so that nesting
 * `tf.grad` gives the right answer:
 *
 * - smooth ops are `tf.customGrad` wrappers whose gradient recomputes the derivative *from the
 *   input* with other safe ops (so the derivative is itself differentiable, to any order);
 * - piecewise-linear ops are built from `tf.relu`, whose gradient is correct at second order
 *   (its second derivative is zero away from the kink, as it should be).
 */

/** The signature tfjs's `customGrad` types loosely as `(...inputs: (Tensor | GradSaveFunc)[])`. */
type UnaryCustomGrad = (
  input: tf.Tensor,
  save: tf.GradSaveFunc,
) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor };

function customUnary(f: UnaryCustomGrad): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;
}

/** `f(x)` with a custom gradient `dy · df(x)`, where `df` is built from second-order-safe ops. */
function safeUnary(
  forward: (x: tf.Tensor) => tf.Tensor,
  derivative: (x: tf.Tensor) => tf.Tensor,
): (x: tf.Tensor) => tf.Tensor {
  return (x: tf.Tensor) => {
    // Saving the *input* makes tfjs record a clone of it on the tape, so the saved copy stays
    // connected to `x` and the derivative computed from it is itself differentiable.
    // (Tensors computed inside `forward` would not be: it runs off the tape.)
    const op = customUnary((input, save) => {
      save([input]);
      return {
        value: forward(input),
        gradFunc: (dy, saved) => tf.mul(dy, derivative(saved[0])),
      };
    });
    return op(x);
  };
}

/** eˣ, correct under nested gradients (stock `tf.exp` is not). */
export const exp: (x: tf.Tensor) => tf.Tensor = safeUnary(
  (x) => tf.exp(x),
  (x) => exp(x),
);

/** tanh(x), second-order safe: d/dx tanh = 1 − tanh². */
export const tanh: (x: tf.Tensor) => tf.Tensor = safeUnary(
  (x) => tf.tanh(x),
  (x) => tf.sub(1, tf.square(tanh(x))),
);

/** The logistic function σ(x) = 1/(1+e⁻ˣ), second-order safe: σ' = σ(1 − σ). */
export const sigmoid: (x: tf.Tensor) => tf.Tensor = safeUnary(
  (x) => tf.sigmoid(x),
  (x) => {
    const s = sigmoid(x);
    return tf.mul(s, tf.sub(1, s));
  },
);

/** softplus(x) = log(1 + eˣ), numerically stable, second-order safe: softplus' = σ. */
export const softplus: (x: tf.Tensor) => tf.Tensor = safeUnary(
  (x) => tf.softplus(x),
  (x) => sigmoid(x),
);

/** The error function, second-order safe: erf'(x) = 2/√π · e^(−x²). */
export const erf: (x: tf.Tensor) => tf.Tensor = safeUnary(
  (x) => tf.erf(x),
  (x) => tf.mul(2 / Math.sqrt(Math.PI), exp(tf.neg(tf.square(x)))),
);

/**
 * log Σ exp(x) along `axis` (default: the last), numerically stable (the maximum is subtracted
 * in the forward pass, which is off the tape) and second-order safe: its gradient is softmax(x).
 */
export function logSumExp(x: tf.Tensor, axis = -1, keepDims = false): tf.Tensor {
  const ax = axis < 0 ? x.rank + axis : axis;
  const op = customUnary((input, save) => {
    save([input]);
    return {
      value: tf.tidy(() => {
        const m = tf.max(input, ax, true);
        const lse = tf.add(m, tf.log(tf.sum(tf.exp(tf.sub(input, m)), ax, true)));
        return keepDims ? lse : tf.squeeze(lse, [ax]);
      }),
      gradFunc: (dy, saved) => {
        const dyKeep = keepDims ? dy : tf.expandDims(dy, ax);
        return tf.mul(dyKeep, softmax(saved[0], ax));
      },
    };
  });
  return op(x);
}

/** log softmax(x) = x − logΣexp(x) along `axis` (default: the last), second-order safe. */
export function logSoftmax(x: tf.Tensor, axis = -1): tf.Tensor {
  return tf.sub(x, logSumExp(x, axis, true));
}

/** softmax(x) along `axis` (default: the last), second-order safe. */
export function softmax(x: tf.Tensor, axis = -1): tf.Tensor {
  return exp(logSoftmax(x, axis));
}

/** Slope of leaky-relu for negative inputs. */
export const LEAKY_RELU_SLOPE = 0.01;
/** α of elu: elu(x) = x for x > 0, α(eˣ − 1) otherwise. */
export const ELU_ALPHA = 1;

/** max(x, 0): stock `tf.relu` is already second-order correct. */
export function relu(x: tf.Tensor): tf.Tensor {
  return tf.relu(x);
}

/** leaky-relu(x) = a·x + (1 − a)·relu(x) with a = 0.01 (stock `tf.leakyRelu` throws at 2nd order). */
export function leakyRelu(x: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(LEAKY_RELU_SLOPE, x), tf.mul(1 - LEAKY_RELU_SLOPE, tf.relu(x)));
}

/** elu(x) = relu(x) + α(e^(min(x, 0)) − 1), α = 1, with min(x, 0) = −relu(−x). */
export function elu(x: tf.Tensor): tf.Tensor {
  const negPart = tf.sub(exp(tf.neg(tf.relu(tf.neg(x)))), 1);
  return tf.add(tf.relu(x), ELU_ALPHA === 1 ? negPart : tf.mul(ELU_ALPHA, negPart));
}

/** gelu(x) = x·Φ(x) = ½x(1 + erf(x/√2)): the exact (erf) form, as PyTorch's default. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(0.5, x), tf.add(1, erf(tf.mul(Math.SQRT1_2, x))));
}

/** x². */
export function quadratic(x: tf.Tensor): tf.Tensor {
  return tf.square(x);
}

/** The identity (returns its input). */
export function identity(x: tf.Tensor): tf.Tensor {
  return x;
}

export type ActivationName =
  | 'identity'
  | 'relu'
  | 'tanh'
  | 'sigmoid'
  | 'softplus'
  | 'gelu'
  | 'elu'
  | 'leaky-relu'
  | 'quadratic';

const TABLE: Record<ActivationName, (x: tf.Tensor) => tf.Tensor> = {
  identity,
  relu,
  tanh,
  sigmoid,
  softplus,
  gelu,
  elu,
  'leaky-relu': leakyRelu,
  quadratic,
};

/** Every activation name, in a fixed order. */
export const ACTIVATIONS: readonly ActivationName[] = Object.freeze([
  'identity',
  'relu',
  'tanh',
  'sigmoid',
  'softplus',
  'gelu',
  'elu',
  'leaky-relu',
  'quadratic',
] as const);

/**
 * The elementwise activation called `name`. All give correct Hessian-vector products under
 * nested `tf.grad` (away from the kinks of relu, leaky-relu and elu, where the second derivative
 * is taken as zero, like PyTorch). gelu is the exact erf form.
 */
export function activation(name: ActivationName): (x: tf.Tensor) => tf.Tensor {
  const f = TABLE[name];
  if (!f) throw new Error(`Unknown activation "${String(name)}"; expected one of ${ACTIVATIONS.join(', ')}`);
  return f;
}
