/**
 * Throws unless `value` is plain JSON that survives `JSON.stringify`/`JSON.parse` unchanged: no
 * NaN or ±Infinity, no `undefined`, functions, class instances, typed arrays, bigints or symbols.
 * The error names the path of the first offending value (`$.result.eigenvalues[3]`).
 */
export function assertJson(value: unknown, path = '$'): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${path} is ${value}, which JSON cannot carry (it becomes null)`);
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw new Error(`${path}[${i}] is a hole in a sparse array`);
      assertJson(value[i], `${path}[${i}]`);
    }
    return;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as object).constructor?.name ?? 'unknown';
      throw new Error(`${path} is a ${name}, not a plain object (convert typed arrays with Array.from)`);
    }
    for (const [k, v] of Object.entries(value)) assertJson(v, `${path}.${k}`);
    return;
  }
  throw new Error(`${path} is of type ${typeof value}, which JSON cannot carry`);
}

/** Whether `value` is plain JSON (see {@link assertJson}). */
export function isJson(value: unknown): boolean {
  try {
    assertJson(value);
    return true;
  } catch {
    return false;
  }
}
