import { isObject, type AnalysisResult, type Json } from '@goldstone/plugin-api';

/** One step of a path: an object key, an array index (negative: from the end), or the element of an array whose field equals a value. */
export type PathStep = string | number | { field: string; equals: string };

/**
 * `id.key.key[0].key`: an analysis id, then `.key`, `["key"]` (any key: `["soft-particles"]`,
 * `["a.b"]`), `[i]` (`[-1]` is the last element) and `[field=value]` (the first element of an array
 * whose `field` is `value`, compared as text: `generators[name=rotation]`).
 */
export const PATH_PATTERN = /^[^.[\]\s"]+(?:\.[^.[\]\s"]+|\[-?\d+\]|\["[^"]*"\]|\[[^=[\]"]+=[^[\]"]+\])*$/;

const STEP = /\[(-?\d+)\]|\["([^"]*)"\]|\[([^=[\]"]+)=([^[\]"]+)\]|\.?([^.[\]\s"]+)/g;

/** The steps of a path (`hessian.result.topEigenvalues[0]` → `['hessian', 'result', 'topEigenvalues', 0]`). */
export function parsePath(path: string): PathStep[] {
  if (!PATH_PATTERN.test(path)) throw new Error(`"${path}" is not a path of the form analysis.key["key"][0][field=value]`);
  const steps: PathStep[] = [];
  for (const m of path.matchAll(STEP)) {
    if (m[1] !== undefined) steps.push(Number(m[1]));
    else if (m[2] !== undefined) steps.push(m[2]);
    else if (m[3] !== undefined) steps.push({ field: m[3], equals: m[4] as string });
    else steps.push(m[5] as string);
  }
  return steps;
}

/** A resolved number, or null and why not. */
export type Resolved = { value: number; note?: undefined } | { value: null; note: string };


function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (isObject(v)) return `an object with keys ${Object.keys(v).slice(0, 8).join(', ') || '(none)'}`;
  return typeof v === 'string' ? `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}` : String(v);
}

/**
 * The number at `path` in the results of earlier analyses (id → result). The first step names the
 * analysis; the rest walk into its stored result (`result`, `provenance`, `figures`). An object with
 * a numeric `value` (an estimate with its standard error) stands for that value. Anything missing or
 * not a finite number gives null with a note saying where the path broke.
 */
export function resolvePath(previous: Record<string, AnalysisResult | Json>, path: string): Resolved {
  let steps: PathStep[];
  try {
    steps = parsePath(path);
  } catch (err) {
    return { value: null, note: (err as Error).message };
  }
  const [id, ...rest] = steps as [string, ...PathStep[]];
  if (!Object.hasOwn(previous, id)) {
    const ran = Object.keys(previous);
    return { value: null, note: `${path}: no analysis "${id}" ran before this one (${ran.length ? `ran: ${ran.join(', ')}` : 'none ran'})` };
  }
  let cur: unknown = previous[id];
  let where = id;
  for (const step of rest) {
    if (typeof step === 'object') {
      const label = `[${step.field}=${step.equals}]`;
      if (!Array.isArray(cur)) return { value: null, note: `${path}: ${where} is ${describe(cur)}, not an array` };
      const found = cur.find((el) => isObject(el) && Object.hasOwn(el, step.field) && String(el[step.field]) === step.equals);
      if (found === undefined) {
        const seen = cur.flatMap((el) => (isObject(el) && Object.hasOwn(el, step.field) ? [String(el[step.field])] : []));
        return { value: null, note: `${path}: ${where} has no element with ${step.field} = ${step.equals} (${seen.length ? `it has: ${seen.join(', ')}` : `none has "${step.field}"`})` };
      }
      cur = found;
      where = `${where}${label}`;
    } else if (typeof step === 'number') {
      if (!Array.isArray(cur)) return { value: null, note: `${path}: ${where} is ${describe(cur)}, not an array` };
      const i = step < 0 ? cur.length + step : step;
      if (i < 0 || i >= cur.length) return { value: null, note: `${path}: ${where} has ${cur.length} element(s), no [${step}]` };
      cur = cur[i];
      where = `${where}[${step}]`;
    } else {
      if (!isObject(cur) || !Object.hasOwn(cur, step)) return { value: null, note: `${path}: ${where} is ${describe(cur)}, no "${step}"` };
      cur = cur[step];
      where = /^[^.[\]\s"]+$/.test(step) ? `${where}.${step}` : `${where}["${step}"]`;
    }
  }
  if (isObject(cur) && typeof cur.value === 'number') cur = cur.value;
  if (typeof cur === 'number' && Number.isFinite(cur)) return { value: cur };
  return { value: null, note: `${path}: is ${describe(cur)}, not a finite number` };
}

/** A sweep setting of a run (the contract's helper, re-exported where it was first offered). */
export { settingOf } from '@goldstone/plugin-api';
