import { higherIsBetter, primaryMetric } from '@goldstone/core';
import { readHeadline, type AnalysisResult, type HeadlineNumber, type OutputKind } from '@goldstone/plugin-api';
import { formatInfoValue } from './progress';

const MAX_PER_ANALYSIS = 4;

/**
 * The numbers a researcher reads first in an analysis result: its declared headline (see
 * HeadlineNumber in @goldstone/plugin-api), or a reading of older results' shapes. At most `max`.
 */
export function headlineNumbers(entry: Pick<AnalysisResult, 'result' | 'headline'>, max = MAX_PER_ANALYSIS): HeadlineNumber[] {
  return readHeadline(entry, max);
}

/** `trace=15.03±0.2`, `N_eff=3.2 [2.9, 3.6]`, `pgdDrop=—` (the key, the value, its error bar). */
export function formatHeadline(h: HeadlineNumber): string {
  if (h.value === null) return `${h.key}=—`;
  const bar = h.stderr !== undefined && h.stderr > 0 ? `±${formatInfoValue(h.stderr)}` : h.interval ? ` [${formatInfoValue(h.interval[0])}, ${formatInfoValue(h.interval[1])}]` : '';
  return `${h.key}=${formatInfoValue(h.value)}${bar}${h.unit ? ` ${h.unit}` : ''}`;
}

/**
 * The end-of-run summary: held-out metrics (the test split's primary metric and loss), the worst
 * out-of-distribution split by the primary metric, and each analysis' headline numbers.
 */
export function runSummary(opts: { final: Record<string, number | null>; outputKind: OutputKind; analyses: Record<string, AnalysisResult> }): string[] {
  const metric = primaryMetric(opts.outputKind);
  const up = higherIsBetter(metric);
  const lines: string[] = [];
  const value = (key: string): number | undefined => {
    const v = opts.final[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  };
  const held = [`test.${metric}`, 'test.loss'].filter((k) => value(k) !== undefined);
  const train = value(`train.${metric}`);
  if (held.length) lines.push(`held out   ${held.map((k) => `${k}=${formatInfoValue(value(k)!)}`).join('  ')}${train !== undefined ? `  (train.${metric}=${formatInfoValue(train)})` : ''}`);
  const splits = [...new Set(Object.keys(opts.final).map((k) => k.slice(0, k.lastIndexOf('.'))))].filter((s) => s !== 'train' && s !== 'test' && s !== '');
  const ood = splits.flatMap((s) => {
    const v = value(`${s}.${metric}`);
    return v === undefined ? [] : [{ split: s, v }];
  });
  if (ood.length) {
    const worst = ood.reduce((a, b) => ((up ? b.v < a.v : b.v > a.v) ? b : a));
    lines.push(`worst OOD  ${worst.split}: ${metric}=${formatInfoValue(worst.v)} (of ${ood.length} out-of-distribution split${ood.length === 1 ? '' : 's'})`);
  }
  for (const [id, a] of Object.entries(opts.analyses)) {
    const hs = headlineNumbers(a);
    if (hs.length) lines.push(`${id.padEnd(10)} ${hs.map(formatHeadline).join('  ')}`);
  }
  return lines;
}
