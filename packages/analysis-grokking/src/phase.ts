/** The four phases of Liu et al. 2022 (Figure 5), from the steps at which train and test accuracy first reach the threshold. */
export const PHASES = ['comprehension', 'grokking', 'memorisation', 'confusion'] as const;
export type Phase = (typeof PHASES)[number];

/** What the effective theory predicts: generalisation (comprehension or grokking), memorisation, or confusion (neither happens). */
export const PREDICTED = ['generalisation', 'memorisation', 'confusion'] as const;
export type PredictedPhase = (typeof PREDICTED)[number];

/** The first step whose value is at least `threshold`, or null. `steps` and `values` are parallel. */
export function firstReach(steps: readonly number[], values: readonly (number | null)[], threshold: number): number | null {
  for (let i = 0; i < steps.length; i++) {
    const v = values[i];
    if (v !== null && Number.isFinite(v) && v >= threshold) return steps[i];
  }
  return null;
}

/**
 * The phase of a run (the toy's Figure 5 rule): train never reaches the threshold → confusion;
 * train does and test never → memorisation; both, test at most `lag` steps after train →
 * comprehension, later → grokking.
 */
export function classifyPhase(trainStep: number | null, testStep: number | null, lag: number): Phase {
  if (trainStep === null) return 'confusion';
  if (testStep === null) return 'memorisation';
  return testStep - trainStep <= lag ? 'comprehension' : 'grokking';
}

/** The measured phase as the effective theory names it. */
export function asPredicted(phase: Phase): PredictedPhase {
  return phase === 'comprehension' || phase === 'grokking' ? 'generalisation' : phase;
}

/**
 * The effective theory's prediction from the representation time T_r (the effective dynamics
 * reaches RQI ≥ target) and the decoder's memorisation time T_m (the decoder alone, embeddings
 * frozen, reaches train accuracy ≥ threshold): generalisation when T_r < T_m (or only T_r exists),
 * memorisation when only T_m exists or T_m ≤ T_r, confusion when neither happens.
 */
export function predictPhase(Tr: number | null, Tm: number | null): PredictedPhase {
  if (Tr === null && Tm === null) return 'confusion';
  if (Tr !== null && (Tm === null || Tr < Tm)) return 'generalisation';
  return 'memorisation';
}
