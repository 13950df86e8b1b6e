import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { ACTIVATIONS, activation as activationOf, countParams, sizeOf, type ActivationName } from '@goldstone/core';
import { API_VERSION, defineModel, type ModelCreateContext, type ModelInstance, type ParamSpec, type ParamSymmetry, type Params, type Rng } from '@goldstone/plugin-api';
import { resolveInit } from './dense-chain';
import { initStd, MLP_INITS } from './init-schemes';
import { FlatLayout, hiddenSymmetries, homogeneityDegree, rescalingDirections, type ChannelLink } from './param-symmetries';

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

export const blockMlpOptions = z
  .object({
    hidden: z.array(z.number().int().positive()).default([]).describe('Hidden widths (of the per-block network when shared)'),
    activation: z.enum(ACTIVATIONS as unknown as [ActivationName, ...ActivationName[]]).default('identity').describe('Activation between layers'),
    bias: z.boolean().default(true).describe('Whether the layers have biases'),
    init: z.enum(MLP_INITS).default('auto').describe('Weight initialisation by effective fan-in; auto = he for relu-like activations, glorot otherwise'),
    initScale: z.number().positive().default(0.1).describe('Standard deviation of the weights when init is normal'),
    ...blockStructureOptions,
  })
  .strict();

export type BlockMlpOptions = z.input<typeof blockMlpOptions>;

/** Resolved structure of a block MLP: the widths of the per-unit network and how inputs reach it. */
export interface BlockLayout {
  sites: number;
  block: number;
  blocks: number;
  tied: boolean;
  shared: boolean;
  /** Widths [in, ...hidden, out] of the dense chain (per block when shared). */
  dims: number[];
  /** Outputs per block (shared) or total. */
  k: number;
}

export function blockLayout(o: z.output<typeof blockMlpOptions>, inputSize: number, outputSize: number): BlockLayout {
  const tied = o.tied ?? false;
  const shared = o.shared ?? false;
  if ((tied || shared) && o.block === undefined) throw new RangeError('block-mlp: `tied` and `shared` need `block` (sites per block)');
  const block = o.block ?? 1;
  if (inputSize % block !== 0) throw new RangeError(`block-mlp: ${inputSize} input sites are not a multiple of block ${block}`);
  const blocks = inputSize / block;
  if (shared && outputSize % blocks !== 0) throw new RangeError(`block-mlp: outputSize ${outputSize} is not a multiple of the ${blocks} blocks (shared weights give outputs per block)`);
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
  const act = activationOf(o.activation);
  const scheme = resolveInit(o.init, o.activation);
  const specs: ParamSpec[] = [];
  for (let i = 0; i < depth; i++) {
    specs.push({ name: `dense${i}.weight`, shape: [dims[i], dims[i + 1]] });
    if (bias) specs.push({ name: `dense${i}.bias`, shape: [dims[i + 1]] });
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

  function apply(params: Params, x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const B = x.shape[0];
      if (x.size !== B * L.sites) throw new Error(`block-mlp: input of shape [${x.shape}] does not match inputShape [${ctx.inputShape}]`);
      let h: tf.Tensor;
      if (L.shared) {
        h = tf.reshape(x, [B * L.blocks, L.block]);
        if (L.tied) h = tf.sum(h, 1, true);
      } else {
        h = tf.reshape(x, [B, L.sites]);
        if (L.tied) h = tf.sum(tf.reshape(h, [B, L.blocks, L.block]), 2);
      }
      for (let i = 0; i < depth; i++) {
        let zi = tf.matMul(h as tf.Tensor2D, effective(params[`dense${i}.weight`], i) as tf.Tensor2D) as tf.Tensor;
        if (bias) zi = tf.add(zi, params[`dense${i}.bias`]);
        h = i < depth - 1 ? act(zi) : zi;
      }
      return L.shared ? tf.reshape(h, [B, L.blocks * L.k]) : h;
    });
  }

  function symmetries(params: Params): ParamSymmetry[] {
    if (scale === 'unit-norm') {
      // w = u/‖u‖ per column: scaling a raw column leaves the function unchanged (one direction per unit and layer)
      const links: ChannelLink[] = [];
      for (let i = 0; i < depth; i++) links.push({ width: dims[i + 1], ins: [{ name: `dense${i}.weight` }], outs: [] });
      return [{ name: 'norm-scaling', directions: rescalingDirections(params, layout, links) }];
    }
    const links: ChannelLink[] = [];
    const f = sign === 'nonnegative' ? 0.5 : 1; // raw² = w: scaling w by e^t scales raw by e^(t/2)
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
    groups: Object.fromEntries(Array.from({ length: depth }, (_, i) => [`dense${i}`, bias ? [`dense${i}.weight`, `dense${i}.bias`] : [`dense${i}.weight`]])),
    symmetries,
    info: {
      architecture: `block-mlp ${dims.join('-')}${L.shared ? ` per block × ${L.blocks}` : ''} (${o.activation}${structure ? `; ${structure}` : ''})`,
      widths: dims,
      paramCount,
      paramCountFormula: 'sum_i d_i*d_{i+1} + d_{i+1}, d = [d0, ...hidden, k], d0 = N | N/b (tied) | b (shared) | 1 (tied+shared), k = out | out/(N/b) (shared)',
    },
  };
}

/** MLP with block structure and weight constraints: tied within blocks, shared across blocks, sign/scale. */
export const blockMlp = defineModel({
  name: 'block-mlp',
  apiVersion: API_VERSION,
  description: 'MLP over blocks of sites: weight-tied within blocks, translation-shared across blocks, sign and scale constraints',
  options: blockMlpOptions,
  create: (options, ctx) => createBlockMlp(options, ctx),
});
