import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { ACTIVATIONS, countParams, sizeOf, type ActivationName } from '@goldstone/core';
import { API_VERSION, defineModel, type GeneratorDirection, type ModelCreateContext, type ModelInstance, type ParamSpec, type ParamSymmetry, type Params, type Rng } from '@goldstone/plugin-api';
import { blockLayoutIssues, blockStructureOptions, createBlockMlp, estimateBlockMlp, refineBlockStructure, usesBlockStructure } from './block-mlp';
import { DENSE_INITS, RELU_LIKE, drawDense, type DenseInit } from './init-schemes';
import { directionOf, generatorSizeIssue, hostValues, transposedTimes } from './generator-direction';
import { mlpCurvatureProducts } from './mlp-curvature';
import { quadraticAlphaMlpCurvatureProducts } from './quadratic-alpha-curvature';
import { FlatLayout } from './param-symmetries';
import { fastMlpApply } from './mlp-fast';
import { alphaLabel, alphaRescalingDirections, alphaSpecs, hiddenActivation, initAlpha, learnsAlpha, quadraticAlphaOptions, refineQuadraticAlpha } from './quadratic-alpha';
import { applyMlpReplicas } from './mlp-replicas';

export { DENSE_INITS, MLP_INITS, RELU_LIKE, initStd, type DenseInit, type MlpInit } from './init-schemes';

/** Positively homogeneous activations: act(a·x) = a·act(x) for a > 0, hence rescaling symmetries. */
const HOMOGENEOUS: readonly ActivationName[] = ['relu', 'leaky-relu'];

export const mlpOptions = z
  .object({
    /** Widths of the hidden layers, input side first. `[]` is a linear model. */
    hidden: z.array(z.number().int().positive()).default([64, 64]).describe('Widths of the hidden layers, input side first; [] is a linear model'),
    /** Elementwise activation after every hidden layer (none after the output layer). */
    activation: z.enum(ACTIVATIONS as unknown as [ActivationName, ...ActivationName[]]).default('relu').describe('Activation after every hidden layer (none after the output layer)'),
    /** Whether the layers have biases. */
    bias: z.boolean().default(true).describe('Whether the layers have biases'),
    /** Weight initialisation: auto = he for relu-like activations, glorot otherwise. */
    init: z.enum(DENSE_INITS).default('auto').describe("Weight initialisation; auto = he for relu-like activations, glorot otherwise; torch = PyTorch nn.Linear's U(±1/√fan_in) weights and biases"),
    /** Standard deviation of the weights when `init` is `normal`. */
    initScale: z.number().positive().default(0.1).describe('Standard deviation of the weights when init is normal'),
    /** The quadratic activation z + αz² (α fixed or learned). */
    ...quadraticAlphaOptions,
    /** Block structure and constraints (any of them given: the network is built by `block-mlp`). */
    ...blockStructureOptions,
  })
  .strict()
  .superRefine((o, ctx) => {
    refineBlockStructure(o, ctx);
    if (o.init === 'torch' && usesBlockStructure(o)) ctx.addIssue({ code: 'custom', path: ['init'], message: 'torch applies to a plain mlp; block structure or constraints (tied, shared, sign, scale) take auto, he, glorot, lecun or normal' });
    refineQuadraticAlpha(o, ctx);
  });

export type MlpOptions = z.output<typeof mlpOptions>;

/** Number of parameters: Σᵢ dᵢ·dᵢ₊₁ (+ dᵢ₊₁ with biases) over the widths d = [in, ...hidden, out]. */
export function mlpParamCount(inputSize: number, hidden: readonly number[], outputSize: number, bias: boolean): number {
  const dims = [inputSize, ...hidden, outputSize];
  let n = 0;
  for (let i = 0; i + 1 < dims.length; i++) n += dims[i] * dims[i + 1] + (bias ? dims[i + 1] : 0);
  return n;
}

/** Build an MLP instance directly (what the plugin's `create` does after validating options). */
export function createMlp(options: MlpOptions, ctx: Pick<ModelCreateContext, 'inputShape' | 'outputSize'>): ModelInstance {
  if (usesBlockStructure(options)) {
    if (options.init === 'torch') throw new RangeError('mlp: init: torch applies to a plain mlp, not to block structure or constraints');
    return createBlockMlp({ ...options, init: options.init }, ctx);
  }
  const { hidden, bias, initScale } = options;
  const scheme: Exclude<DenseInit, 'auto'> =
    options.init === 'auto' ? (RELU_LIKE.includes(options.activation) ? 'he' : 'glorot') : options.init;
  const inputSize = sizeOf(ctx.inputShape);
  const dims = [inputSize, ...hidden, ctx.outputSize];
  const depth = hidden.length; // layers dense0..dense{depth}; the last is the output layer

  const specs: ParamSpec[] = [];
  const groups: Record<string, string[]> = {};
  for (let i = 0; i <= depth; i++) {
    const names = [`dense${i}.weight`];
    specs.push({ name: `dense${i}.weight`, shape: [dims[i], dims[i + 1]] });
    if (bias) {
      specs.push({ name: `dense${i}.bias`, shape: [dims[i + 1]] });
      names.push(`dense${i}.bias`);
    }
    if (i < depth) for (const a of alphaSpecs(options, i)) {
      specs.push(a);
      names.push(a.name);
    }
    groups[`dense${i}`] = names;
  }
  const paramCount = countParams(specs);
  const offsets = new Map<string, number>();
  {
    let o = 0;
    for (const s of specs) {
      offsets.set(s.name, o);
      o += sizeOf(s.shape);
    }
  }

  function init(rng: Rng): Params {
    const params: Params = {};
    for (let i = 0; i <= depth; i++) {
      // One child stream per tensor: a tensor's values do not depend on the others' sizes.
      const w = drawDense(scheme, rng, { weight: `dense${i}.weight`, bias: `dense${i}.bias` }, dims[i], dims[i + 1], initScale);
      params[`dense${i}.weight`] = tf.tensor2d(w.weight, [dims[i], dims[i + 1]], 'float32');
      if (bias) params[`dense${i}.bias`] = tf.tensor1d(w.bias, 'float32');
      if (i < depth) initAlpha(options, i, params);
    }
    return params;
  }

  function apply(params: Params, x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const batch = x.shape[0];
      if (x.size !== batch * inputSize) {
        throw new Error(
          `mlp: input of shape [${x.shape}] does not match inputShape [${ctx.inputShape}]: a free mlp has one weight per input site and is not size-agnostic (info.sizeAgnostic false); use a shared block map (shared: true) or a gnn to apply one map to other sizes`,
        );
      }
      let h: tf.Tensor = x.rank === 2 ? x : tf.reshape(x, [batch, inputSize]);
      for (let i = 0; i <= depth; i++) {
        let zi = tf.matMul(h as tf.Tensor2D, params[`dense${i}.weight`] as tf.Tensor2D) as tf.Tensor;
        if (bias) zi = tf.add(zi, params[`dense${i}.bias`]);
        h = i < depth ? hiddenActivation(options, params, i)(zi) : zi;
      }
      return h;
    });
  }

  /**
   * ReLU rescaling: scaling hidden unit j of layer i by e^t (incoming weights and bias) and its
   * outgoing weights by e^(−t) leaves a positively homogeneous network's function unchanged.
   * The tangent at t = 0 is (+W_in[:, j], +b[j], −W_out[j, :]); one direction per hidden unit.
   */
  function symmetries(params: Params): ParamSymmetry[] {
    if (learnsAlpha(options) && depth > 0) {
      const layers = Array.from({ length: depth }, (_, i) => ({
        alpha: `dense${i}.alpha`,
        ins: bias ? [`dense${i}.weight`, `dense${i}.bias`] : [`dense${i}.weight`],
        outs: [`dense${i + 1}.weight`],
      }));
      return [{ name: 'quadratic-alpha-rescaling', directions: alphaRescalingDirections(params, new FlatLayout(specs), layers) }];
    }
    if (options.alpha !== undefined || !HOMOGENEOUS.includes(options.activation) || depth === 0) return [];
    const directions: tf.Tensor1D[] = [];
    for (let i = 0; i < depth; i++) {
      const fanIn = dims[i];
      const width = dims[i + 1];
      const fanOut = dims[i + 2];
      const wIn = params[`dense${i}.weight`].dataSync();
      const wOut = params[`dense${i + 1}.weight`].dataSync();
      const b = bias ? params[`dense${i}.bias`].dataSync() : null;
      const oIn = offsets.get(`dense${i}.weight`)!;
      const oOut = offsets.get(`dense${i + 1}.weight`)!;
      const oB = bias ? offsets.get(`dense${i}.bias`)! : 0;
      for (let j = 0; j < width; j++) {
        const d = new Float32Array(paramCount);
        for (let r = 0; r < fanIn; r++) d[oIn + r * width + j] = wIn[r * width + j];
        if (b) d[oB + j] = b[j];
        for (let c = 0; c < fanOut; c++) d[oOut + j * fanOut + c] = -wOut[j * fanOut + c];
        directions.push(tf.tensor1d(d, 'float32'));
      }
    }
    return [{ name: 'relu-rescaling', directions }];
  }

  /**
   * The first layer is linear in the flattened inputs (row-major, as G is): (x + εGx)ᵀW =
   * xᵀ(W + εGᵀW), so δ(dense0.weight) = GᵀW realises G exactly; every other parameter stays.
   */
  function generatorDirection(params: Params, G: Float32Array): GeneratorDirection {
    const issue = generatorSizeIssue(G, inputSize);
    if (issue) return { unsupported: issue };
    const name = 'dense0.weight';
    return directionOf(specs, { [name]: transposedTimes(G, inputSize, hostValues(params, name), dims[1]) });
  }

  return {
    specs,
    paramCount,
    init,
    apply,
    ...(options.alpha === undefined ? { applyFirstOrder: fastMlpApply({ dims, bias, activation: options.activation }, apply) } : {}),
    applyReplicas: (params, x) => applyMlpReplicas({ activation: options.activation, alpha: options.alpha, bias, dims, inputShape: ctx.inputShape }, params, x),
    groups,
    symmetries,
    generatorDirection,
    curvatureProducts: options.alpha === undefined ? mlpCurvatureProducts(options, dims) : quadraticAlphaMlpCurvatureProducts({ ...options, alpha: options.alpha }, dims, specs),
    info: {
      architecture: `mlp ${dims.join('-')} (${alphaLabel(options)}${bias ? '' : ', no bias'})`,
      activation: options.activation,
      ...(options.alpha !== undefined ? { alpha: options.alpha } : {}),
      sizeAgnostic: false,
      bias,
      widths: dims,
      init: scheme,
      paramCount,
      paramCountFormula: `${bias ? 'sum_i d_i*d_{i+1} + d_{i+1}' : 'sum_i d_i*d_{i+1}'}, d = [in, ...hidden, out]${learnsAlpha(options) ? ', + one alpha per hidden layer' : ''}`,
    },
  };
}

/** The multilayer perceptron model plugin. */
export const mlp = defineModel({
  name: 'mlp',
  apiVersion: API_VERSION,
  description: 'Fully connected network: dense layers with an elementwise activation, logits out',
  options: mlpOptions,
  check: (options, ctx) => (usesBlockStructure(options) ? blockLayoutIssues(options, sizeOf(ctx.inputShape), ctx.outputSize) : []),
  estimate: (options, ctx) =>
    usesBlockStructure(options)
      ? estimateBlockMlp({ ...options, init: options.init === 'torch' ? 'auto' : options.init }, ctx) // torch is refused with block structure
      : { bytes: 0, params: mlpParamCount(sizeOf(ctx.inputShape), options.hidden, ctx.outputSize, options.bias) + (learnsAlpha(options) ? options.hidden.length : 0), field: 'hidden' },
  create: (options, ctx) => createMlp(options, ctx),
});
