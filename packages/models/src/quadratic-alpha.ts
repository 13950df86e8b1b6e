import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { activation as activationOf, type ActivationName } from '@goldstone/core';
import type { ParamSpec, Params } from '@goldstone/plugin-api';
import type { FlatLayout } from './param-symmetries';

/** Initial value of a learned α (small and nonzero: the quadratic term is active from the start). */
export const DEFAULT_ALPHA_INIT = 0.1;

/**
 * The options of the quadratic activation z + αz² (shared by `mlp` and `block-mlp`). Without
 * `alpha`, `activation: 'quadratic'` is z² (core's `quadratic`).
 */
export const quadraticAlphaOptions = {
  /** With `activation: 'quadratic'`: the hidden activation is z + αz², α fixed (a number) or a parameter per hidden layer (`learned`). */
  alpha: z
    .union([z.literal('learned'), z.number()])
    .optional()
    .describe("With activation quadratic: hidden activation z + αz², α a fixed number or learned (a parameter dense{i}.alpha per hidden layer); without it quadratic is z²"),
  /** Initial α when `alpha: 'learned'` (default 0.1). */
  alphaInit: z.number().optional().describe('Initial α when alpha is learned (default 0.1)'),
};

/** The rules of the α options: `alpha` only with the quadratic activation, `alphaInit` only with a learned α. */
export function refineQuadraticAlpha(o: { activation?: string; alpha?: 'learned' | number; alphaInit?: number }, ctx: z.RefinementCtx): void {
  if (o.alpha !== undefined && o.activation !== 'quadratic') {
    ctx.addIssue({ code: 'custom', path: ['alpha'], message: `alpha sets the quadratic activation z + αz²; it needs activation: quadratic, not ${o.activation ?? 'the default'}` });
  }
  if (o.alphaInit !== undefined && o.alpha !== 'learned') {
    ctx.addIssue({ code: 'custom', path: ['alphaInit'], message: `alphaInit is the initial value of a learned α; it needs alpha: learned, not ${o.alpha ?? 'none'}` });
  }
}

/** Name of the learned α of the activation after layer `i`. */
export function alphaName(i: number): string {
  return `dense${i}.alpha`;
}

/** Whether the options ask for a learned α. */
export function learnsAlpha(o: { alpha?: 'learned' | number }): boolean {
  return o.alpha === 'learned';
}

/** z + α·z² (α a `[1]` tensor or a number): built-in ops only, so exact at every order under nested `tf.grad`. */
export function quadraticAlpha(x: tf.Tensor, alpha: tf.Tensor | number): tf.Tensor {
  return tf.add(x, tf.mul(alpha, tf.square(x)));
}

/** The activation after hidden layer `i`: z + αz² when `alpha` is given (learned: `params[dense{i}.alpha]`), else the named one. */
export function hiddenActivation(o: { activation: ActivationName; alpha?: 'learned' | number }, params: Params, i: number): (x: tf.Tensor) => tf.Tensor {
  if (o.alpha === undefined) return activationOf(o.activation);
  const a = o.alpha === 'learned' ? params[alphaName(i)] : o.alpha;
  return (x) => quadraticAlpha(x, a);
}

/** The spec of a learned α (shape `[1]`), or none. */
export function alphaSpecs(o: { alpha?: 'learned' | number }, i: number): ParamSpec[] {
  return learnsAlpha(o) ? [{ name: alphaName(i), shape: [1] }] : [];
}

/** Initial learned α of hidden layer `i`, into `p` (nothing without a learned α). */
export function initAlpha(o: { alpha?: 'learned' | number; alphaInit?: number }, i: number, p: Params): void {
  if (learnsAlpha(o)) p[alphaName(i)] = tf.tensor1d([o.alphaInit ?? DEFAULT_ALPHA_INIT], 'float32');
}

/**
 * The exact symmetry of a layer-wide scalar α: scaling hidden layer i's pre-activations by c
 * (incoming weights and bias), its α by 1/c and its outgoing weights by 1/c gives
 * c·z + (α/c)(cz)² = c(z + αz²) and leaves the function unchanged. One tangent per hidden layer:
 * (+W_in, +b, −α, −W_out), with `factor` on the weights (½ for raw² weights).
 */
export function alphaRescalingDirections(
  params: Params,
  layout: FlatLayout,
  layers: { alpha: string; ins: string[]; outs: string[] }[],
  factor = 1,
): tf.Tensor1D[] {
  return layers.map(({ alpha, ins, outs }) => {
    const d = new Float32Array(layout.paramCount);
    const put = (name: string, sign: number, f: number): void => {
      const v = params[name].dataSync();
      const off = layout.offset(name);
      for (let j = 0; j < v.length; j++) d[off + j] = sign * f * v[j];
    };
    for (const n of ins) put(n, 1, n.endsWith('.bias') ? 1 : factor);
    put(alpha, -1, 1);
    for (const n of outs) put(n, -1, factor);
    return tf.tensor1d(d, 'float32');
  });
}

/** The activation as the architecture strings show it: `quadratic z + 0.5z²`, `quadratic z + αz² (α learned)`, or the name. */
export function alphaLabel(o: { activation: string; alpha?: 'learned' | number }): string {
  if (o.alpha === undefined) return o.activation;
  return o.alpha === 'learned' ? 'quadratic z + αz² (α learned)' : `quadratic z + ${o.alpha}z²`;
}
