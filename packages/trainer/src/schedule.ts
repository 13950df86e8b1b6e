/**
 * Learning-rate schedules, as a factor multiplying the optimiser's base learning rates.
 *
 * - `constant`: 1.
 * - `step`: `gamma^floor(epoch / every)`.
 * - `cosine`: linear warm-up from 0 to 1 over `warmupEpochs` (default 0), then a half cosine from 1
 *   down to `minFactor` (default 0) at `totalEpochs`.
 */
export type ScheduleConfig =
  | { kind: 'constant' }
  | { kind: 'step'; /** epochs between decays */ every: number; gamma: number }
  | { kind: 'cosine'; minFactor?: number; warmupEpochs?: number };

/**
 * The learning-rate factor at `epochFloat` (epochs done so far, fractional within an epoch:
 * `epoch + batch / batchesPerEpoch`) of a run of `totalEpochs`.
 */
export function lrFactor(schedule: ScheduleConfig | undefined, epochFloat: number, totalEpochs: number): number {
  if (!Number.isFinite(epochFloat) || epochFloat < 0) throw new RangeError(`lrFactor: epoch must be ≥ 0, got ${epochFloat}`);
  if (!schedule || schedule.kind === 'constant') return 1;
  switch (schedule.kind) {
    case 'step': {
      if (!(schedule.every > 0)) throw new RangeError(`schedule.every: expected > 0, got ${schedule.every}`);
      if (!(schedule.gamma >= 0)) throw new RangeError(`schedule.gamma: expected ≥ 0, got ${schedule.gamma}`);
      // a small tolerance so that epoch 2.9999999 from accumulated fractions does not miss a decay at 3
      return Math.pow(schedule.gamma, Math.floor(epochFloat / schedule.every + 1e-9));
    }
    case 'cosine': {
      const minFactor = schedule.minFactor ?? 0;
      const warmup = schedule.warmupEpochs ?? 0;
      if (!(minFactor >= 0 && minFactor <= 1)) throw new RangeError(`schedule.minFactor: expected [0, 1], got ${minFactor}`);
      if (!(warmup >= 0)) throw new RangeError(`schedule.warmupEpochs: expected ≥ 0, got ${warmup}`);
      if (!(totalEpochs > 0)) throw new RangeError(`lrFactor: totalEpochs must be > 0, got ${totalEpochs}`);
      if (warmup > 0 && epochFloat < warmup) return epochFloat / warmup;
      const span = totalEpochs - warmup;
      if (span <= 0) return 1;
      const progress = Math.min(1, (epochFloat - warmup) / span);
      return minFactor + (1 - minFactor) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
    default: {
      const kind = (schedule as { kind: unknown }).kind;
      throw new Error(`schedule.kind: expected 'constant', 'step' or 'cosine', got ${JSON.stringify(kind)}`);
    }
  }
}
