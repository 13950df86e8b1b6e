import { higherIsBetter, predictSplit, primaryMetric, sampleSplit, scoreArrays } from '@goldstone/core';
import { API_VERSION, defineAnalysis, packageInfo, type AnalysisContext, type AnalysisResult, type Json } from '@goldstone/plugin-api';
import { correlationsHeadline } from './headline';
import { correlationsOptions, type CorrelationsOptions } from './options';
import { resolvePath } from './paths';
import { summarizeCorrelations, type CorrelationRow } from './summary';

/** This package's version, for provenance (read from its package.json). */
export const VERSION = packageInfo(import.meta.url).version;

/**
 * The run's own outcomes: the primary metric (AUC for binary tasks, accuracy for classification,
 * MSE for regression) on test and on each further split, and the generalisation gap, oriented so
 * that a larger gap is worse (train − test for AUC and accuracy, test − train for MSE).
 */
export function performanceOutcomes(ctx: AnalysisContext, maxExamples: number): { metric: string; values: Record<string, number>; examples: Record<string, number> } {
  const { task } = ctx;
  const metric = primaryMetric(task.outputKind);
  const values: Record<string, number> = {};
  const examples: Record<string, number> = {};
  const score: Record<string, number> = {};
  for (const [name, split] of Object.entries(task.splits)) {
    if (!split || split.n === 0) continue;
    const s = sampleSplit(split, maxExamples, ctx.rng.split(`split:${name}`));
    score[name] = scoreArrays(task.outputKind, predictSplit(ctx.model, ctx.params, s), s.y, task.outputSize)[metric];
    examples[name] = s.n;
  }
  if (score.test !== undefined) values[`test.${metric}`] = score.test;
  if (score.train !== undefined && score.test !== undefined) values[`gap.${metric}`] = higherIsBetter(metric) ? score.train - score.test : score.test - score.train;
  for (const [name, v] of Object.entries(score)) if (name !== 'train' && name !== 'test') values[`${name}.${metric}`] = v;
  return { metric, values, examples };
}

/** One run's row: each complexity measure and outcome read from earlier results (null, with a note, where a path does not resolve). */
export async function measureRun(ctx: AnalysisContext, opts: CorrelationsOptions): Promise<AnalysisResult> {
  const notes: string[] = [];
  const read = (what: string, paths: Record<string, string>) => {
    const out: Record<string, number | null> = {};
    for (const [name, path] of Object.entries(paths)) {
      const r = resolvePath(ctx.previous, path);
      out[name] = r.value;
      if (r.note !== undefined) notes.push(`${what} ${name}: ${r.note}`);
    }
    return out;
  };
  const complexity = read('complexity', opts.complexity);
  const perf = opts.performance ? performanceOutcomes(ctx, opts.maxExamples) : undefined;
  const outcomes: Record<string, number | null> = { ...(perf?.values ?? {}), ...read('outcome', opts.outcomes) };
  const row: CorrelationRow = { metric: perf?.metric ?? null, complexity, outcomes, notes };
  return {
    result: row as unknown as Json,
    headline: correlationsHeadline({ metric: row.metric, outcomes, complexity, examples: perf?.examples ?? {} }),
    provenance: {
      analysis: 'correlations',
      version: VERSION,
      seed: ctx.seed,
      backend: ctx.backend,
      paths: { complexity: opts.complexity, outcomes: opts.outcomes },
      performance: perf ? { metric: perf.metric, examples: perf.examples } : null,
      previous: Object.keys(ctx.previous),
    },
  };
}

export const correlations = defineAnalysis({
  name: 'correlations',
  apiVersion: API_VERSION,
  description: 'Sweep summary: Spearman ρ (bootstrap intervals) of complexity measures from earlier analyses against outcomes, across runs; list it last',
  options: correlationsOptions,
  run: measureRun,
  summarize: summarizeCorrelations,
});
