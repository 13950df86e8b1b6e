import { describe, expect, it } from 'vitest';
import { blockMlp } from './block-mlp';
import { deepSets } from './deep-sets';
import { embeddingDecoder } from './embedding-decoder';
import { gnn } from './gnn';
import { graphSpecSchema } from './graph';
import { mlp } from './mlp';

const ctx = (inputShape: number[], outputSize: number) => ({ inputShape, outputSize, outputKind: 'regression' as const });

describe('model options: rules between options in the schema', () => {
  it('tied or shared need block, in mlp and block-mlp, at path block', () => {
    for (const plugin of [mlp, blockMlp]) {
      const r = plugin.options.safeParse({ tied: true, shared: true });
      expect(r.success).toBe(false);
      expect(r.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['block', 'tied: true and shared: true needs block (the sites per block); none was given']]);
      expect(plugin.options.safeParse({ tied: true, block: 2 }).success).toBe(true);
    }
  });

  it('graph specs: edges need a list of nodes inside the graph, and node ids fit int32', () => {
    const issues = (spec: unknown) => graphSpecSchema.safeParse(spec).error?.issues.map((i) => i.path.join('.'));
    expect(issues({ kind: 'edges', size: 3 })).toEqual(['edges']);
    expect(issues({ kind: 'edges', size: 3, edges: [[0, 1], [1, 3]] })).toEqual(['edges.1']);
    expect(issues({ kind: 'lattice-2d', size: 50000 })).toEqual(['size']);
    expect(issues({ kind: 'lattice-2d', size: 40000 })).toBeUndefined();
  });
});

describe('model check hooks: rules against the task shapes, found before create', () => {
  it('name the option at fault', () => {
    const field = (issues: { field: string }[] | void) => (issues ?? []).map((i) => i.field);
    expect(field(blockMlp.check!(blockMlp.options.parse({ block: 3, tied: true }), ctx([8], 4)))).toEqual(['block']);
    expect(field(mlp.check!(mlp.options.parse({ block: 2, shared: true }), ctx([8], 3)))).toEqual(['shared']);
    expect(field(mlp.check!(mlp.options.parse({ block: 3 }), ctx([8], 3)))).toEqual([]); // block alone: a plain mlp
    expect(field(gnn.check!(gnn.options.parse({ graph: { kind: 'lattice-2d', size: 3 } }), ctx([8], 1)))).toEqual(['graph.size']);
    expect(field(gnn.check!(gnn.options.parse({ graph: { kind: 'lattice-2d', size: 4 }, readout: 'block', block: 3 }), ctx([16], 1)))).toEqual(['block']);
    expect(field(gnn.check!(gnn.options.parse({ readout: 'node' }), ctx([5], 7)))).toEqual(['readout']);
    expect(field(deepSets.check!(deepSets.options.parse({ weightChannel: 3 }), ctx([5, 3], 1)))).toEqual(['weightChannel']);
    expect(field(embeddingDecoder.check!(embeddingDecoder.options.parse({}), ctx([2], 1)))).toEqual(['nodes']);
  });
});

describe('model estimate hooks', () => {
  it('count the parameters without building the model', () => {
    expect(mlp.estimate!(mlp.options.parse({ hidden: [100000, 100000] }), ctx([16], 8))).toEqual({ bytes: 0, params: 16 * 1e5 + 1e5 + 1e10 + 1e5 + 1e5 * 8 + 8, field: 'hidden' });
  });

  it('gnn: a given graph is counted by its edges, blamed on graph.size when it dominates', () => {
    const est = gnn.estimate!(gnn.options.parse({ graph: { kind: 'complete', size: 10000 } }), ctx([10000], 1));
    expect(est.field).toBe('graph.size');
    expect(est.heapBytes).toBe(120 * 10000 * 9999);
    expect(est.what).toBe('a complete graph of 10000 nodes and 1.0e8 directed edges');
  });
});
