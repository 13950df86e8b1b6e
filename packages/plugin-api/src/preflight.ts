import type { ModelInstance, OptionIssue, TaskInstance } from './plugin';

/**
 * Helpers for plugins' `check` hooks: the usual rules (a split or a parameter named in the options
 * exists) with messages that list what does, and sizes written for people.
 */

/** A split named by option `field` must exist and hold examples. */
export function checkSplit(task: Pick<TaskInstance, 'splits'>, field: string, name: string): OptionIssue[] {
  const split = Object.hasOwn(task.splits, name) ? task.splits[name] : undefined;
  if (!split) return [{ field, message: `the task has no split "${name}" (it has: ${Object.keys(task.splits).join(', ')})` }];
  if (split.n === 0) return [{ field, message: `the task's split "${name}" has no examples` }];
  return [];
}

/** Every parameter named in option `field` (a list) must be one of the model's; one issue per unknown name, at its index. */
export function checkParamNames(model: Pick<ModelInstance, 'specs'>, field: string, names: readonly string[] | undefined): OptionIssue[] {
  const known = model.specs.map((s) => s.name);
  return (names ?? []).flatMap((name, i) =>
    known.includes(name) ? [] : [{ field: `${field}[${i}]`, message: `the model has no parameter "${name}" (it has: ${known.join(', ')})` }],
  );
}

/** Bytes for a message, in binary units: `512 MiB`, `11.8 GiB`, `149 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toFixed(i === 0 || v >= 100 ? 0 : 1))} ${units[i]}`;
}

/** A count for a message: `1.0e10` for large ones, digits otherwise. */
export function formatCount(n: number): string {
  return n >= 1e6 ? n.toExponential(1).replace('e+', 'e') : String(Math.round(n));
}
