import { z } from 'zod';
import { checkSplit, type AnalysisCheckContext, type OptionIssue } from '@goldstone/plugin-api';

export const ROBUSTNESS_SECTIONS = ['noise', 'smearing', 'symmetry', 'perturbations', 'fgsm', 'pgd', 'ibp', 'weight-noise'] as const;
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
  /** Relative resolutions σ of smearing x + σ·s_f·N(0, 1) on real values (s_f: feature f's standard deviation over the train split's real values). */
  smearSigmas: sweep([0, 0.01, 0.03, 0.1, 0.3], 'smearing level').describe("Relative resolutions σ of smearing x + σ·s_f·N(0, 1) on real values only (s_f: feature f's standard deviation over the real values of the train split)"),
  /** Smearing draws per example and σ. */
  smearDraws: z.number().int().positive().default(2).describe('Smearing draws per example and σ'),
  /** Strengths at which each of the task's own perturbations is applied (default: ¼, ½, 1 × its maxStrength, or 1, 2, 4 without one). */
  perturbationStrengths: z
    .array(z.number().nonnegative().finite())
    .min(1, 'give at least one perturbation strength')
    .optional()
    .describe("Strengths at which each of the task's own perturbations is applied (default: 0.25, 0.5, 1 times its maxStrength, or 1, 2, 4 without one)"),
  /** Draws per example and strength of each task perturbation. */
  perturbationDraws: z.number().int().positive().default(2).describe("Draws per example and strength of each of the task's perturbations"),
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
  /** The noise σ the headline's noiseDrop is read at (the nearest swept σ). */
  referenceSigma: z.number().positive().finite().default(0.1).describe("The noise σ the headline's noiseDrop is read at (the nearest σ of noiseSigmas)"),
  /** The relative smearing σ the headline's smearDrop is read at (the nearest swept σ). */
  referenceSmear: z.number().positive().finite().default(0.1).describe("The smearing σ the headline's smearDrop is read at (the nearest σ of smearSigmas)"),
  /** The ℓ∞ radius the headline's fgsmDrop and pgdDrop are read at (the nearest swept ε). */
  referenceEpsilon: z.number().positive().finite().default(0.1).describe("The ℓ∞ radius the headline's fgsmDrop and pgdDrop are read at (the nearest ε of epsilons)"),
  /** Hutchinson probes for tr H when the Hessian analysis has not run. */
  traceProbes: z.number().int().positive().default(20).describe('Hutchinson probes for tr H when the Hessian analysis has not run'),
});

export type RobustnessOptions = z.output<typeof robustnessOptions>;

/** The `check` hook: the splits named exist (`weightSplit` only when weight noise is measured). */
export function robustnessIssues(o: RobustnessOptions, { task }: Pick<AnalysisCheckContext, 'task'>): OptionIssue[] {
  return [...checkSplit(task, 'split', o.split), ...(o.sections.includes('weight-noise') ? checkSplit(task, 'weightSplit', o.weightSplit) : [])];
}
