import { z } from 'zod';
import type { OptimizerConfig, OptimizerName } from '@goldstone/trainer';

/** The training settings the repon part needs: the run's optimiser family and settings (the trainer's), and per-group lr and weight decay. */
export type TrainSettings = Omit<OptimizerConfig, 'name'> & { optimizer: OptimizerName; groups?: Record<string, { lr?: number; weightDecay?: number }> };

const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
const NUMBERS = ['lr', 'momentum', 'beta1', 'beta2', 'eps', 'weightDecay'] as const;

/**
 * The optimiser fields of an experiment's `train:` section (run.json's `config.train`, or the
 * `train` option), with the experiment's defaults (adam, lr 1e-3, no weight decay); other fields
 * (epochs, batchSize, …) are ignored. Returns the settings or the first problem as [field, message].
 */
export function readTrainSettings(raw: unknown): { settings: TrainSettings } | { issue: [string, string] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { issue: ['', `expected the experiment's train: fields, got ${JSON.stringify(raw)}`] };
  const t = raw as Record<string, unknown>;
  const optimizer = t.optimizer ?? 'adam';
  if (!OPTIMIZERS.includes(optimizer as never)) return { issue: ['optimizer', `expected one of ${OPTIMIZERS.join(', ')}, got ${JSON.stringify(optimizer)}`] };
  const out: TrainSettings = { optimizer: optimizer as TrainSettings['optimizer'], lr: 1e-3, weightDecay: 0 };
  for (const k of NUMBERS) {
    const v = t[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return { issue: [k, `expected a number ≥ 0, got ${JSON.stringify(v)}`] };
    out[k] = v;
  }
  if (t.nesterov !== undefined) {
    if (typeof t.nesterov !== 'boolean') return { issue: ['nesterov', `expected true or false, got ${JSON.stringify(t.nesterov)}`] };
    out.nesterov = t.nesterov;
  }
  if (t.groups !== undefined) {
    if (typeof t.groups !== 'object' || t.groups === null || Array.isArray(t.groups)) return { issue: ['groups', `expected an object of groups, got ${JSON.stringify(t.groups)}`] };
    out.groups = {};
    for (const [name, g] of Object.entries(t.groups as Record<string, unknown>)) {
      const gg = (typeof g === 'object' && g !== null ? g : {}) as Record<string, unknown>;
      for (const k of ['lr', 'weightDecay'] as const) {
        if (gg[k] !== undefined && (typeof gg[k] !== 'number' || !((gg[k] as number) >= 0))) return { issue: [`groups.${name}.${k}`, `expected a number ≥ 0, got ${JSON.stringify(gg[k])}`] };
      }
      out.groups[name] = { ...(gg.lr !== undefined ? { lr: gg.lr as number } : {}), ...(gg.weightDecay !== undefined ? { weightDecay: gg.weightDecay as number } : {}) };
    }
  }
  return { settings: out };
}

const trainSettings = z
  .record(z.string(), z.unknown())
  .superRefine((raw, ctx) => {
    const r = readTrainSettings(raw);
    if ('issue' in r) ctx.addIssue({ code: 'custom', path: r.issue[0] ? r.issue[0].split('.') : [], message: r.issue[1] });
  });

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
