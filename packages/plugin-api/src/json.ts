import type { Json } from './types';
/**
 * A plain object (what a JSON object parses to): not null, not an array. Use it to check parsed
 * JSON or YAML before reading its fields.
 */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A sweep setting of a run (`SummaryInput.settings`: swept path → value), for `summarize` hooks:
 * the exact swept path (`train.lr`) first, else a walk into a swept object (`model.name` inside a
 * swept `model`). Undefined when the run has no such setting (only swept settings are known).
 */
export function settingOf(settings: Record<string, Json>, path: string): Json | undefined {
  if (Object.hasOwn(settings, path)) return settings[path];
  let cur: unknown = settings;
  for (const step of path.split('.')) {
    if (!isObject(cur) || !Object.hasOwn(cur, step)) return undefined;
    cur = cur[step];
  }
  return cur as Json;
}
