import * as tf from '@tensorflow/tfjs-core';
import { type ActivationName, activation } from '@goldstone/core';
import type { ParamSpec, Params, Rng } from '@goldstone/plugin-api';
import { drawDense, RELU_LIKE, type DenseInit } from './init-schemes';
import type { ChannelLink } from './param-symmetries';

/**
 * A stack of dense layers `{prefix}dense{i}` with widths `dims` (`dims[0]` in, last out), the
 * building block of the models here: `h ← act(h·W + b)` between layers, optionally after the last.
 */
export interface DenseChain {
  prefix: string;
  dims: number[];
  bias: boolean;
  activation: ActivationName;
  /** Apply the activation after the last layer too (default false: a linear output). */
  finalActivation?: boolean;
}

export function chainWeight(c: DenseChain, i: number): string {
  return `${c.prefix}dense${i}.weight`;
}

export function chainBias(c: DenseChain, i: number): string {
  return `${c.prefix}dense${i}.bias`;
}

/** Number of layers (`dims.length − 1`). */
export function chainDepth(c: DenseChain): number {
  return c.dims.length - 1;
}

export function chainSpecs(c: DenseChain): ParamSpec[] {
  const specs: ParamSpec[] = [];
  for (let i = 0; i < chainDepth(c); i++) {
    specs.push({ name: chainWeight(c, i), shape: [c.dims[i], c.dims[i + 1]] });
    if (c.bias) specs.push({ name: chainBias(c, i), shape: [c.dims[i + 1]] });
  }
  return specs;
}

/** Parameter count: Σᵢ dᵢ·dᵢ₊₁ (+ dᵢ₊₁ with biases). */
export function chainParamCount(dims: readonly number[], bias: boolean): number {
  let n = 0;
  for (let i = 0; i + 1 < dims.length; i++) n += dims[i] * dims[i + 1] + (bias ? dims[i + 1] : 0);
  return n;
}

export function resolveInit(init: DenseInit, act: ActivationName): Exclude<DenseInit, 'auto'> {
  return init === 'auto' ? (RELU_LIKE.includes(act) ? 'he' : 'glorot') : init;
}

/** Draw the chain's weights and biases (`drawDense`: one child stream per tensor, named after it). */
export function initChain(c: DenseChain, rng: Rng, init: DenseInit, initScale: number, into: Params): void {
  const scheme = resolveInit(init, c.activation);
  for (let i = 0; i < chainDepth(c); i++) {
    const { weight, bias } = drawDense(scheme, rng, { weight: chainWeight(c, i), bias: chainBias(c, i) }, c.dims[i], c.dims[i + 1], initScale);
    into[chainWeight(c, i)] = tf.tensor2d(weight, [c.dims[i], c.dims[i + 1]], 'float32');
    if (c.bias) into[chainBias(c, i)] = tf.tensor1d(bias, 'float32');
  }
}

/** Apply the chain to rows `h` of shape `[M, dims[0]]` → `[M, dims.at(-1)]`. */
export function applyChain(c: DenseChain, params: Params, h: tf.Tensor): tf.Tensor {
  const act = activation(c.activation);
  const depth = chainDepth(c);
  let out = h;
  for (let i = 0; i < depth; i++) {
    let z = tf.matMul(out as tf.Tensor2D, params[chainWeight(c, i)] as tf.Tensor2D) as tf.Tensor;
    if (c.bias) z = tf.add(z, params[chainBias(c, i)]);
    out = i < depth - 1 || c.finalActivation ? act(z) : z;
  }
  return out;
}

/** The hidden spaces inside the chain (between consecutive layers), as symmetry links. */
export function chainLinks(c: DenseChain): ChannelLink[] {
  const links: ChannelLink[] = [];
  for (let i = 0; i + 1 < chainDepth(c); i++) {
    const ins = [{ name: chainWeight(c, i) }];
    if (c.bias) ins.push({ name: chainBias(c, i) });
    links.push({ width: c.dims[i + 1], ins, outs: [{ name: chainWeight(c, i + 1) }] });
  }
  return links;
}
