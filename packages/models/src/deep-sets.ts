import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { ACTIVATIONS, activation as activationOf, countParams, type ActivationName } from '@goldstone/core';
import { API_VERSION, defineModel, type GeneratorDirection, type ModelCreateContext, type OptionIssue, type SizeEstimate, type ModelInstance, type ParamSpec, type ParamSymmetry, type Params, type Rng } from '@goldstone/plugin-api';
import { deepSetsCurvatureProducts } from './deep-sets-curvature';
import { applyChain, chainBias, chainDepth, chainLinks, chainParamCount, chainSpecs, chainWeight, initChain, resolveInit, type DenseChain } from './dense-chain';
import { initStd, MLP_INITS } from './init-schemes';
import { FlatLayout, hiddenSymmetries, type ChannelLink } from './param-symmetries';
import { equivariantSetLayer, invariantSetLayer, setMask } from './set-layers';
import { directionOf, elementBlock, hostValues, transposedTimes } from './generator-direction';

export const deepSetsOptions = z
  .object({
    /** Widths of permutation-equivariant layers hᵢ ← act(hᵢΛ + pool(h)Γ + b), applied first. */
    equivariant: z.array(z.number().int().positive()).default([]).describe('Widths of the permutation-equivariant layers, applied first'),
    /** Widths of the per-element network φ (activation after every layer). */
    phi: z.array(z.number().int().positive()).default([32, 32]).describe('Widths of the per-element network φ'),
    /** Hidden widths of ρ, applied to the pooled vector (or per element with `readout: 'element'`). */
    rho: z.array(z.number().int().positive()).default([32]).describe("Hidden widths of ρ, applied to the pooled vector (or per element with readout: 'element')"),
    pool: z.enum(['sum', 'mean']).default('sum').describe('Masked pooling of the equivariant layers and the readout'),
    /** `set`: one output per set (invariant); `element`: outputs per element (equivariant). */
    readout: z.enum(['set', 'element']).default('set').describe('set: one output per set (invariant); element: outputs per element (equivariant)'),
    /** `nonzero`: all-zero elements are padding; `none`: every element is present. */
    mask: z.enum(['none', 'nonzero']).default('nonzero').describe('nonzero: all-zero elements are padding; none: every element is present'),
    /**
     * Energy-flow network: the input channel holding each element's weight (e.g. the pT fraction
     * z); φ sees the other channels and the pool is Σᵢ zᵢ·φ(x̂ᵢ).
     */
    weightChannel: z.number().int().min(0).optional().describe("Energy-flow network: the input channel holding each element's weight (pool Σᵢ zᵢ·φ(x̂ᵢ))"),
    activation: z.enum(ACTIVATIONS as unknown as [ActivationName, ...ActivationName[]]).default('relu').describe('Activation after every hidden layer'),
    bias: z.boolean().default(true).describe('Whether the layers have biases'),
    init: z.enum(MLP_INITS).default('auto').describe('Weight initialisation; auto = he for relu-like activations, glorot otherwise'),
    initScale: z.number().positive().default(0.1).describe('Standard deviation of the weights when init is normal'),
  })
  .strict();

export type DeepSetsOptions = z.output<typeof deepSetsOptions>;

/**
 * Parameter count: Σᵢ (2eᵢeᵢ₊₁ + eᵢ₊₁) over e = [F′, ...equivariant], plus the φ chain
 * [e.at(−1), ...phi] and the ρ chain [phi.at(−1), ...rho, k] (Σ dᵢdᵢ₊₁ + dᵢ₊₁ each; no bias terms
 * without `bias`). F′ = F, or F − 1 with `weightChannel`; k = outputSize (÷ N per element).
 */
export function deepSetsParamCount(o: Pick<DeepSetsOptions, 'equivariant' | 'phi' | 'rho' | 'bias'>, features: number, k: number): number {
  const e = [features, ...o.equivariant];
  let n = 0;
  for (let i = 0; i + 1 < e.length; i++) n += 2 * e[i] * e[i + 1] + (o.bias ? e[i + 1] : 0);
  const last = e[e.length - 1];
  n += chainParamCount([last, ...o.phi], o.bias);
  return n + chainParamCount([o.phi.length ? o.phi[o.phi.length - 1] : last, ...o.rho, k], o.bias);
}

/** The `check` hook: the task's inputs are sets `[elements, features]`, the weight channel is one of them, an element readout fits the outputs. */
export function deepSetsIssues(options: DeepSetsOptions, ctx: Pick<ModelCreateContext, 'inputShape' | 'outputSize'>): OptionIssue[] {
  if (ctx.inputShape.length !== 2) return [{ field: '', message: `deep-sets needs inputs of shape [elements, features]; the task's inputs are [${ctx.inputShape}]` }];
  const [N, F] = ctx.inputShape;
  const wc = options.weightChannel;
  if (wc !== undefined && (wc >= F || F < 2)) {
    return [{ field: 'weightChannel', message: `weightChannel ${wc} must be one of the task's ${F} input channels (0..${F - 1}), with another left for φ` }];
  }
  if (options.readout === 'element' && ctx.outputSize % N !== 0) {
    return [{ field: 'readout', message: `the element readout gives outputs per element, but the task's ${ctx.outputSize} outputs are not a multiple of its ${N} elements` }];
  }
  return [];
}

/** The `estimate` hook: the parameter count (set by the widths, `phi` first among them). */
export function estimateDeepSets(options: DeepSetsOptions, ctx: Pick<ModelCreateContext, 'inputShape' | 'outputSize'>): SizeEstimate {
  const [N, F] = ctx.inputShape;
  const k = options.readout === 'element' ? ctx.outputSize / N : ctx.outputSize;
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  // equivariant layers and φ on every element; ρ once per set, or per element
  const activations = N * (sum(options.equivariant) + sum(options.phi)) + (options.readout === 'element' ? N : 1) * (sum(options.rho) + k);
  return { bytes: 0, params: deepSetsParamCount(options, options.weightChannel === undefined ? F : F - 1, k), activations, field: 'phi' };
}

export function createDeepSets(options: DeepSetsOptions, ctx: Pick<ModelCreateContext, 'inputShape' | 'outputSize'>): ModelInstance {
  const [issue] = deepSetsIssues(options, ctx);
  if (issue) throw new RangeError(`deep-sets: ${issue.field ? `${issue.field}: ` : ''}${issue.message}`);
  const [N, F] = ctx.inputShape;
  const wc = options.weightChannel;
  const Fin = wc === undefined ? F : F - 1;
  const k = options.readout === 'element' ? ctx.outputSize / N : ctx.outputSize;
  const { bias } = options;
  const act = activationOf(options.activation);
  const e = [Fin, ...options.equivariant];
  const eLast = e[e.length - 1];
  const phi: DenseChain = { prefix: 'phi.', dims: [eLast, ...options.phi], bias, activation: options.activation, finalActivation: true };
  const rhoIn = options.phi.length ? options.phi[options.phi.length - 1] : eLast;
  const rho: DenseChain = { prefix: 'rho.', dims: [rhoIn, ...options.rho, k], bias, activation: options.activation };
  const specs: ParamSpec[] = [];
  for (let i = 0; i + 1 < e.length; i++) {
    specs.push({ name: `eq${i}.lambda`, shape: [e[i], e[i + 1]] }, { name: `eq${i}.gamma`, shape: [e[i], e[i + 1]] });
    if (bias) specs.push({ name: `eq${i}.bias`, shape: [e[i + 1]] });
  }
  specs.push(...chainSpecs(phi), ...chainSpecs(rho));
  const paramCount = countParams(specs);
  const layout = new FlatLayout(specs);
  const scheme = resolveInit(options.init, options.activation);
  const channels = wc === undefined ? null : Int32Array.from(Array.from({ length: F }, (_, i) => i).filter((i) => i !== wc));

  function init(rng: Rng): Params {
    const p: Params = {};
    for (let i = 0; i + 1 < e.length; i++) {
      // Λ and Γ share the fan-in: each gets half the variance of a dense layer of fan-in e[i]
      const std = initStd(scheme, e[i], e[i + 1], options.initScale) / Math.SQRT2;
      for (const part of ['lambda', 'gamma']) {
        const name = `eq${i}.${part}`;
        p[name] = tf.tensor2d(rng.split(name).normalArray(e[i] * e[i + 1], std), [e[i], e[i + 1]], 'float32');
      }
      if (bias) p[`eq${i}.bias`] = tf.zeros([e[i + 1]], 'float32');
    }
    initChain(phi, rng, options.init, options.initScale, p);
    initChain(rho, rng, options.init, options.initScale, p);
    return p;
  }

  function apply(params: Params, x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const B = x.shape[0];
      if (x.size !== B * N * F) throw new Error(`deep-sets: input of shape [${x.shape}] does not match inputShape [${ctx.inputShape}]`);
      const x3 = tf.reshape(x, [B, N, F]);
      const mask = setMask(x3, options.mask);
      let h = channels ? tf.gather(x3, tf.tensor1d(channels, 'int32'), 2) : x3;
      const weights = wc === undefined ? undefined : tf.slice(x3, [0, 0, wc], [B, N, 1]);
      for (let i = 0; i + 1 < e.length; i++) {
        h = equivariantSetLayer(h, mask, params[`eq${i}.lambda`], params[`eq${i}.gamma`], bias ? params[`eq${i}.bias`] : undefined, options.pool, act);
      }
      const C = h.shape[2]!;
      h = tf.reshape(applyChain(phi, params, tf.reshape(h, [B * N, C])), [B, N, rhoIn]);
      if (options.readout === 'set') return applyChain(rho, params, invariantSetLayer(h, mask, options.pool, weights));
      let out = tf.reshape(applyChain(rho, params, tf.reshape(h, [B * N, rhoIn])), [B, N, k]);
      out = tf.mul(out, weights ? tf.mul(weights, mask) : mask);
      return tf.reshape(out, [B, N * k]);
    });
  }

  function links(): ChannelLink[] {
    const out: ChannelLink[] = [];
    const firstAfterEq = chainDepth(phi) > 0 ? [{ name: chainWeight(phi, 0) }] : [{ name: chainWeight(rho, 0) }];
    for (let i = 0; i + 1 < e.length; i++) {
      const ins = [{ name: `eq${i}.lambda` }, { name: `eq${i}.gamma` }, ...(bias ? [{ name: `eq${i}.bias` }] : [])];
      const outs = i + 2 < e.length ? [{ name: `eq${i + 1}.lambda` }, { name: `eq${i + 1}.gamma` }] : firstAfterEq;
      out.push({ width: e[i + 1], ins, outs });
    }
    out.push(...chainLinks(phi));
    const last = chainDepth(phi) - 1;
    if (last >= 0) {
      out.push({ width: rhoIn, ins: [{ name: chainWeight(phi, last) }, ...(bias ? [{ name: chainBias(phi, last) }] : [])], outs: [{ name: chainWeight(rho, 0) }] });
    }
    return [...out, ...chainLinks(rho)];
  }

  function symmetries(params: Params): ParamSymmetry[] {
    return hiddenSymmetries(options.activation, params, layout, links());
  }

  /** The parameters of the first layer that sees each element's features: rows = the channels φ sees. */
  const firstLayer: string[] =
    e.length > 1 ? ['eq0.lambda', 'eq0.gamma'] : chainDepth(phi) > 0 ? [chainWeight(phi, 0)] : [chainWeight(rho, 0)];

  /**
   * G must act on every element alike (block diagonal, one F×F block g) and leave the weight
   * channel alone (neither changed nor read). Then the channels φ sees move by ĝ (g on those
   * channels), the masked pool is linear in them, and the first layer absorbs it: δW = ĝᵀW for
   * each of its weights (Λ and Γ of the first equivariant layer, or the first weight of φ, or of
   * ρ when φ is empty). The `nonzero` mask is unchanged to first order: G maps a zero element to
   * a zero element.
   */
  function generatorDirection(params: Params, G: Float32Array): GeneratorDirection {
    const found = elementBlock(G, N, F);
    if ('unsupported' in found) return found;
    const g = found.block;
    if (wc !== undefined) {
      const tol = 1e-6 * g.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-30);
      for (let q = 0; q < F; q++) {
        const changes = Math.abs(g[wc * F + q]) > tol;
        if (changes || (q !== wc && Math.abs(g[q * F + wc]) > tol)) {
          return {
            unsupported: `the generator ${changes ? 'changes' : 'reads'} the weight channel ${wc}${q === wc ? '' : ` (with channel ${q})`}; the energy-flow weights multiply φ in the pool, they do not pass through a linear first layer`,
          };
        }
      }
    }
    const seen = channels ? Array.from(channels) : Array.from({ length: F }, (_, i) => i);
    const gHat = new Float32Array(Fin * Fin);
    seen.forEach((p, a) => seen.forEach((q, b) => (gHat[a * Fin + b] = g[p * F + q])));
    const changes: Record<string, Float32Array> = {};
    for (const name of firstLayer) changes[name] = transposedTimes(gHat, Fin, hostValues(params, name), layout.shapes.get(name)![1]);
    return directionOf(specs, changes);
  }

  return {
    specs,
    paramCount,
    init,
    apply,
    generatorDirection,
    curvatureProducts: deepSetsCurvatureProducts(
      { elements: N, features: F, channels, ...(wc !== undefined ? { weightChannel: wc } : {}), equivariant: e, phi, rho, pool: options.pool, readout: options.readout, mask: options.mask, activation: options.activation, bias },
      specs,
    ),
    groups: {
      equivariant: specs.filter((s) => s.name.startsWith('eq')).map((s) => s.name),
      phi: specs.filter((s) => s.name.startsWith('phi.')).map((s) => s.name),
      rho: specs.filter((s) => s.name.startsWith('rho.')).map((s) => s.name),
    },
    symmetries,
    info: {
      architecture: `deep-sets ${wc === undefined ? '' : 'energy-flow '}eq[${options.equivariant}] phi[${phi.dims.join('-')}] ${options.pool} rho[${rho.dims.join('-')}] (${options.readout} readout, ${options.activation})`,
      paramCount,
      paramCountFormula: 'sum_i 2 e_i e_{i+1} + e_{i+1} over e = [F\', ...equivariant] + phi chain [e.at(-1), ...phi] + rho chain [phi.at(-1), ...rho, k]',
    },
  };
}

/** Deep sets / energy-flow network on padded sets with masks (invariant or equivariant readout). */
export const deepSets = defineModel({
  name: 'deep-sets',
  apiVersion: API_VERSION,
  description: 'Deep sets / energy-flow network on padded sets: equivariant layers, per-element φ, masked pooling, ρ',
  options: deepSetsOptions,
  check: (options, ctx) => deepSetsIssues(options, ctx),
  estimate: (options, ctx) => estimateDeepSets(options, ctx),
  create: (options, ctx) => createDeepSets(options, ctx),
});



