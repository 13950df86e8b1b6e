import { z } from 'zod';
import { checkSplit, type AnalysisCheckContext, type OptionIssue } from '@goldstone/plugin-api';

export const ROBUSTNESS_SECTIONS = ['noise', 'symmetry', 'fgsm', 'pgd', 'ibp', 'weight-noise'] as const;
export type RobustnessSection = (typeof ROBUSTNESS_SECTIONS)[number];

const sweep = (def: number[], what: string) =>
  z.array(z.number().nonnegative().finite()).min(1, `give at least one ${what}`).default(def);

export const robustnessOptions = z.strictObject({
  /** Which measurements to make (default: all). */
  sections: z.array(z.enum(ROBUSTNESS_SECTIONS)).min(1).default([...ROBUSTNESS_SECTIONS]).describe('Which measurements to make (default: all)'),
  /** The split inputs are perturbed on. */
  split: z.string().default('test').describe('The split inputs are perturbed on'),
  /** At most this many examples of the split (a seeded random subset when it is larger). */
  maxExamples: z.number().int().positive().default(512).describe('At most this many examples of the split (a seeded random subset when it is larger)'),
  /** Standard deviations σ of Gaussian input noise x + σ·N(0, I). */
  noiseSigmas: sweep([0, 0.01, 0.03, 0.1, 0.3, 1], 'noise level').describe('Standard deviations σ of Gaussian input noise x + σ·N(0, I)'),
  /** Noise draws per example and σ. */
  noiseDraws: z.number().int().positive().default(2).describe('Noise draws per example and σ'),
  /** Random group elements per example for each of the task's symmetries. */
  symmetryDraws: z.number().int().positive().default(4).describe("Random group elements per example for each of the task's symmetries"),
  /** Step sizes t of x + t·G·x along each symmetry's infinitesimal generator G (where the task gives one). */
  generatorSteps: sweep([0.01, 0.03, 0.1, 0.3], 'generator step').describe("Step sizes t of x + t·G·x along each symmetry's infinitesimal generator G (where the task gives one)"),
  /** ℓ∞ radii ε of the FGSM and PGD attacks (in input units). */
  epsilons: sweep([0.01, 0.03, 0.1, 0.3], 'attack radius').describe('ℓ∞ radii ε of the FGSM and PGD attacks (in input units)'),
  /** PGD steps (step size ε/4). */
  pgdSteps: z.number().int().positive().default(10).describe('PGD steps (step size ε/4)'),
  /** PGD random starts; each example keeps its strongest. */
  pgdRestarts: z.number().int().positive().default(1).describe('PGD random starts; each example keeps its strongest'),
  /** Where perturbed inputs are clipped: each feature's range in the train split, none, or a box. */
  domain: z
    .union([z.enum(['data', 'none']), z.strictObject({ min: z.number(), max: z.number() }).refine((d) => d.min < d.max, 'min must be below max')])
    .default('data').describe("Where perturbed inputs are clipped: each feature's range in the train split (data), none, or a { min, max } box"),
  /** ℓ∞ radii ε for interval bound propagation. */
  ibpEpsilons: sweep([0.001, 0.003, 0.01, 0.03, 0.1], 'IBP radius').describe('ℓ∞ radii ε for interval bound propagation'),
  /** Standard deviations σ of Gaussian weight noise w + σ·N(0, I). */
  weightSigmas: sweep([0.001, 0.003, 0.01, 0.03], 'weight-noise level').describe('Standard deviations σ of Gaussian weight noise w + σ·N(0, I)'),
  /** Weight-noise draws per σ. */
  weightDraws: z.number().int().positive().default(8).describe('Weight-noise draws per σ'),
  /** The split weight noise is measured on (the Hessian analysis uses train by default). */
  weightSplit: z.string().default('train').describe('The split weight noise is measured on'),
  /** Hutchinson probes for tr H when the Hessian analysis has not run. */
  traceProbes: z.number().int().positive().default(20).describe('Hutchinson probes for tr H when the Hessian analysis has not run'),
});

export type RobustnessOptions = z.output<typeof robustnessOptions>;

/** The `check` hook: the splits named exist (`weightSplit` only when weight noise is measured). */
export function robustnessIssues(o: RobustnessOptions, { task }: Pick<AnalysisCheckContext, 'task'>): OptionIssue[] {
  return [...checkSplit(task, 'split', o.split), ...(o.sections.includes('weight-noise') ? checkSplit(task, 'weightSplit', o.weightSplit) : [])];
}
