import type { HeadlineNumber, Json } from '@goldstone/plugin-api';

/** The standard error of the mean of `xs` (sample sd / √n), or null with fewer than two. */
export function stderrOfMean(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) / xs.length);
}

/** What the declared headline of `robustness` is read from. */
export interface RobustnessHeadlineSource {
  /** `result.headline`: the numbers at the reference σ and ε. */
  summary: {
    metric: string;
    clean: number;
    noiseSigma: number | null;
    noiseDrop: number | null;
    smearSigma: number | null;
    smearDrop: number | null;
    epsilon: number | null;
    fgsmDrop: number | null;
    pgdDrop: number | null;
  };
  higherIsBetter: boolean;
  split: string;
  examples: number;
  sections: ReadonlySet<string>;
  /** The stderr over draws of the noise and smearing drops at the reference σ (the examples held fixed), when there were ≥ 2 draws. */
  drawStderr: { noise: number | null; smearing: number | null };
  pgd: { steps: number; restarts: number };
}

const fixed = (n: number, split: string) => `on the same ${n} ${split} examples, not resampled`;

/**
 * The numbers of a robustness analysis to quote first, in order: the clean metric, the PGD and
 * FGSM drops at the reference ε, the noise and smearing drops at the reference σ. A drop is
 * positive when the perturbed model is worse. Each value is `result.headline`'s.
 */
export function robustnessHeadline(r: RobustnessHeadlineSource): HeadlineNumber[] {
  const s = r.summary;
  const m = s.metric;
  const n = r.examples;
  const clean: HeadlineNumber =
    m === 'accuracy'
      ? { key: 'clean', label: `clean ${m} (${r.split})`, value: s.clean, stderr: Math.sqrt((s.clean * (1 - s.clean)) / n), better: 'higher', note: `binomial, ${n} examples` }
      : { key: 'clean', label: `clean ${m} (${r.split})`, value: s.clean, exact: true, better: r.higherIsBetter ? 'higher' : 'lower', note: `${m} of the ${n} evaluated examples, not resampled` };
  const off = (section: string) => `the ${section} section did not run`;
  const drop = (key: string, label: string, value: number | null, section: string, how: Pick<HeadlineNumber, 'stderr' | 'exact' | 'note'>): HeadlineNumber =>
    value === null || !r.sections.has(section) ? { key, label, value: null, note: off(section) } : { key, label, value, ...how, better: 'lower' };
  const eps = s.epsilon !== null ? ` at ε = ${s.epsilon}` : '';
  const byDraws = (se: number | null, draws: string): Pick<HeadlineNumber, 'stderr' | 'exact' | 'note'> =>
    se !== null ? { stderr: se, note: `stderr over the ${draws} draws (the ${n} examples held fixed)` } : { exact: true, note: `one draw, ${fixed(n, r.split)}` };
  return [
    clean,
    drop('pgdDrop', `${m} drop under PGD${eps} (ℓ∞)`, s.pgdDrop, 'pgd', { exact: true, note: `${r.pgd.steps} steps, ${r.pgd.restarts} restart(s), ${fixed(n, r.split)}` }),
    drop('fgsmDrop', `${m} drop under FGSM${eps} (ℓ∞)`, s.fgsmDrop, 'fgsm', { exact: true, note: `deterministic attack, ${fixed(n, r.split)}` }),
    drop('noiseDrop', `${m} drop under input noise${s.noiseSigma !== null ? ` σ = ${s.noiseSigma}` : ''}`, s.noiseDrop, 'noise', byDraws(r.drawStderr.noise, 'noise')),
    drop('smearDrop', `${m} drop under resolution smearing${s.smearSigma !== null ? ` σ = ${s.smearSigma}` : ''}`, s.smearDrop, 'smearing', byDraws(r.drawStderr.smearing, 'smearing')),
  ];
}

/** `result.headline` as the source's `summary`. */
export const summaryOf = (h: Json) => h as unknown as RobustnessHeadlineSource['summary'];
