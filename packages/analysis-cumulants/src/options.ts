import { z } from 'zod';
import type { AnalysisCheckContext, OptionIssue } from '@goldstone/plugin-api';

const settingValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

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
  // The sweep summary (`summarize`): how runs are grouped into model classes and lines.
  /** The sweep setting that names a run's model class (a path into the swept settings). */
  classBy: z.string().min(1).default('model').describe("Summary: the sweep setting that names a run's model class (a path into the swept settings)"),
  /** Model classes, most constrained first: a run belongs to the first whose `match` it satisfies. */
  classes: z
    .array(
      z.strictObject({
        label: z.string().min(1),
        /** Paths inside the `classBy` setting → values (compared as JSON; null matches a missing key). */
        match: z.record(z.string().min(1), settingValue).default({}),
      }),
    )
    .min(1)
    .optional()
    .describe('Summary: model classes ordered from most constrained to most expressive; a run belongs to the first class whose match (paths inside classBy → values) it satisfies'),
  /** The sweep setting drawn as one line per value (the activation). */
  lines: z.string().min(1).default('model.options.activation').describe('Summary: the sweep setting drawn as one line per value'),
  /** The line of the linear models (the reference of the expressivity claim). */
  linear: z.string().min(1).default('identity').describe('Summary: the line value of the linear models'),
  /** A (class, line) whose mean OOD MSE is below this is exact. */
  exactMse: z.number().positive().default(1e-6).describe('Summary: a (class, line) whose mean OOD MSE is below this counts as exact'),
  /** The most expressive class (default: the last class). */
  expressive: z.string().min(1).optional().describe('Summary: the most expressive class (default: the last of classes)'),
  /** The reference of the expressivity claim at the linear line (default: the first class). */
  reference: z.string().min(1).optional().describe('Summary: the class whose linear model the expressive class is compared with (default: the first of classes)'),
  /** Seed of the bootstrap over seeds in the summary. */
  summarySeed: z.number().int().default(1).describe('Summary: seed of the bootstrap over seeds'),
}).superRefine((o, ctx) => {
  const labels = (o.classes ?? []).map((c) => c.label);
  const seen = new Set<string>();
  for (const [i, l] of labels.entries()) {
    if (seen.has(l)) ctx.addIssue({ code: 'custom', path: ['classes', i, 'label'], message: `class labels must be distinct; "${l}" appears twice` });
    seen.add(l);
  }
  for (const key of ['expressive', 'reference'] as const) {
    const v = o[key];
    if (v !== undefined && !labels.includes(v)) ctx.addIssue({ code: 'custom', path: [key], message: `expected one of the class labels (${labels.join(', ') || 'no classes given'}), found "${v}"` });
  }
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
