import type { HeadlineNumber } from '@goldstone/plugin-api';

/** What the declared headline of `distillation` is read from: fields of its result. */
export interface DistillationHeadlineSource {
  kind: 'regression' | 'binary' | 'classification';
  metric: string;
  higherIsBetter: boolean;
  split: string;
  examples: number;
  students: { params: number; distilled: { value: number; fidelity: number }; labels: { value: number; fidelity: number } }[];
  summary: {
    teacher: { value: number; params: number };
    fidelityTarget: number;
    compressionRatio: number | null;
    minSamples: number | null;
    meanGain: number;
    largestStudentFidelity: number;
  };
}

/** Sample sd / √k of the values, or null for fewer than two. */
function spreadOverMean(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return Math.sqrt(variance / xs.length);
}

/**
 * The numbers of a distillation analysis to quote first, in order: the largest student's fidelity
 * to the teacher, the mean gain of distillation over label training, the compression ratio and
 * the fewest samples at which a student reaches the fidelity target, and the teacher's metric.
 * Each value is the result's own field.
 */
export function distillationHeadline(r: DistillationHeadlineSource): HeadlineNumber[] {
  const s = r.summary;
  const n = r.examples;
  const binomial = (p: number) => Math.sqrt((p * (1 - p)) / n);
  const fidelity: HeadlineNumber =
    r.kind === 'regression'
      ? { key: 'fidelity', label: 'fidelity of the largest distilled student (R² against the teacher)', value: s.largestStudentFidelity, exact: true, better: 'higher', note: `R² on the ${n} ${r.split} examples, not resampled; one training seed` }
      : { key: 'fidelity', label: 'fidelity of the largest distilled student (agreement with the teacher)', value: s.largestStudentFidelity, stderr: binomial(s.largestStudentFidelity), better: 'higher', note: `binomial, ${n} ${r.split} examples; one training seed` };
  const gains = r.students.map((st) => (r.higherIsBetter ? 1 : -1) * (st.distilled.value - st.labels.value));
  const se = spreadOverMean(gains);
  const gain: HeadlineNumber =
    se === null
      ? { key: 'meanGain', label: `${r.metric} gain of distillation over label training`, value: s.meanGain, exact: true, better: 'higher', note: `one student, on the fixed ${n} examples; one training seed` }
      : { key: 'meanGain', label: `mean ${r.metric} gain of distillation over label training`, value: s.meanGain, stderr: se, better: 'higher', note: `stderr over the ${gains.length} student sizes (paired: same init and data order)` };
  const target = `fidelity ≥ ${s.fidelityTarget}`;
  const teacher: HeadlineNumber =
    r.metric === 'accuracy'
      ? { key: 'teacherMetric', label: `teacher ${r.metric} (${r.split})`, value: s.teacher.value, stderr: binomial(s.teacher.value), better: 'higher', note: `binomial, ${n} examples` }
      : { key: 'teacherMetric', label: `teacher ${r.metric} (${r.split})`, value: s.teacher.value, exact: true, better: r.higherIsBetter ? 'higher' : 'lower', note: `on the ${n} evaluated examples, not resampled` };
  return [
    fidelity,
    gain,
    s.compressionRatio === null
      ? { key: 'compressionRatio', label: `compression ratio at ${target}`, value: null, note: `no swept student reached ${target}` }
      : { key: 'compressionRatio', label: `compression ratio at ${target} (teacher / smallest such student parameters)`, value: s.compressionRatio, exact: true, better: 'higher', note: 'a ratio of parameter counts, among the swept students' },
    s.minSamples === null
      ? { key: 'minSamples', label: `fewest distillation samples for ${target}`, value: null, note: `no swept sample count reached ${target}` }
      : { key: 'minSamples', label: `fewest distillation samples for ${target}`, value: s.minSamples, exact: true, better: 'lower', note: 'a count, among the swept sample fractions' },
    teacher,
  ];
}
