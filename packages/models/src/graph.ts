import { z } from 'zod';

/**
 * How a graph is given in options: a 1-D ring/chain or 2-D square lattice of `size` (× `size`)
 * sites, the complete graph on `size` nodes, or an explicit undirected edge list on `size` nodes.
 */
export const graphSpecSchema = z
  .object({
    kind: z.enum(['lattice-1d', 'lattice-2d', 'complete', 'edges']),
    /** Nodes (1-D, complete, edges) or side length (2-D: size × size nodes). */
    size: z.number().int().positive(),
    /** Lattices: wrap around (a ring / torus). */
    periodic: z.boolean().default(true),
    /** For `kind: 'edges'`: undirected edges as node pairs (each becomes two directed edges). */
    edges: z.array(z.tuple([z.number().int().min(0), z.number().int().min(0)])).optional(),
  })
  .strict()
  .superRefine((g, ctx) => {
    // node ids are int32 (edge lists are Int32Arrays)
    if (graphNodes(g) > MAX_NODES) {
      ctx.addIssue({ code: 'custom', path: ['size'], message: `a ${g.kind} graph of size ${g.size} has ${graphNodes(g)} nodes, more than the ${MAX_NODES} node ids of an int32 edge list` });
    }
    if (g.kind === 'edges' && !g.edges) ctx.addIssue({ code: 'custom', path: ['edges'], message: "kind 'edges' needs an edges list of node pairs" });
    g.edges?.forEach(([a, b], i) => {
      if (a >= g.size || b >= g.size) ctx.addIssue({ code: 'custom', path: ['edges', i], message: `the edge [${a}, ${b}] names a node outside 0..${g.size - 1}` });
    });
  });

/** Largest number of nodes of a graph (node ids are int32). */
export const MAX_NODES = 2 ** 31 - 1;

/** Nodes of the graph a spec describes (`size`, or `size²` for a 2-D lattice). */
export function graphNodes(spec: Pick<GraphSpec, 'kind' | 'size'>): number {
  return spec.kind === 'lattice-2d' ? spec.size * spec.size : spec.size;
}

/** Directed edges of the graph a spec describes, at most (each undirected edge counts twice). */
export function graphDirectedEdges(spec: Pick<GraphSpec, 'kind' | 'size' | 'edges'>): number {
  const n = spec.size;
  switch (spec.kind) {
    case 'lattice-1d':
      return 2 * n;
    case 'lattice-2d':
      return 4 * n * n;
    case 'complete':
      return n * (n - 1);
    case 'edges':
      return 2 * (spec.edges?.length ?? 0);
  }
}

export type GraphSpec = z.input<typeof graphSpecSchema>;

/**
 * A graph as plain values: `nodes` nodes and directed edges `senders[e] → receivers[e]` (an
 * undirected edge appears in both directions; no self-loops). `blocks` (optional) maps each node
 * to a block for block pooling; `side` is the side length of a 2-D lattice.
 */
export interface Graph {
  nodes: number;
  senders: Int32Array;
  receivers: Int32Array;
  kind: string;
  side?: number;
}

function fromPairs(nodes: number, pairs: [number, number][], kind: string, side?: number): Graph {
  const seen = new Set<string>();
  const s: number[] = [];
  const r: number[] = [];
  for (const [a, b] of pairs) {
    if (a >= nodes || b >= nodes) throw new RangeError(`graph: edge [${a}, ${b}] names a node outside 0..${nodes - 1}`);
    if (a === b) continue;
    for (const [u, v] of [
      [a, b],
      [b, a],
    ]) {
      const key = `${u},${v}`;
      if (seen.has(key)) continue;
      seen.add(key);
      s.push(u);
      r.push(v);
    }
  }
  return { nodes, senders: Int32Array.from(s), receivers: Int32Array.from(r), kind, side };
}

/** Build the graph a spec describes. */
export function buildGraph(spec: GraphSpec): Graph {
  const g = graphSpecSchema.parse(spec);
  const n = g.size;
  const pairs: [number, number][] = [];
  switch (g.kind) {
    case 'lattice-1d':
      for (let i = 0; i + 1 < n; i++) pairs.push([i, i + 1]);
      if (g.periodic && n > 2) pairs.push([n - 1, 0]);
      return fromPairs(n, pairs, g.kind);
    case 'lattice-2d': {
      const at = (r: number, c: number): number => r * n + c;
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < n; c++) {
          if (c + 1 < n) pairs.push([at(r, c), at(r, c + 1)]);
          else if (g.periodic && n > 2) pairs.push([at(r, c), at(r, 0)]);
          if (r + 1 < n) pairs.push([at(r, c), at(r + 1, c)]);
          else if (g.periodic && n > 2) pairs.push([at(r, c), at(0, c)]);
        }
      }
      return fromPairs(n * n, pairs, g.kind, n);
    }
    case 'complete':
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs.push([i, j]);
      return fromPairs(n, pairs, g.kind);
    case 'edges':
      if (!g.edges) throw new Error("graph: kind 'edges' needs an `edges` list");
      return fromPairs(n, g.edges, g.kind);
  }
}

/** Degree of every node (number of incoming edges). */
export function degrees(graph: Graph): Float32Array {
  const d = new Float32Array(graph.nodes);
  for (const r of graph.receivers) d[r] += 1;
  return d;
}

/**
 * Block of every node for block pooling with blocks of `block` sites (1-D: consecutive runs;
 * 2-D lattice: block × block squares, numbered row-major). Throws when the size is not a multiple.
 */
export function blockIds(graph: Graph, block: number): { ids: Int32Array; count: number } {
  if (graph.kind === 'lattice-2d') {
    const L = graph.side!;
    if (L % block !== 0) throw new RangeError(`block pooling: side ${L} is not a multiple of block ${block}`);
    const per = L / block;
    const ids = new Int32Array(L * L);
    for (let r = 0; r < L; r++) for (let c = 0; c < L; c++) ids[r * L + c] = Math.floor(r / block) * per + Math.floor(c / block);
    return { ids, count: per * per };
  }
  if (graph.nodes % block !== 0) throw new RangeError(`block pooling: ${graph.nodes} nodes are not a multiple of block ${block}`);
  const ids = new Int32Array(graph.nodes);
  for (let i = 0; i < graph.nodes; i++) ids[i] = Math.floor(i / block);
  return { ids, count: graph.nodes / block };
}

/**
 * The subgraph of the edges whose two ends lie in the same block (`ids` from `blockIds`): message
 * passing on it never mixes blocks, so a block readout of it is a block-local map.
 */
export function blockLocalGraph(graph: Graph, ids: Int32Array): Graph {
  const s: number[] = [];
  const r: number[] = [];
  for (let e = 0; e < graph.senders.length; e++) {
    if (ids[graph.senders[e]] !== ids[graph.receivers[e]]) continue;
    s.push(graph.senders[e]);
    r.push(graph.receivers[e]);
  }
  return { nodes: graph.nodes, senders: Int32Array.from(s), receivers: Int32Array.from(r), kind: `${graph.kind} (block-local)`, ...(graph.side !== undefined ? { side: graph.side } : {}) };
}
