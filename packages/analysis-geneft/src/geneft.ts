import * as tf from '@tensorflow/tfjs-core';
import { predictSplit } from '@goldstone/core';
import { API_VERSION, defineAnalysis, packageInfo, UsageError, type AnalysisContext, type AnalysisResult, type Json } from '@goldstone/plugin-api';
import { classDistanceRatio, distanceCorrelation, firstPrincipalCoordinate, parallelogramResidual, rankCorrelationInterval, type Embedding } from './geometry';
import { embeddingShape, geneftIssues, geneftOptions, relationInfo, type GeneftOptions } from './options';
import { geneftHeadline } from './headline';
import { summarizeGeneft } from './summary';

/** This package's version, for provenance (read from its package.json). */
export const VERSION = packageInfo(import.meta.url).version;

/** The task's own metrics (`task.metrics`) of the trained model on a split, and the majority-label accuracy of that split (chance). */
export function splitScores(ctx: Pick<AnalysisContext, 'task' | 'model' | 'params'>, name: string): { metrics: Record<string, number>; chance: number; examples: number } {
  const split = ctx.task.splits[name]!;
  const pred = predictSplit(ctx.model, ctx.params, split);
  const outputs = ctx.task.outputSize;
  const metrics = tf.tidy(() => ctx.task.metrics(tf.tensor2d(pred, [split.n, outputs]), tf.tensor2d(split.y, [split.n, split.y.length / split.n])));
  // chance: always answering the split's most common label
  const width = split.y.length / split.n;
  const counts = new Map<number, number>();
  for (let i = 0; i < split.n; i++) {
    let label = 0;
    if (width === 1) label = split.y[i] > 0.5 ? 1 : 0;
    else for (let c = 1; c < width; c++) if (split.y[i * width + c] > split.y[i * width + label]) label = c;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return { metrics, chance: Math.max(...counts.values()) / split.n, examples: split.n };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** One run: accuracy on train and test, the task's information record, and the geometry of the trained embedding. */
export async function analyzeGeneft(ctx: AnalysisContext, opts: GeneftOptions): Promise<AnalysisResult> {
  const issues = geneftIssues(opts, ctx);
  if (issues.length) throw new UsageError(`geneft: ${issues.map((i) => i.message).join('; ')}`, { field: issues[0].field });
  const rel = relationInfo(ctx.task.info) as Exclude<ReturnType<typeof relationInfo>, string>;
  const [n, d] = embeddingShape(ctx.model.specs) as [number, number];
  const notes: string[] = [];

  const train = splitScores(ctx, 'train');
  const test = splitScores(ctx, 'test');
  const values = ctx.params.embedding.dataSync();
  const e: Embedding = { values: Float64Array.from(values), n, d };

  const pc1 = firstPrincipalCoordinate(e);
  const order = Array.from({ length: n }, (_, i) => i);
  const principal = { ...rankCorrelationInterval(pc1.coordinate, order, opts.resamples, opts.confidence, ctx.rng.split('principal')), varianceFraction: pc1.varianceFraction };
  const geometry: Record<string, Json> = { principal: principal as unknown as Json };
  if (rel.relation === 'order' || rel.relation === 'cycle' || rel.relation === 'lattice') {
    geometry.distance = { ...distanceCorrelation(e, rel.relation, opts.resamples, opts.confidence, ctx.rng.split('distance')), graph: rel.relation === 'order' ? '|a − b|' : rel.relation === 'cycle' ? 'min(|a − b|, n − |a − b|)' : 'Manhattan on the open lattice' } as unknown as Json;
  }
  if (rel.relation === 'equivalence' && rel.k !== undefined) {
    geometry.parallelogram = { k: rel.k, ...parallelogramResidual(e, rel.k) };
    geometry.classRatio = classDistanceRatio(e, rel.k);
  }
  if (rel.relation !== 'order') notes.push(`principal.rho compares the first principal coordinate with the node ids, which only the order makes meaningful (relation ${rel.relation})`);

  const info = ctx.task.info ?? {};
  const information = (info.information ?? {}) as Record<string, Json>;
  const result = {
    relation: rel.relation,
    nodes: rel.nodes,
    ...(rel.k !== undefined ? { k: rel.k } : {}),
    trainFraction: num(info.trainFraction),
    trainPairs: num(info.trainPairs),
    testPairs: num(info.testPairs),
    information: { bits: num(information.bits), pcInfo: num(information.pcInfo), labelEntropy: num(information.labelEntropy), automorphisms: information.automorphisms ?? null },
    accuracy: { train: num(train.metrics.accuracy), test: num(test.metrics.accuracy) },
    auc: { train: num(train.metrics.auc), test: num(test.metrics.auc) },
    chance: { train: train.chance, test: test.chance },
    embedding: { nodes: n, dim: d },
    geometry,
    notes,
  };
  return {
    result: result as unknown as Json,
    headline: geneftHeadline({ relation: rel.relation, accuracy: result.accuracy, examples: { train: train.examples, test: test.examples }, confidence: opts.confidence, geometry }),
    provenance: {
      analysis: 'geneft',
      version: VERSION,
      seed: ctx.seed,
      backend: ctx.backend,
      settings: opts as unknown as Json,
      examples: { train: train.examples, test: test.examples },
      method: {
        accuracy: "the task's metrics (task.metrics) on every example of the train and test splits; chance = the share of the split's most common label",
        principal: 'Spearman ρ of the first principal coordinate of the centred embedding (top eigenvector of its d×d covariance) with the node id; percentile bootstrap over nodes',
        distance: 'Spearman ρ over node pairs of ‖E_a − E_b‖ with the graph distance; percentile bootstrap over pairs',
        parallelogram: 'mean ‖(E_{i+k} − E_i) − (E_{j+k} − E_j)‖² over i < j, j + k < n, over the mean ‖E_a − E_b‖² of node pairs',
        classRatio: 'mean ‖E_a − E_b‖² within classes (a ≡ b mod k) over the mean between classes',
      },
    },
  };
}

/** The geneft analysis plugin. */
export const geneft = defineAnalysis({
  name: 'geneft',
  apiVersion: API_VERSION,
  description: 'GenEFT graph learning: per run, train/test accuracy and the geometry of the learned node embeddings; over a sweep, the fitted critical train fraction p_c (bootstrap) beside the information bound, the decoder Goldilocks zone, and claims with verdicts',
  options: geneftOptions,
  check: (options, ctx) => geneftIssues(options, ctx),
  run: (ctx, options) => analyzeGeneft(ctx, options),
  summarize: (results, options) => summarizeGeneft(results, geneftOptions.parse(options ?? {})),
});
