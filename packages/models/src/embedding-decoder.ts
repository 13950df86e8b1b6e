import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { ACTIVATIONS, countParams, type ActivationName } from '@goldstone/core';
import { API_VERSION, defineModel, type ModelCreateContext, type OptionIssue, type SizeEstimate, type ModelInstance, type ParamSpec, type ParamSymmetry, type Params, type Rng } from '@goldstone/plugin-api';
import { applyChain, chainBias, chainLinks, chainParamCount, chainSpecs, chainWeight, initChain, type DenseChain } from './dense-chain';
import { embeddingDecoderCurvatureProducts } from './embedding-decoder-curvature';
import { DENSE_INITS } from './init-schemes';
import { FlatLayout, hiddenSymmetries, linearGroupDirections, rescalingDirections, type ChannelLink } from './param-symmetries';

export const embeddingDecoderOptions = z
  .object({
    /** Number of nodes (needed for index inputs `[2]`; read from one-hot inputs `[2, n]`). */
    nodes: z.number().int().positive().optional().describe('Number of nodes (needed for index inputs [2]; read from one-hot inputs [2, n])'),
    /** Embedding dimension d. */
    dim: z.number().int().positive().default(8).describe('Embedding dimension d'),
    /** How a pair reaches the decoder: `concat` [eᵢ, eⱼ] (2d), `product` eᵢ ⊙ eⱼ (d) or `sum` eᵢ + eⱼ (d, the grokking toy). */
    combine: z.enum(['concat', 'product', 'sum']).default('concat').describe('How a pair reaches the decoder: concat [eᵢ, eⱼ] (2d), product eᵢ ⊙ eⱼ (d) or sum eᵢ + eⱼ (d)'),
    /** Hidden widths of the decoder MLP. */
    hidden: z.array(z.number().int().positive()).default([64]).describe('Hidden widths of the decoder MLP'),
    activation: z.enum(ACTIVATIONS as unknown as [ActivationName, ...ActivationName[]]).default('relu').describe('Activation of the decoder after every hidden layer'),
    bias: z.boolean().default(true).describe('Whether the decoder layers have biases'),
    init: z.enum(DENSE_INITS).default('auto').describe("Decoder initialisation; auto = he for relu-like activations, glorot otherwise; torch = PyTorch nn.Linear's U(±1/√fan_in) weights and biases"),
    initScale: z.number().positive().default(0.1).describe('Standard deviation of the decoder weights when init is normal'),
    /** How the embeddings are drawn: `normal` N(0, embeddingScale²) or `uniform` U(−½, ½)·embeddingScale (the toy's (rand − ½)·init_scale). */
    embeddingInit: z.enum(['normal', 'uniform']).default('normal').describe('Initial embeddings: normal N(0, embeddingScale²) or uniform U(−½, ½)·embeddingScale'),
    /** Scale of the initial embeddings: the standard deviation (normal, default 1/√d) or the width of the interval (uniform, default 1). */
    embeddingScale: z.number().positive().optional().describe('Scale of the initial embeddings: standard deviation for normal (default 1/√d), interval width for uniform (default 1)'),
  })
  .strict();

export type EmbeddingDecoderOptions = z.output<typeof embeddingDecoderOptions>;

/** Parameter count: n·d (encoder) + Σᵢ dᵢdᵢ₊₁ + dᵢ₊₁ over [2d (concat) or d (product, sum), ...hidden, out]. */
export function embeddingDecoderParamCount(o: Pick<EmbeddingDecoderOptions, 'dim' | 'combine' | 'hidden' | 'bias'>, nodes: number, outputSize: number): number {
  return nodes * o.dim + chainParamCount([o.combine === 'concat' ? 2 * o.dim : o.dim, ...o.hidden, outputSize], o.bias);
}

/**
 * Encoder (one learned embedding per node) + MLP decoder on pairs, for relational tasks. Inputs
 * are node pairs, either as indices `[B, 2]` (float values 0…n−1) or one-hot `[B, 2, n]`.
 * Parameter groups `encoder` (`embedding`) and `decoder` (`decoder.*`) take separate learning
 * rates and weight decay through `train.groups`.
 */
/** The `check` hook: the task's inputs are node pairs, and `nodes` agrees with them. */
export function embeddingDecoderIssues(options: EmbeddingDecoderOptions, ctx: Pick<ModelCreateContext, 'inputShape'>): OptionIssue[] {
  const shape = ctx.inputShape;
  const oneHot = shape.length === 2;
  if (!((shape.length === 1 && shape[0] === 2) || (oneHot && shape[0] === 2))) {
    return [{ field: '', message: `embedding-decoder needs inputs of shape [2] (node indices) or [2, nodes] (one-hot); the task's inputs are [${shape}]` }];
  }
  if (!oneHot && options.nodes === undefined) return [{ field: 'nodes', message: "the task's inputs are node indices [2], so the number of nodes must be given; none was" }];
  if (oneHot && options.nodes !== undefined && options.nodes !== shape[1]) {
    return [{ field: 'nodes', message: `nodes ${options.nodes} differs from the ${shape[1]} nodes of the task's one-hot inputs [${shape}]` }];
  }
  return [];
}

/** The `estimate` hook: the parameter count, set by the embedding (`dim`, `nodes`) or the decoder (`hidden`), whichever is larger. */
export function estimateEmbeddingDecoder(options: EmbeddingDecoderOptions, ctx: Pick<ModelCreateContext, 'inputShape' | 'outputSize'>): SizeEstimate {
  const n = ctx.inputShape.length === 2 ? ctx.inputShape[1] : options.nodes!;
  const params = embeddingDecoderParamCount(options, n, ctx.outputSize);
  return { bytes: 0, params, field: 2 * n * options.dim > params ? (options.nodes !== undefined && options.nodes > options.dim ? 'nodes' : 'dim') : 'hidden' };
}

export function createEmbeddingDecoder(options: EmbeddingDecoderOptions, ctx: Pick<ModelCreateContext, 'inputShape' | 'outputSize'>): ModelInstance {
  const [issue] = embeddingDecoderIssues(options, ctx);
  if (issue) throw new RangeError(`embedding-decoder: ${issue.field ? `${issue.field}: ` : ''}${issue.message}`);
  const shape = ctx.inputShape;
  const oneHot = shape.length === 2;
  const n = oneHot ? shape[1] : options.nodes!;
  const d = options.dim;
  const decoder: DenseChain = { prefix: 'decoder.', dims: [options.combine === 'concat' ? 2 * d : d, ...options.hidden, ctx.outputSize], bias: options.bias, activation: options.activation };
  const specs: ParamSpec[] = [{ name: 'embedding', shape: [n, d] }, ...chainSpecs(decoder)];
  const paramCount = countParams(specs);
  const layout = new FlatLayout(specs);

  function init(rng: Rng): Params {
    const stream = rng.split('embedding');
    const e =
      options.embeddingInit === 'uniform'
        ? stream.uniformArray(n! * d, -0.5 * (options.embeddingScale ?? 1), 0.5 * (options.embeddingScale ?? 1))
        : stream.normalArray(n! * d, options.embeddingScale ?? 1 / Math.sqrt(d));
    const p: Params = { embedding: tf.tensor2d(e, [n!, d], 'float32') };
    initChain(decoder, rng, options.init, options.initScale, p);
    return p;
  }

  function apply(params: Params, x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const B = x.shape[0];
      if (x.size !== B * 2 * (oneHot ? n! : 1)) throw new Error(`embedding-decoder: input of shape [${x.shape}] does not match inputShape [${shape}]`);
      const E = params.embedding as tf.Tensor2D;
      const e = oneHot
        ? tf.matMul(tf.reshape(x, [B * 2, n!]) as tf.Tensor2D, E)
        : tf.gather(E, tf.cast(tf.reshape(x, [B * 2]), 'int32'));
      const pair = tf.reshape(e, [B, 2, d]);
      const ei = tf.reshape(tf.slice(pair, [0, 0, 0], [B, 1, d]), [B, d]);
      const ej = tf.reshape(tf.slice(pair, [0, 1, 0], [B, 1, d]), [B, d]);
      const h = options.combine === 'concat' ? tf.concat([ei, ej], 1) : options.combine === 'sum' ? tf.add(ei, ej) : tf.mul(ei, ej);
      return applyChain(decoder, params, h);
    });
  }

  /**
   * concat: the decoder sees embeddings only through its first linear layer, so E → E·M,
   * W₁ → blockdiag(M⁻¹, M⁻¹)·W₁ is exact for every invertible M (rotations and scalings/shears of
   * the embedding space). sum: eᵢ + eⱼ → (eᵢ + eⱼ)·M, so E → E·M, W₁ → M⁻¹·W₁ is exact likewise.
   * With decoder biases, concat and sum also have translations E → E + 1·cᵀ, b₁ → b₁ − c·(W₁ᵗᵒᵖ +
   * W₁ᵇᵒᵗᵗᵒᵐ) (concat) or b₁ − 2c·W₁ (sum). product: eᵢ ⊙ eⱼ scales by s_a² per dimension, so
   * E → E·diag(s), row a of W₁ → /s_a² is exact. Plus the decoder's hidden-unit symmetries.
   */
  function symmetries(params: Params): ParamSymmetry[] {
    const out: ParamSymmetry[] = [];
    const w1 = chainWeight(decoder, 0);
    if (options.combine === 'concat' || options.combine === 'sum') {
      const outs = options.combine === 'concat' ? [{ name: w1, rowOffset: 0 }, { name: w1, rowOffset: d }] : [{ name: w1 }];
      const link: ChannelLink = { width: d, ins: [{ name: 'embedding' }], outs };
      out.push({ name: 'embedding-rotation', directions: linearGroupDirections(params, layout, [link], 'rotation') });
      out.push({ name: 'embedding-scaling-shear', directions: linearGroupDirections(params, layout, [link], 'symmetric') });
      if (options.bias) out.push({ name: 'embedding-translation', directions: translationDirections(params, options.combine === 'sum' ? [0, 0] : [0, d]) });
    } else {
      const link: ChannelLink = { width: d, ins: [{ name: 'embedding' }], outs: [{ name: w1 }] };
      out.push({ name: 'embedding-scaling', directions: rescalingDirections(params, layout, [link], 2) });
    }
    return [...out, ...hiddenSymmetries(options.activation, params, layout, chainLinks(decoder))];
  }

  /**
   * Tangents of E → E + t·1·e_aᵀ (every node's embedding moves by e_a) with b₁ → b₁ − t·Σ_k W₁[k + a, :]
   * over the row offsets k of the halves that read the embeddings (concat: 0 and d; sum: 0 twice).
   */
  function translationDirections(params: Params, reads: number[]): tf.Tensor1D[] {
    const w1 = params[chainWeight(decoder, 0)].dataSync();
    const h1 = decoder.dims[1];
    const eOff = layout.offset('embedding');
    const bOff = layout.offset(chainBias(decoder, 0));
    return Array.from({ length: d }, (_, a) => {
      const v = new Float32Array(paramCount);
      for (let i = 0; i < n; i++) v[eOff + i * d + a] = 1;
      for (const k of reads) for (let c = 0; c < h1; c++) v[bOff + c] -= w1[(k + a) * h1 + c];
      return tf.tensor1d(v, 'float32');
    });
  }

  return {
    specs,
    paramCount,
    init,
    apply,
    curvatureProducts: embeddingDecoderCurvatureProducts({ nodes: n, dim: d, oneHot, combine: options.combine, decoder }, specs),
    groups: { encoder: ['embedding'], decoder: specs.filter((s) => s.name.startsWith('decoder.')).map((s) => s.name) },
    symmetries,
    info: {
      architecture: `embedding ${n}×${d} (${options.combine}) → decoder ${decoder.dims.join('-')} (${options.activation})`,
      embeddingInit: options.embeddingInit,
      nodes: n,
      paramCount,
      paramCountFormula: 'n*d + sum_i d_i*d_{i+1} + d_{i+1} over [2d (concat) | d (product, sum), ...hidden, out]',
    },
  };
}

/** Encoder (learned node embeddings) + MLP decoder for relational pair tasks. */
export const embeddingDecoder = defineModel({
  name: 'embedding-decoder',
  apiVersion: API_VERSION,
  description: 'Learned node embeddings (encoder) and an MLP on pairs of embeddings (decoder), for relational tasks',
  options: embeddingDecoderOptions,
  check: (options, ctx) => embeddingDecoderIssues(options, ctx),
  estimate: (options, ctx) => estimateEmbeddingDecoder(options, ctx),
  create: (options, ctx) => createEmbeddingDecoder(options, ctx),
});
