import { z } from 'zod';

export const ROBUSTNESS_SECTIONS = ['noise', 'symmetry', 'fgsm', 'pgd', 'ibp', 'weight-noise'] as const;
export type RobustnessSection = (typeof ROBUSTNESS_SECTIONS)[number];

const sweep = (def: number[], what: string) =>
  z.array(z.number().nonnegative().finite()).min(1, `give at least one ${what}`).default(def);

export const robustnessOptions = z.strictObject({
  /** Which measurements to make (default: all). */
  sections: z.array(z.enum(ROBUSTNESS_SECTIONS)).min(1).default([...ROBUSTNESS_SECTIONS]),
  /** The split inputs are perturbed on. */
  split: z.string().default('test'),
  /** At most this many examples of the split (a seeded random subset when it is larger). */
  maxExamples: z.number().int().positive().default(512),
  /** Standard deviations σ of Gaussian input noise x + σ·N(0, I). */
  noiseSigmas: sweep([0, 0.01, 0.03, 0.1, 0.3, 1], 'noise level'),
  /** Noise draws per example and σ. */
  noiseDraws: z.number().int().positive().default(2),
  /** Random group elements per example for each of the task's symmetries. */
  symmetryDraws: z.number().int().positive().default(4),
  /** Step sizes t of x + t·G·x along each symmetry's infinitesimal generator G (where the task gives one). */
  generatorSteps: sweep([0.01, 0.03, 0.1, 0.3], 'generator step'),
  /** ℓ∞ radii ε of the FGSM and PGD attacks (in input units). */
  epsilons: sweep([0.01, 0.03, 0.1, 0.3], 'attack radius'),
  /** PGD steps (step size ε/4). */
  pgdSteps: z.number().int().positive().default(10),
  /** PGD random starts; each example keeps its strongest. */
  pgdRestarts: z.number().int().positive().default(1),
  /** Where perturbed inputs are clipped: each feature's range in the train split, none, or a box. */
  domain: z
    .union([z.enum(['data', 'none']), z.strictObject({ min: z.number(), max: z.number() }).refine((d) => d.min < d.max, 'min must be below max')])
    .default('data'),
  /** ℓ∞ radii ε for interval bound propagation. */
  ibpEpsilons: sweep([0.001, 0.003, 0.01, 0.03, 0.1], 'IBP radius'),
  /** Standard deviations σ of Gaussian weight noise w + σ·N(0, I). */
  weightSigmas: sweep([0.001, 0.003, 0.01, 0.03], 'weight-noise level'),
  /** Weight-noise draws per σ. */
  weightDraws: z.number().int().positive().default(8),
  /** The split weight noise is measured on (the Hessian analysis uses train by default). */
  weightSplit: z.string().default('train'),
  /** Hutchinson probes for tr H when the Hessian analysis has not run. */
  traceProbes: z.number().int().positive().default(20),
});

export type RobustnessOptions = z.output<typeof robustnessOptions>;
