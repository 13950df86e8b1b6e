import * as tf from '@tensorflow/tfjs-core';
import { ACTIVATIONS, activation as activationOf, type ActivationName } from '@goldstone/core';
import type { ModelInstance, Params } from '@goldstone/plugin-api';

/** A model read as a chain of dense layers z = h·W + b with one elementwise activation between them. */
export interface DenseChain {
  layers: { weight: string; bias?: string }[];
  activation: ActivationName;
}

/** The minimiser of gelu(x) = x·Φ(x): gelu decreases on (−∞, x*] and increases on [x*, ∞). */
export const GELU_ARGMIN = -0.7517915246;

function isActivation(name: unknown): name is ActivationName {
  return typeof name === 'string' && (ACTIVATIONS as readonly string[]).includes(name);
}

/** The activation a model declares in `info.activation` (goldstone's mlp does). */
function declaredActivation(model: ModelInstance): ActivationName | undefined {
  const info = model.info ?? {};
  return isActivation(info.activation) ? info.activation : undefined;
}

/**
 * Read a model's architecture as a dense chain from its parameter layout: goldstone's mlp
 * (`dense{i}.weight` [in, out], `dense{i}.bias`), a one-layer linear model (`W`, `b`) or a
 * two-layer one (`W1`, `b1`, `W2`, `b2`). Returns a reason string when the model is not one of
 * these. (The caller should still check the chain against `model.apply`: see `checkChain`.)
 */
export function denseChain(model: ModelInstance): DenseChain | string {
  const names = new Set(model.specs.map((s) => s.name));
  const shapes = new Map(model.specs.map((s) => [s.name, s.shape]));
  const layers: DenseChain['layers'] = [];
  if (names.has('dense0.weight')) {
    for (let i = 0; names.has(`dense${i}.weight`); i++) {
      layers.push({ weight: `dense${i}.weight`, bias: names.has(`dense${i}.bias`) ? `dense${i}.bias` : undefined });
    }
  } else if (names.has('W') && model.specs.length <= 2) {
    layers.push({ weight: 'W', bias: names.has('b') ? 'b' : undefined });
  } else if (names.has('W1')) {
    for (let i = 1; names.has(`W${i}`); i++) layers.push({ weight: `W${i}`, bias: names.has(`b${i}`) ? `b${i}` : undefined });
  } else {
    return `parameters ${[...names].join(', ')} are not a dense chain (dense{i}.weight / W / W1, W2, …)`;
  }
  const used = layers.flatMap((l) => [l.weight, ...(l.bias ? [l.bias] : [])]);
  if (used.length !== names.size) return 'the model has parameters outside its dense layers';
  for (let i = 0; i < layers.length; i++) {
    const w = shapes.get(layers[i].weight)!;
    if (w.length !== 2) return `${layers[i].weight} is not a matrix`;
    if (i > 0 && shapes.get(layers[i - 1].weight)![1] !== w[0]) return `${layers[i].weight} does not chain with the layer before`;
  }
  if (layers.length === 1) return { layers, activation: 'identity' };
  const act = declaredActivation(model);
  if (!act) return 'the model does not declare its activation (info.activation)';
  return { layers, activation: act };
}

/** Sound elementwise bounds of act(z) for z in [l, u] (new tensors). Every activation of core is supported. */
export function activationBounds(name: ActivationName, l: tf.Tensor, u: tf.Tensor): { lower: tf.Tensor; upper: tf.Tensor } {
  return tf.tidy(() => {
    const f = activationOf(name);
    if (name === 'quadratic') {
      // x² on [l, u]: 0 inside when the interval holds 0, otherwise at the end nearer 0.
      const fl = tf.square(l);
      const fu = tf.square(u);
      const straddles = tf.logicalAnd(tf.less(l, 0), tf.greater(u, 0));
      return { lower: tf.where(straddles, tf.zerosLike(l), tf.minimum(fl, fu)), upper: tf.maximum(fl, fu) };
    }
    if (name === 'gelu') {
      // gelu is unimodal with its minimum at x*: decreasing left of it, increasing right of it.
      const fl = f(l);
      const fu = f(u);
      const fmin = f(tf.scalar(GELU_ARGMIN));
      const straddles = tf.logicalAnd(tf.less(l, GELU_ARGMIN), tf.greater(u, GELU_ARGMIN));
      return { lower: tf.where(straddles, tf.broadcastTo(fmin, l.shape), tf.minimum(fl, fu)), upper: tf.maximum(fl, fu) };
    }
    // identity, relu, leaky-relu, tanh, sigmoid, softplus, elu: non-decreasing. (Cloned: identity
    // returns its input, and the bounds are new tensors owned by the caller.)
    return { lower: tf.clone(f(l)), upper: tf.clone(f(u)) };
  });
}

/**
 * Interval bound propagation: elementwise lower and upper bounds of the chain's outputs for every
 * input in the box [lower, upper] (shape [B, in]). Affine layers use the centre–radius form
 * (μ' = μW + b, r' = r|W|), exact for one affine layer; activations use `activationBounds`.
 */
export function intervalBounds(chain: DenseChain, params: Params, lower: tf.Tensor, upper: tf.Tensor): { lower: tf.Tensor; upper: tf.Tensor } {
  return tf.tidy(() => {
    const b = lower.shape[0];
    let l: tf.Tensor = tf.reshape(lower, [b, -1]);
    let u: tf.Tensor = tf.reshape(upper, [b, -1]);
    chain.layers.forEach((layer, i) => {
      const w = params[layer.weight] as tf.Tensor2D;
      const mu = tf.div(tf.add(l, u), 2) as tf.Tensor2D;
      const r = tf.div(tf.sub(u, l), 2) as tf.Tensor2D;
      let m: tf.Tensor = tf.matMul(mu, w);
      if (layer.bias) m = tf.add(m, params[layer.bias]);
      const rr = tf.matMul(r, tf.abs(w));
      l = tf.sub(m, rr);
      u = tf.add(m, rr);
      if (i < chain.layers.length - 1) {
        const a = activationBounds(chain.activation, l, u);
        l = a.lower;
        u = a.upper;
      }
    });
    return { lower: l, upper: u };
  });
}

/**
 * Whether the chain reproduces `model.apply` on `x` (bounds of a zero-width box against the
 * model's outputs): the guard against reading a model's layout wrongly. Returns the max abs error.
 */
export function checkChain(chain: DenseChain, model: ModelInstance, params: Params, x: tf.Tensor): number {
  const err = tf.tidy(() => {
    const { lower } = intervalBounds(chain, params, x, x);
    const y = model.apply(params, x);
    return tf.max(tf.abs(tf.sub(lower, tf.reshape(y, lower.shape))));
  });
  const v = (err.dataSync() as Float32Array)[0];
  err.dispose();
  return v;
}
