import { higherIsBetter, primaryMetric } from '@goldstone/core';
import type { AnalysisResult, Json, OutputKind } from '@goldstone/plugin-api';
import { formatInfoValue } from './progress';

/** One headline number of an analysis: `trace=15.03±0.2`. */
export interface HeadlineNumber {
  name: string;
  value: number;
  stderr?: number;
}

const MAX_PER_ANALYSIS = 4;

const isRecord = (v: Json | undefined): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const finite = (v: Json | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** `{ value, stderr? }` (an estimate with its error bar) as a number, or undefined. */
function estimate(name: string, v: Json | undefined): HeadlineNumber | undefined {
  if (finite(v)) return { name, value: v };
  if (isRecord(v) && finite(v.value)) return { name, value: v.value, ...(finite(v.stderr) && v.stderr > 0 ? { stderr: v.stderr } : {}) };
  // a list of estimates (the top eigenvalues): its first
  if (Array.isArray(v) && v.length > 0) return estimate(`${name}[0]`, v[0]);
  return undefined;
}

/**
 * The numbers a researcher reads first in an analysis result: the entries of its `headline`
 * object (each a number or `{ value, stderr }`), where the analysis declares one; otherwise its
 * top-level finite numbers. At most `max`.
 */
export function headlineNumbers(result: Json, max = MAX_PER_ANALYSIS): HeadlineNumber[] {
  if (!isRecord(result)) return [];
  const source = isRecord(result.headline) ? result.headline : result;
  const out: HeadlineNumber[] = [];
  for (const [name, v] of Object.entries(source)) {
    if (source === result && !finite(v)) continue;
    const h = estimate(name, v);
    if (h) out.push(h);
    if (out.length >= max) break;
  }
  return out;
}

export function formatHeadline(h: HeadlineNumber): string {
  return `${h.name}=${formatInfoValue(h.value)}${h.stderr !== undefined ? `±${formatInfoValue(h.stderr)}` : ''}`;
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
    const hs = headlineNumbers(a.result);
    if (hs.length) lines.push(`${id.padEnd(10)} ${hs.map(formatHeadline).join('  ')}`);
  }
  return lines;
}
