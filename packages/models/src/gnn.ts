import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { ACTIVATIONS, activation as activationOf, countParams, type ActivationName } from '@goldstone/core';
import { API_VERSION, defineModel, formatCount, type ModelCreateContext, type OptionIssue, type SizeEstimate, type ModelInstance, type ParamSpec, type ParamSymmetry, type Params, type Rng } from '@goldstone/plugin-api';
import { gnnCurvatureProducts } from './gnn-curvature';
import { applyChain, chainLinks, chainParamCount, chainSpecs, initChain, resolveInit, type DenseChain } from './dense-chain';
import { blockIds, blockLocalGraph, buildGraph, graphDirectedEdges, graphNodes, graphSpecSchema, type Graph } from './graph';
import { gcnEdges, gcnLayer, ginEdges, ginLayer, poolBlocks, poolNodes, type LayerEdges } from './graph-layers';
import { initStd, MLP_INITS } from './init-schemes';
import { FlatLayout, hiddenSymmetries, type ChannelLink } from './param-symmetries';

export const gnnOptions = z
  .object({
    /** The graph; default: a periodic 1-D lattice over the input's first axis (or the context's graph). */
    graph: graphSpecSchema.optional().describe("The graph; default: a periodic 1-D lattice over the input's first axis (or the context's graph)"),
    /** Message-passing layer: GCN (normalised adjacency with self-loops) or GIN (sum + MLP). */
    layer: z.enum(['gcn', 'gin']).default('gcn').describe('Message-passing layer: GCN (normalised adjacency with self-loops) or GIN (sum + MLP)'),
    /** Feature widths of the message-passing layers. */
    hidden: z.array(z.number().int().positive()).min(1).default([16, 16]).describe('Feature widths of the message-passing layers'),
    activation: z.enum(ACTIVATIONS as unknown as [ActivationName, ...ActivationName[]]).default('relu').describe("Activation after every message-passing layer (and GIN's inner layer) and between head layers"),
    bias: z.boolean().default(true).describe('Whether the layers have biases'),
    /** `graph`: pool all nodes; `node`: an output per node; `block`: pool blocks of `block` sites. */
    readout: z.enum(['graph', 'node', 'block']).default('graph').describe('graph: pool all nodes; node: an output per node; block: pool blocks of block sites'),
    pool: z.enum(['sum', 'mean']).default('mean').describe('Pooling of the graph and block readouts'),
    /** Block size (sites per side on a 2-D lattice) for `readout: 'block'`. */
    block: z.number().int().positive().default(2).describe("Block size (sites per side on a 2-D lattice) for readout: 'block'"),
    /** Hidden widths of the readout MLP (applied after pooling, or per node/block). */
    head: z.array(z.number().int().positive()).default([]).describe('Hidden widths of the readout MLP (after pooling, or per node/block)'),
    /** `graph`: messages along every edge; `block`: only along edges inside a block of `block` sites (never across blocks). */
    messages: z.enum(['graph', 'block']).default('graph').describe('graph: messages along every edge; block: only along edges inside a block of block sites (never across blocks)'),
    /** A self path per message-passing layer: H·S added inside the activation (GIN: inside the inner one). */
    skip: z.boolean().default(false).describe("A self path per message-passing layer: H·S (parameter gnn{i}.skip) added inside the activation (GIN: the inner one)"),
    /** GIN: learn ε (else ε = 0). */
    learnEps: z.boolean().default(true).describe('GIN: learn ε (else ε = 0)'),
    init: z.enum(MLP_INITS).default('auto').describe('Weight initialisation; auto = he for relu-like activations, glorot otherwise'),
    initScale: z.number().positive().default(0.1).describe('Standard deviation of the weights when init is normal'),
  })
  .strict();

export type GnnOptions = z.output<typeof gnnOptions>;

/** A model context that may carry a graph (tasks can supply one). */
export type GraphModelContext = Pick<ModelCreateContext, 'inputShape' | 'outputSize' | 'graph'>;

/**
 * Parameter count: message passing Σᵢ (fᵢ·fᵢ₊₁ + fᵢ₊₁) for GCN, Σᵢ (fᵢ·fᵢ₊₁ + fᵢ₊₁² + 2fᵢ₊₁ + 1) for
 * GIN (second MLP layer and learned ε), with f = [F, ...hidden] (biases dropped without `bias`, ε
 * without `learnEps`), + fᵢ·fᵢ₊₁ per layer with `skip`, plus the readout MLP [hidden.at(−1), ...head, k] (k = outputSize, or outputs
 * per node/block).
 */
export function gnnParamCount(o: Pick<GnnOptions, 'layer' | 'hidden' | 'bias' | 'learnEps' | 'head'> & { skip?: boolean }, features: number, k: number): number {
  const f = [features, ...o.hidden];
  let n = 0;
  for (let i = 0; i + 1 < f.length; i++) {
    n += f[i] * f[i + 1] + (o.bias ? f[i + 1] : 0) + (o.skip ? f[i] * f[i + 1] : 0);
    if (o.layer === 'gin') n += f[i + 1] * f[i + 1] + (o.bias ? f[i + 1] : 0) + (o.learnEps ? 1 : 0);
  }
  return n + chainParamCount([o.hidden[o.hidden.length - 1], ...o.head, k], o.bias);
}

export function createGnn(options: GnnOptions, ctx: GraphModelContext): ModelInstance {
  const { hidden, bias, layer } = options;
  const act = activationOf(options.activation);
  if (ctx.inputShape.length < 1 || ctx.inputShape.length > 2) {
    throw new RangeError(`gnn: inputShape must be [nodes] or [nodes, features], got [${ctx.inputShape}]`);
  }
  const [issue] = gnnIssues(options, ctx);
  if (issue) throw new RangeError(`gnn: ${issue.field ? `${issue.field}: ` : ''}${issue.message}`);
  const graph: Graph = options.graph
    ? buildGraph(options.graph)
    : ctx.graph ?? buildGraph({ kind: 'lattice-1d', size: ctx.inputShape[0], periodic: true });
  const N = ctx.inputShape[0];
  if (graph.nodes !== N) throw new RangeError(`gnn: the graph has ${graph.nodes} nodes but inputs have ${N} (inputShape [${ctx.inputShape}])`);
  const F = ctx.inputShape[1] ?? 1;
  const usesBlocks = options.readout === 'block' || options.messages === 'block';
  const base = structureOf(graph, options, usesBlocks);
  const units = base.units;
  if (ctx.outputSize % units !== 0) {
    throw new RangeError(`gnn: outputSize ${ctx.outputSize} is not a multiple of the ${units} ${options.readout === 'node' ? 'nodes' : 'blocks'} of the ${options.readout} readout`);
  }
  const k = ctx.outputSize / units;
  const f = [F, ...hidden];
  const head: DenseChain = { prefix: 'head.', dims: [hidden[hidden.length - 1], ...options.head, k], bias, activation: options.activation };
  // A 1-D chain with an output per node or block is the same map on a chain of any length: such a
  // model is size-agnostic and builds the chain of N′ sites (same periodicity) for inputs of N′.
  const chain = graph.kind === 'lattice-1d' && options.readout !== 'graph';
  const periodic = options.graph?.periodic ?? (ctx.graph ? N > 2 && graph.senders.length === 2 * N : true);
  const unitSites = usesBlocks ? options.block : 1;
  const structures = new Map<number, GnnStructure>([[N, base]]);
  function structure(sites: number): GnnStructure {
    let st = structures.get(sites);
    if (!st) {
      st = structureOf(buildGraph({ kind: 'lattice-1d', size: sites, periodic }), options, usesBlocks);
      structures.set(sites, st);
    }
    return st;
  }

  const specs: ParamSpec[] = [];
  for (let i = 0; i < hidden.length; i++) {
    if (layer === 'gin' && options.learnEps) specs.push({ name: `gnn${i}.eps`, shape: [1] });
    specs.push({ name: `gnn${i}.weight`, shape: [f[i], f[i + 1]] });
    if (bias) specs.push({ name: `gnn${i}.bias`, shape: [f[i + 1]] });
    if (layer === 'gin') {
      specs.push({ name: `gnn${i}.mlp.weight`, shape: [f[i + 1], f[i + 1]] });
      if (bias) specs.push({ name: `gnn${i}.mlp.bias`, shape: [f[i + 1]] });
    }
    if (options.skip) specs.push({ name: `gnn${i}.skip`, shape: [f[i], f[i + 1]] });
  }
  specs.push(...chainSpecs(head));
  const paramCount = countParams(specs);
  const layout = new FlatLayout(specs);
  const scheme = resolveInit(options.init, options.activation);

  function init(rng: Rng): Params {
    const p: Params = {};
    for (let i = 0; i < hidden.length; i++) {
      const dense = (name: string, a: number, b: number): void => {
        p[name] = tf.tensor2d(rng.split(name).normalArray(a * b, initStd(scheme, a, b, options.initScale)), [a, b], 'float32');
      };
      if (layer === 'gin' && options.learnEps) p[`gnn${i}.eps`] = tf.zeros([1], 'float32');
      dense(`gnn${i}.weight`, f[i], f[i + 1]);
      if (bias) p[`gnn${i}.bias`] = tf.zeros([f[i + 1]], 'float32');
      if (layer === 'gin') {
        dense(`gnn${i}.mlp.weight`, f[i + 1], f[i + 1]);
        if (bias) p[`gnn${i}.mlp.bias`] = tf.zeros([f[i + 1]], 'float32');
      }
      if (options.skip) dense(`gnn${i}.skip`, f[i], f[i + 1]);
    }
    initChain(head, rng, options.init, options.initScale, p);
    return p;
  }

  /** The structure for inputs of `sites` nodes: the model's own graph, or (size-agnostic chains) a chain of that length. */
  function structureFor(sites: number, x: tf.Tensor): GnnStructure {
    if (sites !== N) {
      if (!chain) {
        throw new Error(
          `gnn: input of shape [${x.shape}] does not match inputShape [${ctx.inputShape}]: only a gnn on a 1-D lattice with a node or block readout is size-agnostic (info.sizeAgnostic); this one is on ${graph.kind} with a ${options.readout} readout`,
        );
      }
      if (!(Number.isInteger(sites) && sites >= unitSites && sites % unitSites === 0)) {
        throw new Error(`gnn: input of shape [${x.shape}] has ${sites} sites of ${F} features; this gnn applies to chains of any multiple of ${unitSites} sites ([B, m·${unitSites}]${F > 1 ? ` × ${F} features` : ''})`);
      }
    }
    return structure(sites);
  }

  function apply(params: Params, x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const B = x.shape[0];
      const sites = x.size / (B * F);
      const st = structureFor(sites, x);
      let H = tf.transpose(tf.reshape(x, [B, sites, F]), [1, 0, 2]); // [N′, B, F]
      for (let i = 0; i < hidden.length; i++) {
        const b = bias ? params[`gnn${i}.bias`] : undefined;
        const skip = options.skip ? params[`gnn${i}.skip`] : undefined;
        if (layer === 'gcn') H = gcnLayer(H, st.edges, sites, params[`gnn${i}.weight`], b, act, skip);
        else {
          const eps = options.learnEps ? params[`gnn${i}.eps`] : 0;
          H = ginLayer(H, st.edges, sites, eps, params[`gnn${i}.weight`], b, params[`gnn${i}.mlp.weight`], bias ? params[`gnn${i}.mlp.bias`] : undefined, act, skip);
        }
      }
      const width = hidden[hidden.length - 1];
      if (options.readout === 'graph') return applyChain(head, params, poolNodes(H, options.pool));
      const P = options.readout === 'node' ? H : poolBlocks(H, st.blocks!.ids, st.blocks!.count, options.pool); // [U, B, width]
      const out = applyChain(head, params, tf.reshape(P, [st.units * B, width]));
      return tf.reshape(tf.transpose(tf.reshape(out, [st.units, B, k]), [1, 0, 2]), [B, st.units * k]);
    });
  }

  /** Hidden channel spaces: inside GIN MLPs, between message-passing layers, into and inside the head. */
  function links(): ChannelLink[] {
    const out: ChannelLink[] = [];
    for (let i = 0; i < hidden.length; i++) {
      // the next layer reads this layer's channels through its weight and, with skip, its self path
      const next = i + 1 < hidden.length ? [{ name: `gnn${i + 1}.weight` }, ...(options.skip ? [{ name: `gnn${i + 1}.skip` }] : [])] : [{ name: 'head.dense0.weight' }];
      const first = [{ name: `gnn${i}.weight` }, ...(bias ? [{ name: `gnn${i}.bias` }] : []), ...(options.skip ? [{ name: `gnn${i}.skip` }] : [])];
      if (layer === 'gin') {
        out.push({ width: f[i + 1], ins: first, outs: [{ name: `gnn${i}.mlp.weight` }] });
        out.push({ width: f[i + 1], ins: [{ name: `gnn${i}.mlp.weight` }, ...(bias ? [{ name: `gnn${i}.mlp.bias` }] : [])], outs: next });
      } else out.push({ width: f[i + 1], ins: first, outs: next });
    }
    return [...out, ...chainLinks(head)];
  }

  function symmetries(params: Params): ParamSymmetry[] {
    return hiddenSymmetries(options.activation, params, layout, links());
  }

  const groups: Record<string, string[]> = {
    message: specs.filter((s) => s.name.startsWith('gnn')).map((s) => s.name),
    head: specs.filter((s) => s.name.startsWith('head.')).map((s) => s.name),
  };

  return {
    specs,
    paramCount,
    init,
    apply,
    groups,
    symmetries,
    curvatureProducts: gnnCurvatureProducts(
      { layer, hidden, features: F, bias, skip: options.skip, learnEps: options.learnEps, activation: options.activation, readout: options.readout, pool: options.pool, head, structure: structureFor },
      specs,
    ),
    info: {
      architecture: `gnn ${layer} ${f.join('-')} on ${graph.kind} (${N} nodes, ${graph.senders.length} directed edges${options.messages === 'block' ? `, messages inside blocks of ${options.block}: ${base.messageEdges}` : ''})${options.skip ? ' with skip' : ''}, ${options.readout} readout (${options.pool}) → ${head.dims.join('-')}`,
      graph: { kind: graph.kind, nodes: N, edges: graph.senders.length / 2 },
      messages: options.messages,
      skip: options.skip,
      sizeAgnostic: chain,
      ...(chain ? { sizeUnit: { sites: unitSites, outputs: options.readout === 'node' ? k * unitSites : k } } : {}),
      paramCount,
      paramCountFormula:
        layer === 'gcn'
          ? `sum_i f_i*f_{i+1} + f_{i+1}${options.skip ? ' + f_i*f_{i+1} (skip)' : ''} over f = [F, ...hidden], + readout MLP [hidden.at(-1), ...head, k]`
          : `sum_i f_i*f_{i+1} + f_{i+1}^2 + 2 f_{i+1} + 1${options.skip ? ' + f_i*f_{i+1} (skip)' : ''} over f = [F, ...hidden], + readout MLP [hidden.at(-1), ...head, k]`,
    },
  };
}

/** What message passing and pooling need for one graph: its layer edges, blocks and readout units. */
interface GnnStructure {
  edges: LayerEdges;
  blocks?: { ids: Int32Array; count: number };
  units: number;
  /** Directed edges messages travel along (block-local with `messages: 'block'`). */
  messageEdges: number;
}

function structureOf(graph: Graph, o: GnnOptions, usesBlocks: boolean): GnnStructure {
  const blocks = usesBlocks ? blockIds(graph, o.block) : undefined;
  const along = o.messages === 'block' ? blockLocalGraph(graph, blocks!.ids) : graph;
  const units = o.readout === 'graph' ? 1 : o.readout === 'node' ? graph.nodes : blocks!.count;
  return { edges: o.layer === 'gcn' ? gcnEdges(along) : ginEdges(along), blocks, units, messageEdges: along.senders.length };
}

/** The graph network model plugin (GCN or GIN message passing, graph/node/block readouts). */
export const gnn = defineModel({
  name: 'gnn',
  apiVersion: API_VERSION,
  description: 'Graph network: GCN or GIN message passing on a lattice or given graph, graph/node/block readout',
  options: gnnOptions,
  check: (options, ctx) => gnnIssues(options, ctx),
  estimate: (options, ctx) => estimateGnn(options, ctx),
  create: (options, ctx) => createGnn(options, ctx as GraphModelContext),
});

/** The graph the model would use, as far as the checks need it: nodes, kind, side. */
function graphShape(o: GnnOptions, ctx: GraphModelContext): { nodes: number; kind: string; side?: number; given: boolean } {
  if (o.graph) return { nodes: graphNodes(o.graph), kind: o.graph.kind, ...(o.graph.kind === 'lattice-2d' ? { side: o.graph.size } : {}), given: true };
  if (ctx.graph) return { nodes: ctx.graph.nodes, kind: ctx.graph.kind, ...(ctx.graph.side !== undefined ? { side: ctx.graph.side } : {}), given: false };
  return { nodes: ctx.inputShape[0], kind: 'lattice-1d', given: false };
}

/** The `check` hook: the task's inputs fit the graph, and the readout fits the task's outputs. */
export function gnnIssues(o: GnnOptions, ctx: GraphModelContext): OptionIssue[] {
  if (ctx.inputShape.length < 1 || ctx.inputShape.length > 2) {
    return [{ field: '', message: `gnn needs inputs of shape [nodes] or [nodes, features]; the task's inputs are [${ctx.inputShape}]` }];
  }
  const N = ctx.inputShape[0];
  const g = graphShape(o, ctx);
  if (g.nodes !== N) {
    return [{ field: g.given ? 'graph.size' : '', message: `the graph has ${g.nodes} nodes but the task's inputs have ${N} (inputShape [${ctx.inputShape}])` }];
  }
  let units = 1;
  if (o.readout === 'node') units = N;
  if (o.readout === 'block' || o.messages === 'block') {
    const extent = g.kind === 'lattice-2d' && g.side !== undefined ? g.side : N;
    if (extent % o.block !== 0) {
      const uses = [o.readout === 'block' ? 'the block readout' : '', o.messages === 'block' ? 'block-local messages' : ''].filter(Boolean).join(' and ');
      return [{ field: 'block', message: `block ${o.block} must divide the ${g.kind === 'lattice-2d' ? `lattice side ${extent}` : `${extent} nodes`} for ${uses}` }];
    }
    if (o.readout === 'block') units = g.kind === 'lattice-2d' ? (extent / o.block) ** 2 : extent / o.block;
  }
  if (ctx.outputSize % units !== 0) {
    return [{ field: 'readout', message: `the ${o.readout} readout gives outputs per ${o.readout === 'node' ? 'node' : 'block'}, but the task's ${ctx.outputSize} outputs are not a multiple of its ${units} ${o.readout === 'node' ? 'nodes' : 'blocks'}` }];
  }
  return [];
}

/**
 * Bytes per directed edge while a graph is built from a spec (pairs, a set of keys, number
 * arrays: measured, a complete graph of 1,400 nodes builds in a 256 MB heap and one of 1,600 does
 * not) and as edge lists.
 */
const GRAPH_HEAP_BYTES_PER_EDGE = 120;
const GRAPH_ARRAY_BYTES_PER_EDGE = 20;

/** The `estimate` hook: the parameter count (set by `hidden`), and the graph `create` builds. */
export function estimateGnn(o: GnnOptions, ctx: GraphModelContext): SizeEstimate {
  const N = ctx.inputShape[0];
  const g = graphShape(o, ctx);
  const units = o.readout === 'graph' ? 1 : o.readout === 'node' ? N : g.kind === 'lattice-2d' && g.side ? (g.side / o.block) ** 2 : N / o.block;
  const params = gnnParamCount(o, ctx.inputShape[1] ?? 1, ctx.outputSize / units);
  const edges = o.graph ? graphDirectedEdges(o.graph) : ctx.graph ? ctx.graph.senders.length : 2 * N;
  const built = !ctx.graph || Boolean(o.graph); // a task's graph exists already
  const heapBytes = built ? GRAPH_HEAP_BYTES_PER_EDGE * edges : 0;
  const bytes = heapBytes + GRAPH_ARRAY_BYTES_PER_EDGE * (edges + N);
  const graphBig = bytes > 4 * params * 4;
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  // every message-passing layer (and GIN's inner one) on every node, then the head per readout unit
  const activations = N * sum(o.hidden) * (o.layer === 'gin' ? 2 : 1) + units * (sum(o.head) + ctx.outputSize / units);
  return { bytes, heapBytes, params, activations, largestArray: edges + N, field: graphBig ? (o.graph ? 'graph.size' : '') : 'hidden', what: `a ${g.kind} graph of ${formatCount(N)} nodes and ${formatCount(edges)} directed edges` };
}
