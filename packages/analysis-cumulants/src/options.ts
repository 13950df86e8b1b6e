import { z } from 'zod';
import type { AnalysisCheckContext, OptionIssue } from '@goldstone/plugin-api';

export const cumulantsOptions = z.strictObject({
  /** Splits to measure (default: every split of the task). */
  splits: z.array(z.string().min(1)).min(1).optional().describe('Splits to measure (default: every split of the task)'),
  /** At most this many examples of each split (a seeded random subset when larger). */
  maxExamples: z.number().int().min(16).default(8192).describe('At most this many examples of each split (a seeded subset when larger)'),
  /** Bootstrap resamples of the examples for every interval. */
  resamples: z.number().int().min(50).max(100000).default(200).describe('Bootstrap resamples of the examples for every interval'),
  /** Coverage of the percentile bootstrap intervals. */
  confidence: z.number().gt(0).lt(1).default(0.95).describe('Coverage of the percentile bootstrap intervals'),
  /** The split the RG flow starts from. */
  flowSplit: z.string().min(1).default('test').describe('The split the RG flow (the learned map iterated) starts from'),
  /** Iterations k = 1…flowSteps of the learned map (stops earlier when fewer than `block` sites remain). */
  flowSteps: z.number().int().min(1).max(8).default(3).describe('Iterations k = 1…flowSteps of the learned map (fewer when the sites run out)'),
  /** Analytic cumulant propagation through the network, against its outputs (Monte Carlo). */
  propagation: z.boolean().default(true).describe('Propagate cumulants analytically through the network and compare with its outputs'),
});

export type CumulantsOptions = z.output<typeof cumulantsOptions>;

/** The task's block size b (the CLT task's `info.block`), or undefined. */
export function blockOf(info: Record<string, unknown> | undefined): number | undefined {
  const b = info?.block;
  return typeof b === 'number' && Number.isInteger(b) && b >= 1 ? b : undefined;
}

export function cumulantsIssues(o: CumulantsOptions, ctx: Pick<AnalysisCheckContext, 'task'>): OptionIssue[] {
  const issues: OptionIssue[] = [];
  const task = ctx.task;
  if (blockOf(task.info) === undefined) {
    issues.push({ field: 'task', message: `the cumulants analysis needs a coarse-graining task with a block size (info.block, as the clt task has); found ${task.info?.block === undefined ? 'no info.block' : `info.block = ${JSON.stringify(task.info.block)}`}` });
  }
  if (task.outputKind !== 'regression') issues.push({ field: 'task', message: `the cumulants analysis needs a regression task, found outputKind "${task.outputKind}"` });
  const names = Object.keys(task.splits);
  for (const [i, s] of (o.splits ?? []).entries()) {
    if (!task.splits[s]) issues.push({ field: `splits[${i}]`, message: `the task has no split "${s}" (it has: ${names.join(', ')})` });
  }
  if (!task.splits[o.flowSplit]) issues.push({ field: 'flowSplit', message: `the task has no split "${o.flowSplit}" (it has: ${names.join(', ')})` });
  return issues;
}
