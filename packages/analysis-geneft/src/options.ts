import { z } from 'zod';
import type { AnalysisCheckContext, OptionIssue } from '@goldstone/plugin-api';

/** Relations whose node ids carry a geometry the analysis measures (task-relations' names). */
export const GEOMETRY_RELATIONS = ['order', 'equivalence', 'cycle', 'lattice'] as const;

const settingPath = z.string().min(1);

export const geneftOptions = z.strictObject({
  /** Bootstrap resamples of every per-run interval (nodes, or node pairs, resampled). */
  resamples: z.number().int().min(100).max(100000).default(1000).describe('Bootstrap resamples of the per-run rank-correlation intervals (nodes or node pairs resampled)'),
  /** Coverage of every percentile bootstrap interval (per run and in the summary). */
  confidence: z.number().gt(0).lt(1).default(0.95).describe('Coverage of the percentile bootstrap intervals'),
  // The sweep summary (`summarize`).
  /** The swept setting that holds the train fraction p (runs that have it form the p scan). */
  trainFraction: settingPath.default('task.options.trainFraction').describe('Summary: the swept setting of the train fraction p; runs that have it form the p scan'),
  /** The swept setting that holds the decoder's hidden widths (runs that have it form the width/depth scan). */
  hidden: settingPath.default('model.options.hidden').describe("Summary: the swept setting of the decoder's hidden widths; runs that have it form the width/depth scan"),
  /** Bootstrap resamples over seeds in the summary (p_c interval, Goldilocks margin). */
  summaryResamples: z.number().int().min(100).max(100000).default(1000).describe('Summary: bootstrap resamples over seeds (p_c interval, Goldilocks margin)'),
  /** Seed of the summary's bootstrap. */
  summarySeed: z.number().int().min(0).default(1).describe("Summary: seed of the bootstrap"),
  /** Order runs with test accuracy at least this count as generalising, for the geometry claim. */
  generalised: z.number().gt(0).lt(1).default(0.9).describe('Summary: test accuracy from which an order run counts as generalising (geometry claim)'),
  /** |ρ| a generalising order run's first principal coordinate should reach, for the geometry claim. */
  orderedRho: z.number().gt(0).lt(1).default(0.9).describe("Summary: |ρ| of the first principal coordinate with the node order that the geometry claim asks of generalising order runs"),
});

export type GeneftOptions = z.output<typeof geneftOptions>;

/** The node count and relation of a relations task (its `info`), or why not. */
export function relationInfo(info: Record<string, unknown> | undefined): { relation: string; nodes: number; k?: number } | string {
  const relation = info?.relation;
  const nodes = info?.nodes;
  if (typeof relation !== 'string' || typeof nodes !== 'number') return `the geneft analysis needs a relations task (info.relation and info.nodes, as the relations task records); found ${relation === undefined ? 'no info.relation' : `info.relation = ${JSON.stringify(relation)}`}`;
  const k = info?.k;
  return { relation, nodes, ...(typeof k === 'number' ? { k } : {}) };
}

/** The `embedding` parameter's [n, d], or why the model has none. */
export function embeddingShape(specs: readonly { name: string; shape: readonly number[] }[]): [number, number] | string {
  const spec = specs.find((s) => s.name === 'embedding');
  if (!spec) return `the geneft analysis measures the learned node embeddings, so it needs a model with an "embedding" parameter [nodes, dim] (the embedding-decoder model has one); this model's parameters are ${specs.map((s) => s.name).join(', ') || 'none'}`;
  if (spec.shape.length !== 2) return `the model's "embedding" parameter must be [nodes, dim]; found shape [${spec.shape.join(', ')}]`;
  return [spec.shape[0], spec.shape[1]];
}

/** The `check` hook: a relations task, a model with an embedding of one row per node, a binary or classification output, train and test splits. */
export function geneftIssues(_o: GeneftOptions, ctx: Pick<AnalysisCheckContext, 'task' | 'model'>): OptionIssue[] {
  const issues: OptionIssue[] = [];
  const rel = relationInfo(ctx.task.info);
  if (typeof rel === 'string') issues.push({ field: '', message: rel });
  const shape = embeddingShape(ctx.model.specs);
  if (typeof shape === 'string') issues.push({ field: '', message: shape });
  if (typeof rel !== 'string' && typeof shape !== 'string' && shape[0] !== rel.nodes) {
    issues.push({ field: '', message: `the model's "embedding" has ${shape[0]} rows but the task has ${rel.nodes} nodes; the geometry needs one row per node` });
  }
  if (ctx.task.outputKind === 'regression') issues.push({ field: '', message: 'the geneft analysis measures accuracy, so it needs a binary or classification task; found outputKind "regression"' });
  for (const s of ['train', 'test']) {
    const split = ctx.task.splits[s];
    if (!split || split.n === 0) issues.push({ field: '', message: `the geneft analysis needs a non-empty "${s}" split (the task has: ${Object.keys(ctx.task.splits).join(', ')})` });
  }
  return issues;
}
