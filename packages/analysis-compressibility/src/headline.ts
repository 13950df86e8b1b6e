import type { HeadlineNumber } from '@goldstone/plugin-api';

/** What the declared headline of `compressibility` is read from: fields of its result. */
export interface CompressibilityHeadlineSource {
  metric: string;
  higherIsBetter: boolean;
  split: string;
  examples: number;
  tolerance: number;
  base: { value: number };
  sections: ReadonlySet<string>;
  summary: {
    maxSparsity?: Record<string, number | null>;
    minBits?: number | null;
    descriptionLength: { bitsPerParameter: number; sparsity: number; quantBits: number; value: number };
  };
}

/** A metric of the model on the evaluated examples: an accuracy with its binomial stderr, else exact on the fixed examples. */
function onExamples(key: string, label: string, value: number, r: CompressibilityHeadlineSource): HeadlineNumber {
  const better = r.higherIsBetter ? 'higher' : 'lower';
  if (r.metric === 'accuracy') return { key, label, value, stderr: Math.sqrt((value * (1 - value)) / r.examples), better, note: `binomial, ${r.examples} examples` };
  return { key, label, value, exact: true, better, note: `${r.metric} of the ${r.examples} evaluated examples, not resampled` };
}

/**
 * The numbers of a compressibility analysis to quote first, in order: bits per parameter of the
 * compressed code, the largest global pruning sparsity (with and without fine-tuning) and the
 * fewest quantisation bits within tolerance, the metric of the compressed model and of the
 * original. Each value is the result's own field.
 */
export function compressibilityHeadline(r: CompressibilityHeadlineSource): HeadlineNumber[] {
  const s = r.summary;
  const dl = s.descriptionLength;
  const at = `within tolerance ${r.tolerance} of the ${r.metric} on ${r.examples} ${r.split} examples`;
  const out: HeadlineNumber[] = [
    { key: 'bitsPerParameter', label: `description length per parameter (sparsity ${dl.sparsity}, ${dl.quantBits} bits)`, value: dl.bitsPerParameter, exact: true, unit: 'bits', better: 'lower', note: 'a count of the code, at the largest tolerated sparsity and fewest tolerated bits' },
  ];
  const sparsity = (scope: string, label: string) => {
    if (!r.sections.has('pruning') || !s.maxSparsity || !(scope in s.maxSparsity)) return out.push({ key: scope === 'global' ? 'maxSparsity' : 'maxSparsityFineTuned', label, value: null, note: `no ${scope} pruning sweep` });
    const v = s.maxSparsity[scope];
    return out.push(
      v === null
        ? { key: scope === 'global' ? 'maxSparsity' : 'maxSparsityFineTuned', label, value: null, note: `no swept sparsity stayed ${at}` }
        : { key: scope === 'global' ? 'maxSparsity' : 'maxSparsityFineTuned', label, value: v, exact: true, better: 'higher', note: `largest swept sparsity ${at}` },
    );
  };
  sparsity('global', 'largest global pruning sparsity within tolerance');
  if (s.maxSparsity && 'global+fine-tune' in s.maxSparsity) sparsity('global+fine-tune', 'largest global pruning sparsity within tolerance, after fine-tuning');
  if (!r.sections.has('quantization') || s.minBits === undefined) out.push({ key: 'minBits', label: 'fewest quantisation bits within tolerance', value: null, note: 'the quantization section did not run' });
  else if (s.minBits === null) out.push({ key: 'minBits', label: 'fewest quantisation bits within tolerance', value: null, note: `no swept bit width stayed ${at}` });
  else out.push({ key: 'minBits', label: 'fewest quantisation bits within tolerance', value: s.minBits, exact: true, unit: 'bits', better: 'lower', note: `fewest swept bits ${at}` });
  out.push(onExamples('compressedMetric', `${r.metric} of the compressed model (${r.split})`, dl.value, r));
  out.push(onExamples('baseMetric', `${r.metric} of the original model (${r.split})`, r.base.value, r));
  return out;
}
