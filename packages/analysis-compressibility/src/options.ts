import { z } from 'zod';
import { checkSplit, type AnalysisCheckContext, type OptionIssue } from '@goldstone/plugin-api';

export const COMPRESSIBILITY_SECTIONS = ['pruning', 'quantization', 'low-rank'] as const;
export type CompressibilitySection = (typeof COMPRESSIBILITY_SECTIONS)[number];

const fraction = z.number().min(0).max(1);

export const compressibilityOptions = z.strictObject({
  /** Which measurements to make (default: all). */
  sections: z.array(z.enum(COMPRESSIBILITY_SECTIONS)).min(1).default([...COMPRESSIBILITY_SECTIONS]).describe('Which measurements to make (default: all)'),
  /** The split the metric is measured on. */
  split: z.string().default('test').describe('The split the metric is measured on'),
  /** At most this many examples of the split (a seeded random subset when it is larger). */
  maxExamples: z.number().int().positive().default(1024).describe('At most this many examples of the split (a seeded random subset when it is larger)'),
  /** Which parameters are compressed: weight matrices (tensors of rank ≥ 2) or every parameter. */
  include: z.enum(['weights', 'all']).default('weights').describe('Which parameters are compressed: weight matrices (tensors of rank ≥ 2) or every parameter'),
  /** Fractions of the included parameters set to zero, smallest magnitudes first. */
  sparsities: z.array(fraction).min(1).default([0, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 1]).describe('Fractions of the included parameters set to zero, smallest magnitudes first'),
  /** Magnitude threshold over all included parameters at once (global) and/or per tensor (layer). */
  scopes: z.array(z.enum(['global', 'layer'])).min(1).default(['global', 'layer']).describe('Magnitude threshold over all included parameters at once (global) and/or per tensor (layer)'),
  /** Fine-tuning after pruning (every scope), with the pruned weights held at zero. `epochs: 0` turns it off. */
  fineTune: z
    .strictObject({
      epochs: z.number().int().min(0).default(2),
      optimizer: z.enum(['sgd', 'adam', 'adamw']).default('adam'),
      lr: z.number().positive().default(1e-3),
      batchSize: z.number().int().positive().default(32),
      /** The sparsities fine-tuned (default: those of the sweep above 0 and below 1). */
      sparsities: z.array(fraction).optional(),
    })
    .default({ epochs: 2, optimizer: 'adam', lr: 1e-3, batchSize: 32 }).describe('Fine-tuning after pruning (every scope), pruned weights held at zero; epochs: 0 turns it off'),
  /** Bit widths of uniform symmetric per-tensor quantisation. */
  bits: z.array(z.number().int().min(2).max(32)).min(1).default([32, 16, 12, 8, 6, 5, 4, 3, 2]).describe('Bit widths of uniform symmetric per-tensor quantisation'),
  /** Ranks of the per-layer truncated SVD: `auto` = 1, 2, 4, … below full rank, and full rank. */
  ranks: z.union([z.literal('auto'), z.array(z.number().int().positive()).min(1)]).default('auto').describe('Ranks of the per-layer truncated SVD: auto = 1, 2, 4, … below full rank, and full rank'),
  /** Degradation δ the summaries allow: an absolute drop of accuracy/AUC, a relative rise of MSE. */
  tolerance: z.number().nonnegative().default(0.01).describe('Degradation δ the summaries allow: an absolute drop of accuracy/AUC, a relative rise of MSE'),
});

export type CompressibilityOptions = z.output<typeof compressibilityOptions>;

/** The `check` hook: the split exists, and with `include: weights` the model has weight matrices to compress. */
export function compressibilityIssues(o: CompressibilityOptions, { task, model }: Pick<AnalysisCheckContext, 'task' | 'model'>): OptionIssue[] {
  const issues = checkSplit(task, 'split', o.split);
  if (o.include === 'weights' && !model.specs.some((s) => s.shape.length >= 2)) {
    issues.push({ field: 'include', message: `the model has no parameters of rank ≥ 2 to compress (it has: ${model.specs.map((s) => `${s.name} [${s.shape}]`).join(', ')}); use include: all` });
  }
  return issues;
}
