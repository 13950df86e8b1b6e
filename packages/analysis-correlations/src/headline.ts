import type { HeadlineNumber } from '@goldstone/plugin-api';

/** What the declared headline of a run of `correlations` is read from: its row and the examples each split was scored on. */
export interface CorrelationsHeadlineSource {
  metric: string | null;
  outcomes: Record<string, number | null>;
  complexity: Record<string, number | null>;
  /** Examples scored per split (own outcomes only). */
  examples: Record<string, number>;
}

/** Other splits beside train and test shown, at most. */
const MAX_SPLITS = 3;

/**
 * The numbers of one run's `correlations` row to quote first: the test metric, the
 * generalisation gap, the metric on up to three further splits, and how many complexity measures
 * resolved. The row's own value each; an accuracy carries its binomial stderr over the scored
 * examples (the gap: of a difference of two independent splits). The correlations themselves are
 * the sweep summary's.
 */
export function correlationsHeadline(r: CorrelationsHeadlineSource): HeadlineNumber[] {
  const out: HeadlineNumber[] = [];
  const m = r.metric;
  if (m !== null) {
    const up = m !== 'mse';
    const binomial = (split: string, p: number) => (p * (1 - p)) / r.examples[split];
    const scored = (split: string): HeadlineNumber | null => {
      const key = `${split}.${m}`;
      const value = r.outcomes[key];
      if (value === undefined || value === null) return null;
      return m === 'accuracy'
        ? { key, label: `${m} (${split})`, value, stderr: Math.sqrt(binomial(split, value)), better: 'higher', note: `binomial over ${r.examples[split]} examples` }
        : { key, label: `${m} (${split})`, value, exact: true, better: up ? 'higher' : 'lower', note: `on ${r.examples[split]} fixed examples, not resampled` };
    };
    const test = scored('test');
    if (test) out.push(test);
    const gap = r.outcomes[`gap.${m}`];
    if (gap !== undefined && gap !== null) {
      const label = `generalisation gap in ${m} (${up ? 'train − test' : 'test − train'})`;
      const train = r.outcomes[`train.${m}`];
      const testValue = r.outcomes[`test.${m}`]!;
      const trainValue = train ?? (up ? testValue + gap : testValue - gap);
      out.push(
        m === 'accuracy'
          ? { key: `gap.${m}`, label, value: gap, stderr: Math.sqrt(binomial('train', trainValue) + binomial('test', testValue)), better: 'lower', note: 'binomial, train and test independent' }
          : { key: `gap.${m}`, label, value: gap, exact: true, better: 'lower', note: 'on the fixed scored examples, not resampled' },
      );
    }
    const others = Object.keys(r.examples).filter((s) => s !== 'train' && s !== 'test').slice(0, MAX_SPLITS);
    for (const s of others) {
      const h = scored(s);
      if (h) out.push(h);
    }
  }
  const names = Object.keys(r.complexity);
  const resolved = names.filter((k) => r.complexity[k] !== null);
  const missing = names.filter((k) => r.complexity[k] === null);
  out.push({
    key: 'measuresRead',
    label: `complexity measures read (of ${names.length})`,
    value: resolved.length,
    exact: true,
    better: 'higher',
    note: missing.length ? `missing: ${missing.join(', ')} (see notes)` : 'all resolved',
  });
  return out;
}
