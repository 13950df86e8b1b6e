import type { BlockLayout } from './block-layout';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { ACTIVATIONS, countParams, sizeOf, type ActivationName } from '@goldstone/core';
import { API_VERSION, defineModel, type ModelCreateContext, type OptionIssue, type SizeEstimate, type ModelInstance, type ParamSpec, type ParamSymmetry, type Params, type Rng } from '@goldstone/plugin-api';
import { blockMlpCurvatureProducts } from './block-mlp-curvature';
import { resolveInit } from './dense-chain';
import { initStd, MLP_INITS } from './init-schemes';
import { FlatLayout, hiddenSymmetries, homogeneityDegree, rescalingDirections, type ChannelLink } from './param-symmetries';
import { alphaLabel, alphaRescalingDirections, alphaSpecs, hiddenActivation, initAlpha, learnsAlpha, quadraticAlphaOptions, refineQuadraticAlpha } from './quadratic-alpha';

/** The structure and constraint options (also accepted by `mlp`, which then builds this model). */
export const blockStructureOptions = {
  /** Sites per block (inputs are flattened to N sites, N a multiple of `block`). Needed by `tied` and `shared`. */
  block: z.number().int().positive().optional().describe('Sites per block (inputs flattened to N sites, N a multiple of block); needed by tied and shared'),
  /** Weight-tied first layer: every site of a block has the same weights (permutation symmetry within blocks). */
  tied: z.boolean().optional().describe('Weight-tied first layer: every site of a block has the same weights'),
  /** Translation-shared: the same network on every block, outputSize/blocks outputs per block. */
  shared: z.boolean().optional().describe('Translation-shared: the same network on every block, outputSize/blocks outputs per block'),
  /** `nonnegative`: effective weights are raw² (every weight ≥ 0). */
  sign: z.enum(['none', 'nonnegative']).optional().describe('nonnegative: effective weights are raw² (every weight ≥ 0)'),
  /** `unit-norm`: every effective weight column (one hidden/output unit's fan-in) has unit Euclidean norm. */
  scale: z.enum(['none', 'unit-norm']).optional().describe("unit-norm: every effective weight column (one unit's fan-in) has unit Euclidean norm"),
};

/** The rule between the structure options alone (in both schemas): `tied` and `shared` need `block`. */
export function refineBlockStructure(o: { block?: number; tied?: boolean; shared?: boolean }, ctx: z.RefinementCtx): void {
  const needing = (['tied', 'shared'] as const).filter((k) => o[k]);
  if (needing.length && o.block === undefined) {
    ctx.addIssue({ code: 'custom', path: ['block'], message: `${needing.map((k) => `${k}: true`).join(' and ')} needs block (the sites per block); none was given` });
  }
}

/** Whether `mlp` options ask for block structure or constraints (then `block-mlp` builds the network). */
export function usesBlockStructure(o: { tied?: boolean; shared?: boolean; sign?: string; scale?: string }): boolean {
  return Boolean(o.tied || o.shared || (o.sign ?? 'none') !== 'none' || (o.scale ?? 'none') !== 'none');
}

function divisorsOf(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d * d <= n; d++) if (n % d === 0) out.push(d, n / d);
  return [...new Set(out)].sort((a, b) => a - b);
}

/** The rules between the structure options and the task's shapes (the `check` hook): block divides the sites, shared outputs divide by the blocks. */
export function blockLayoutIssues(o: { block?: number; shared?: boolean }, inputSize: number, outputSize: number): OptionIssue[] {
  const block = o.block ?? 1;
  if (inputSize % block !== 0) {
    const divisors = divisorsOf(inputSize);
    return [{ field: 'block', message: `block ${block} must divide the task's ${inputSize} input sites (divisors: ${divisors.length > 12 ? `${divisors.slice(0, 12).join(', ')}, …` : divisors.join(', ')})` }];
  }
  const blocks = inputSize / block;
  if (o.shared && outputSize % blocks !== 0) {
    return [{ field: 'shared', message: `shared weights give the same outputs per block, but the task's ${outputSize} outputs are not a multiple of its ${blocks} blocks of ${block} sites` }];
  }
  return [];
}

export const blockMlpOptions = z
  .object({
    hidden: z.array(z.number().int().positive()).default([]).describe('Hidden widths (of the per-block network when shared)'),
    activation: z.enum(ACTIVATIONS as unknown as [ActivationName, ...ActivationName[]]).default('identity').describe('Activation between layers'),
    bias: z.boolean().default(true).describe('Whether the layers have biases'),
    init: z.enum(MLP_INITS).default('auto').describe('Weight initialisation by effective fan-in; auto = he for relu-like activations, glorot otherwise'),
    initScale: z.number().positive().default(0.1).describe('Standard deviation of the weights when init is normal'),
    ...quadraticAlphaOptions,
    ...blockStructureOptions,
  })
  .strict()
  .superRefine((o, ctx) => {
    refineBlockStructure(o, ctx);
    refineQuadraticAlpha(o, ctx);
  });

export type BlockMlpOptions = z.input<typeof blockMlpOptions>;

/** Resolved structure of a block MLP: the widths of the per-unit network and how inputs reach it. */

export type { BlockLayout };

export function blockLayout(o: z.output<typeof blockMlpOptions>, inputSize: number, outputSize: number): BlockLayout {
  const tied = o.tied ?? false;
  const shared = o.shared ?? false;
  if ((tied || shared) && o.block === undefined) throw new RangeError('block-mlp: `tied` and `shared` need `block` (sites per block)');
  const block = o.block ?? 1;
  const [issue] = blockLayoutIssues(o, inputSize, outputSize);
  if (issue) throw new RangeError(`block-mlp: ${issue.field}: ${issue.message}`);
  const blocks = inputSize / block;
  const k = shared ? outputSize / blocks : outputSize;
  const inWidth = shared ? (tied ? 1 : block) : tied ? blocks : inputSize;
  return { sites: inputSize, block, blocks, tied, shared, dims: [inWidth, ...o.hidden, k], k };
}

/**
 * Parameter count Σᵢ dᵢ·dᵢ₊₁ (+ dᵢ₊₁) over d = [d₀, ...hidden, k] with d₀ = N (free), N/b (tied),
 * b (shared), 1 (tied + shared), and k = outputSize, or outputSize/(N/b) when shared.
 */
export function blockMlpParamCount(layout: Pick<BlockLayout, 'dims'>, bias: boolean): number {
  let n = 0;
  for (let i = 0; i + 1 < layout.dims.length; i++) n += layout.dims[i] * layout.dims[i + 1] + (bias ? layout.dims[i + 1] : 0);
  return n;
}

export function createBlockMlp(input: z.output<typeof blockMlpOptions>, ctx: Pick<ModelCreateContext, 'inputShape' | 'outputSize'>): ModelInstance {
  const o = input;
  const sign = o.sign ?? 'none';
  const scale = o.scale ?? 'none';
  const L = blockLayout(o, sizeOf(ctx.inputShape), ctx.outputSize);
  const { dims, bias } = { dims: L.dims, bias: o.bias };
  const depth = dims.length - 1;
  const scheme = resolveInit(o.init, o.activation);
  const specs: ParamSpec[] = [];
  for (let i = 0; i < depth; i++) {
    specs.push({ name: `dense${i}.weight`, shape: [dims[i], dims[i + 1]] });
    if (bias) specs.push({ name: `dense${i}.bias`, shape: [dims[i + 1]] });
    if (i < depth - 1) specs.push(...alphaSpecs(o, i));
  }
  const paramCount = countParams(specs);
  const layout = new FlatLayout(specs);
  /** How many sites share each row of layer 0 (tied: b), for effective norms and fan-ins. */
  const rowMultiplicity = (i: number): number => (i === 0 && L.tied ? L.block : 1);

  function init(rng: Rng): Params {
    const p: Params = {};
    for (let i = 0; i < depth; i++) {
      const fanIn = dims[i] * rowMultiplicity(i);
      const std = initStd(scheme, fanIn, dims[i + 1], o.initScale);
      let w = rng.split(`dense${i}.weight`).normalArray(dims[i] * dims[i + 1], std);
      // nonnegative: raw = √(std·|n|) so that the effective weight raw² = std·|n| has the scheme's scale
      if (sign === 'nonnegative') w = w.map((a) => Math.sqrt(Math.abs(a)));
      p[`dense${i}.weight`] = tf.tensor2d(w, [dims[i], dims[i + 1]], 'float32');
      if (bias) p[`dense${i}.bias`] = tf.zeros([dims[i + 1]], 'float32');
      if (i < depth - 1) initAlpha(o, i, p);
    }
    return p;
  }

  /** The effective weight of layer i from its raw parameter. */
  function effective(raw: tf.Tensor, i: number): tf.Tensor {
    let w = sign === 'nonnegative' ? tf.square(raw) : raw;
    if (scale === 'unit-norm') {
      const norm = tf.sqrt(tf.mul(tf.sum(tf.square(w), 0, true), rowMultiplicity(i)));
      w = tf.div(w, norm);
    }
    return w;
  }

  /** The rows the first layer reads (tied: block sums; shared: one row per block), and the blocks per example. */
  function firstLayerInputs(x: tf.Tensor): { h: tf.Tensor; blocks: number } {
    const B = x.shape[0];
    const sites = x.size / B;
    if (L.shared ? !(Number.isInteger(sites) && sites >= L.block && sites % L.block === 0) : sites !== L.sites) {
      throw new Error(
        L.shared
          ? `block-mlp: input of shape [${x.shape}] has ${sites} sites per example; a shared block map applies to any multiple of its block of ${L.block} sites (inputs [B, m·${L.block}])`
          : `block-mlp: input of shape [${x.shape}] does not match inputShape [${ctx.inputShape}]: without shared: true the network has weights per site and is not size-agnostic (info.sizeAgnostic false); only shared block maps apply to other sizes`,
      );
    }
    const blocks = sites / L.block;
    let h: tf.Tensor;
    if (L.shared) {
      h = tf.reshape(x, [B * blocks, L.block]);
      if (L.tied) h = tf.sum(h, 1, true);
    } else {
      h = tf.reshape(x, [B, L.sites]);
      if (L.tied) h = tf.sum(tf.reshape(h, [B, L.blocks, L.block]), 2);
    }
    return { h, blocks };
  }

  function apply(params: Params, x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const B = x.shape[0];
      const inputs = firstLayerInputs(x);
      const blocks = inputs.blocks;
      let h = inputs.h;
      for (let i = 0; i < depth; i++) {
        let zi = tf.matMul(h as tf.Tensor2D, effective(params[`dense${i}.weight`], i) as tf.Tensor2D) as tf.Tensor;
        if (bias) zi = tf.add(zi, params[`dense${i}.bias`]);
        h = i < depth - 1 ? hiddenActivation(o, params, i)(zi) : zi;
      }
      return L.shared ? tf.reshape(h, [B, blocks * L.k]) : h;
    });
  }

  function symmetries(params: Params): ParamSymmetry[] {
    if (scale === 'unit-norm') {
      // w = u/‖u‖ per column: scaling a raw column leaves the function unchanged (one direction per unit and layer)
      const links: ChannelLink[] = [];
      for (let i = 0; i < depth; i++) links.push({ width: dims[i + 1], ins: [{ name: `dense${i}.weight` }], outs: [] });
      return [{ name: 'norm-scaling', directions: rescalingDirections(params, layout, links) }];
    }
    const f0 = sign === 'nonnegative' ? 0.5 : 1;
    if (learnsAlpha(o)) {
      const layers = Array.from({ length: depth - 1 }, (_, i) => ({
        alpha: `dense${i}.alpha`,
        ins: bias ? [`dense${i}.weight`, `dense${i}.bias`] : [`dense${i}.weight`],
        outs: [`dense${i + 1}.weight`],
      }));
      return layers.length ? [{ name: 'quadratic-alpha-rescaling', directions: alphaRescalingDirections(params, layout, layers, f0) }] : [];
    }
    if (o.alpha !== undefined) return [];
    const links: ChannelLink[] = [];
    const f = f0; // raw² = w: scaling w by e^t scales raw by e^(t/2)
    for (let i = 0; i + 1 < depth; i++) {
      const ins: ChannelLink['ins'] = [{ name: `dense${i}.weight`, factor: f }];
      if (bias) ins.push({ name: `dense${i}.bias` });
      links.push({ width: dims[i + 1], ins, outs: [{ name: `dense${i + 1}.weight`, factor: f }] });
    }
    if (sign === 'nonnegative') {
      // only positive diagonal scalings keep weights nonnegative; the identity is homogeneous of degree 1
      const degree = o.activation === 'identity' ? 1 : homogeneityDegree(o.activation);
      if (degree === undefined || links.length === 0) return [];
      return [{ name: 'relu-rescaling', directions: rescalingDirections(params, layout, links, degree) }];
    }
    return hiddenSymmetries(o.activation, params, layout, links);
  }

  const structure = [L.tied ? `tied(b=${L.block})` : '', L.shared ? `shared(b=${L.block})` : '', sign !== 'none' ? sign : '', scale !== 'none' ? scale : '']
    .filter(Boolean)
    .join(', ');
  return {
    specs,
    paramCount,
    init,
    apply,
    curvatureProducts: blockMlpCurvatureProducts({ activation: o.activation, bias, ...(o.alpha !== undefined ? { alpha: o.alpha } : {}), sign, scale }, L, specs, firstLayerInputs),
    groups: Object.fromEntries(Array.from({ length: depth }, (_, i) => [`dense${i}`, bias ? [`dense${i}.weight`, `dense${i}.bias`] : [`dense${i}.weight`]])),
    symmetries,
    info: {
      architecture: `block-mlp ${dims.join('-')}${L.shared ? ` per block × ${L.blocks}` : ''} (${alphaLabel(o)}${structure ? `; ${structure}` : ''})`,
      widths: dims,
      activation: o.activation,
      ...(o.alpha !== undefined ? { alpha: o.alpha } : {}),
      sizeAgnostic: L.shared,
      ...(L.shared ? { sizeUnit: { sites: L.block, outputs: L.k } } : {}),
      paramCount,
      paramCountFormula: `sum_i d_i*d_{i+1} + d_{i+1}, d = [d0, ...hidden, k], d0 = N | N/b (tied) | b (shared) | 1 (tied+shared), k = out | out/(N/b) (shared)${learnsAlpha(o) ? ', + one alpha per hidden layer' : ''}`,
    },
  };
}

/** MLP with block structure and weight constraints: tied within blocks, shared across blocks, sign/scale. */
export const blockMlp = defineModel({
  name: 'block-mlp',
  apiVersion: API_VERSION,
  description: 'MLP over blocks of sites: weight-tied within blocks, translation-shared across blocks, sign and scale constraints',
  options: blockMlpOptions,
  check: (options, ctx) => blockLayoutIssues(options, sizeOf(ctx.inputShape), ctx.outputSize),
  estimate: (options, ctx) => estimateBlockMlp(options, ctx),
  create: (options, ctx) => createBlockMlp(options, ctx),
});

/** The `estimate` hook of `block-mlp` (and of `mlp` with block structure): its parameter count, set by `hidden`. */
export function estimateBlockMlp(o: z.output<typeof blockMlpOptions>, ctx: Pick<ModelCreateContext, 'inputShape' | 'outputSize'>): SizeEstimate {
  return { bytes: 0, params: blockMlpParamCount(blockLayout(o, sizeOf(ctx.inputShape), ctx.outputSize), o.bias) + (learnsAlpha(o) ? o.hidden.length : 0), field: 'hidden' };
}
