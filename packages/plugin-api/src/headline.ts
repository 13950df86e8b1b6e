import type { Json } from './types';

/**
 * One number an analysis puts first. The end-of-run summary, `goldstone compare` and the report's
 * headline card show an analysis' headline numbers, in the order it lists them, with their error
 * bars; compare aligns runs by `key`.
 *
 * Every number says how certain it is, in exactly one way:
 * - `stderr`: one standard error of a stochastic estimate (Hutchinson probes, bootstrap, seeds);
 * - `interval` with its `level`: a confidence or credible interval (SLQ bounds, bootstrap percentiles);
 * - `exact: true`: no sampling error at the stated settings (a converged eigenvalue, a dense
 *   computation, a count, a metric of a fixed split read without resampling).
 * A number that could not be measured has `value: null` and says why in `note`.
 */
export interface HeadlineNumber {
  /** Stable identifier within the analysis, `[A-Za-z][A-Za-z0-9_.-]*` (`lambdaMax`, `pgdDrop`). */
  key: string;
  /** What it is, for a reader: `λ_max, top Hessian eigenvalue (train)`. */
  label: string;
  /** The number, or null when it could not be measured. */
  value: number | null;
  /** One standard error (≥ 0). */
  stderr?: number;
  /** An interval [low, high] holding the value, at `level` (0 < level < 1). */
  interval?: [number, number];
  level?: number;
  /** No sampling error at the stated settings. */
  exact?: true;
  /** A unit, when it has one (`s`, `bits`, `nats`). */
  unit?: string;
  /** Which way is better, when one is (compare marks the best run). */
  better?: 'higher' | 'lower';
  /** Why it is null, or how to read it (at most a sentence). */
  note?: string;
}

const KEY = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * What is wrong with a declared headline, one sentence per problem naming the entry (`[2] (trace):
 * stderr must be a finite number ≥ 0, got -1`); empty when it keeps the contract of HeadlineNumber.
 */
export function headlineIssues(headline: unknown): string[] {
  if (!Array.isArray(headline)) return [`headline must be an array of headline numbers, got ${describe(headline)}`];
  const issues: string[] = [];
  const seen = new Set<string>();
  headline.forEach((h: unknown, i) => {
    if (typeof h !== 'object' || h === null || Array.isArray(h)) {
      issues.push(`[${i}]: expected an object { key, label, value, … }, got ${describe(h)}`);
      return;
    }
    const e = h as Record<string, unknown>;
    const at = `[${i}]${typeof e.key === 'string' ? ` (${e.key})` : ''}`;
    if (typeof e.key !== 'string' || !KEY.test(e.key)) issues.push(`${at}: key must match ${KEY.source}, got ${describe(e.key)}`);
    else if (seen.has(e.key)) issues.push(`${at}: key is used twice`);
    else seen.add(e.key);
    if (typeof e.label !== 'string' || e.label.trim() === '') issues.push(`${at}: label must be a non-empty string, got ${describe(e.label)}`);
    if (e.value !== null && !finite(e.value)) issues.push(`${at}: value must be a finite number or null, got ${describe(e.value)}`);
    const ways = [e.stderr !== undefined, e.interval !== undefined, e.exact !== undefined].filter(Boolean).length;
    if (e.value === null) {
      if (typeof e.note !== 'string' || e.note.trim() === '') issues.push(`${at}: a null value needs a note saying why it could not be measured`);
    } else if (ways !== 1) {
      issues.push(`${at}: give exactly one of stderr, interval (with level) or exact: true, got ${ways === 0 ? 'none' : 'several'}`);
    }
    if (e.stderr !== undefined && !(finite(e.stderr) && e.stderr >= 0)) issues.push(`${at}: stderr must be a finite number ≥ 0, got ${describe(e.stderr)}`);
    if (e.interval !== undefined) {
      const iv = e.interval;
      if (!Array.isArray(iv) || iv.length !== 2 || !finite(iv[0]) || !finite(iv[1]) || iv[0] > iv[1]) {
        issues.push(`${at}: interval must be [low, high] with finite low ≤ high, got ${describe(iv)}`);
      } else if (finite(e.value) && (e.value < iv[0] - 1e-12 * Math.abs(e.value) || e.value > iv[1] + 1e-12 * Math.abs(e.value))) {
        issues.push(`${at}: the interval [${iv[0]}, ${iv[1]}] does not hold the value ${e.value}`);
      }
      if (!(finite(e.level) && e.level > 0 && e.level < 1)) issues.push(`${at}: an interval needs its level, a number in (0, 1), got ${describe(e.level)}`);
    } else if (e.level !== undefined) {
      issues.push(`${at}: level is given without an interval`);
    }
    if (e.exact !== undefined && e.exact !== true) issues.push(`${at}: exact must be true when given, got ${describe(e.exact)}`);
    if (e.unit !== undefined && (typeof e.unit !== 'string' || e.unit === '')) issues.push(`${at}: unit must be a non-empty string, got ${describe(e.unit)}`);
    if (e.better !== undefined && e.better !== 'higher' && e.better !== 'lower') issues.push(`${at}: better must be 'higher' or 'lower', got ${describe(e.better)}`);
    if (e.note !== undefined && typeof e.note !== 'string') issues.push(`${at}: note must be a string, got ${describe(e.note)}`);
    for (const k of Object.keys(e)) if (!FIELDS.has(k)) issues.push(`${at}: unknown field ${k} (expected ${[...FIELDS].join(', ')})`);
  });
  return issues;
}

const FIELDS = new Set(['key', 'label', 'value', 'stderr', 'interval', 'level', 'exact', 'unit', 'better', 'note']);

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  try {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}…` : s;
  } catch {
    return String(v);
  }
}

const isRecord = (v: Json | undefined): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The headline numbers of a stored analysis result: its declared `headline` when it has one;
 * for results written before analyses declared them, a best reading of the old shapes (the entries
 * of a `result.headline` object, each a number or `{ value, stderr | interval }`, else the result's
 * top-level finite numbers), with `label` = `key` and no claim of exactness. At most `max`.
 */
export function readHeadline(entry: { result: Json; headline?: HeadlineNumber[] }, max = Infinity): HeadlineNumber[] {
  if (Array.isArray(entry.headline)) return entry.headline.slice(0, max);
  const result = entry.result;
  if (!isRecord(result)) return [];
  const source = isRecord(result.headline) ? result.headline : result;
  const out: HeadlineNumber[] = [];
  for (const [key, v] of Object.entries(source)) {
    if (out.length >= max) break;
    if (source === result && !finite(v)) continue;
    const h = legacyNumber(key, v);
    if (h) out.push(h);
  }
  return out;
}

function legacyNumber(key: string, v: Json | undefined): HeadlineNumber | undefined {
  if (finite(v)) return { key, label: key, value: v };
  if (isRecord(v) && finite(v.value)) {
    const h: HeadlineNumber = { key, label: key, value: v.value };
    if (finite(v.stderr) && v.stderr >= 0) h.stderr = v.stderr;
    else if (Array.isArray(v.interval) && v.interval.length === 2 && finite(v.interval[0]) && finite(v.interval[1])) {
      h.interval = [v.interval[0], v.interval[1]];
      if (finite(v.level)) h.level = v.level;
    }
    return h;
  }
  // a list of estimates (the top eigenvalues): its first
  if (Array.isArray(v) && v.length > 0) return legacyNumber(`${key}[0]`, v[0]);
  return undefined;
}
