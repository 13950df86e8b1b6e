import { z } from 'zod';

const group = z.strictObject({ lr: z.number().min(0).optional(), weightDecay: z.number().min(0).optional() });

/** The training settings the repon part needs when the run has no store to read them from (the experiment's `train:` fields). */
export const trainSettings = z.strictObject({
  optimizer: z.enum(['sgd', 'adam', 'adamw']).default('adam'),
  lr: z.number().positive().default(1e-3),
  momentum: z.number().min(0).lt(1).optional(),
  nesterov: z.boolean().optional(),
  beta1: z.number().min(0).lt(1).optional(),
  beta2: z.number().min(0).lt(1).optional(),
  eps: z.number().positive().optional(),
  weightDecay: z.number().min(0).default(0),
  groups: z.record(z.string(), group).optional(),
});
export type TrainSettings = z.output<typeof trainSettings>;

const setting = z.string().min(1).describe('A swept setting, as the sweep names it (train.groups.encoder.lr, task.options.trainNum)');

/** Options of the `grokking` analysis (all have defaults; `{}` is valid). */
export const grokkingOptions = z.strictObject({
  every: z.number().int().positive().default(10).describe('Record accuracies, RQI and ℓ_eff every this many steps (and at step 0 and the last step)'),
  metric: z.string().min(1).default('accuracy').describe("The task metric the phase is read from (task.metrics' entry)"),
  trainSplit: z.string().min(1).default('train').describe('Split whose metric is the train accuracy'),
  testSplit: z.string().min(1).default('test').describe('Split whose metric is the test accuracy'),
  threshold: z.number().gt(0).lte(1).default(0.9).describe('Accuracy that counts as reached (toy: 0.9)'),
  lag: z
    .number()
    .int()
    .min(0)
    .default(2000)
    .describe('Steps test may trail train and still count as comprehension; later is grokking (toy Figure 5a: 2,000 of 10,000 steps)'),
  rqiThreshold: z.number().positive().default(0.01).describe('A parallelogram is real when mean_d (Eᵢ + E_n − E_j − E_m)² of the standardised embedding is below this (toy: 0.01)'),
  rqiTarget: z.number().gt(0).lte(1).default(0.95).describe('RQI that counts as a learned representation, for T_r (toy: 0.95)'),
  embedding: z.string().min(1).default('embedding').describe('The embedding parameter [n, d]'),
  encoderGroup: z.string().min(1).default('encoder').describe("The model's parameter group of the embedding (its lr drives the effective dynamics)"),
  decoderGroup: z.string().min(1).default('decoder').describe("The model's parameter group of the decoder"),
  effective: z.boolean().default(true).describe('Simulate the effective (repon) dynamics of the embeddings alone and record T_r'),
  effectiveSteps: z.number().int().positive().optional().describe("Steps of the effective dynamics (default: the run's steps)"),
  memorisation: z.boolean().default(true).describe("Measure the decoder's memorisation time T_m (decoder alone, embeddings frozen at init, capped at the run's steps)"),
  train: trainSettings.optional().describe("The run's training settings, used when the run has no store (goldstone run reads them from run.json)"),
  maxPoints: z.number().int().min(10).default(1001).describe('Trajectory points kept in the result (evenly thinned)'),
  // sweep summary
  phaseMaps: z
    .array(z.strictObject({ x: setting, y: setting, title: z.string().optional(), part: z.string().min(1).optional().describe('Only runs of this sweep part (SummaryInput.part)') }))
    .default([])
    .describe('Phase maps to draw: pairs of swept settings (x, y), log axes when all values are positive'),
  curves: z
    .array(z.strictObject({ x: setting, title: z.string().optional(), part: z.string().min(1).optional().describe('Only runs of this sweep part (SummaryInput.part)') }))
    .default([])
    .describe('Accuracy curves to draw against a swept setting: measured test accuracy beside the ideal one, steps to threshold'),
  idealTolerance: z.number().min(0).default(0.05).describe('Summary: measured test accuracy counts as within the ideal bound when at most this much above it'),
});

export type GrokkingOptions = z.output<typeof grokkingOptions>;
