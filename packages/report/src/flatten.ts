import { formatNumber } from './html';

/** One row of a flattened result: a dotted key and a scalar or a one-line summary. */
export interface ScalarRow {
  key: string;
  value: number | boolean | string | null;
}

export interface FlattenOptions {
  /** Most rows to return; the rest are counted in a final `…` row (default 200). */
  maxRows?: number;
  /** Arrays of scalars up to this length are shown in full (default 8). */
  maxInlineArray?: number;
  /** Longer strings are cut, with an ellipsis (default 300). */
  maxString?: number;
}

type Plain = Record<string, unknown>;

function isPlainObject(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function cut(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** One line describing an array of numbers: count, min, mean, max (and how many are not finite). */
export function summarizeNumbers(values: number[]): string {
  const finite = values.filter((v) => Number.isFinite(v));
  const parts = [`${values.length} numbers`];
  if (finite.length > 0) {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const v of finite) {
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
    }
    parts.push(`min ${formatNumber(min)}`, `mean ${formatNumber(sum / finite.length)}`, `max ${formatNumber(max)}`);
  }
  const bad = values.length - finite.length;
  if (bad > 0) parts.push(`${bad} not finite`);
  return parts.join(' · ');
}

/** Shape of a rectangular nested array of numbers (e.g. [3, 4]), or undefined. */
function numericShape(value: unknown): number[] | undefined {
  if (typeof value === 'number') return [];
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const inner = numericShape(value[0]);
  if (inner === undefined) return undefined;
  for (let i = 1; i < value.length; i++) {
    const s = numericShape(value[i]);
    if (s === undefined || s.length !== inner.length || s.some((d, k) => d !== inner[k])) return undefined;
  }
  return [value.length, ...inner];
}

/**
 * Flatten a JSON result into rows of scalars for a table.
 *
 * Nested objects become dotted keys (`spectrum.top.0`), numbers, booleans and short strings are
 * kept, short arrays of scalars are shown inline, long numeric arrays and matrices are summarised
 * (count/shape, min, mean, max), and arrays of objects are read as columns: `eigen[].value`
 * summarises the `value` field across all elements.
 */
export function flattenScalars(value: unknown, options: FlattenOptions = {}): ScalarRow[] {
  const maxRows = options.maxRows ?? 200;
  const maxInline = options.maxInlineArray ?? 8;
  const maxString = options.maxString ?? 300;
  const rows: ScalarRow[] = [];
  let omitted = 0;

  const push = (key: string, v: ScalarRow['value']): void => {
    if (rows.length < maxRows) rows.push({ key, value: v });
    else omitted++;
  };

  const visit = (key: string, v: unknown): void => {
    if (v === null || v === undefined) return push(key, null);
    if (typeof v === 'number' || typeof v === 'boolean') return push(key, v);
    if (typeof v === 'string') return push(key, cut(v, maxString));
    if (Array.isArray(v)) return visitArray(key, v);
    if (isPlainObject(v)) {
      const entries = Object.entries(v);
      if (entries.length === 0) return push(key, '{}');
      for (const [k, child] of entries) visit(key ? `${key}.${k}` : k, child);
      return;
    }
    push(key, cut(String(v), maxString));
  };

  const visitArray = (key: string, arr: unknown[]): void => {
    if (arr.length === 0) return push(key, '[] (empty)');
    const shape = numericShape(arr);
    if (shape && shape.length === 1) {
      const nums = arr as number[];
      if (nums.length <= maxInline) return push(key, `[${nums.map(formatNumber).join(', ')}]`);
      return push(key, summarizeNumbers(nums));
    }
    if (shape) {
      const flat = (arr as unknown[]).flat(Infinity) as number[];
      return push(key, `${shape.join('×')} array · ${summarizeNumbers(flat).replace(/^\d+ numbers · /, '')}`);
    }
    if (arr.every((x) => x === null || ['string', 'boolean', 'number'].includes(typeof x))) {
      if (arr.length <= maxInline) return push(key, cut(arr.map((x) => String(x)).join(', '), maxString));
      return push(key, `${arr.length} values`);
    }
    if (arr.every(isPlainObject)) {
      const objs = arr as Plain[];
      if (objs.length <= 3) {
        objs.forEach((o, i) => visit(`${key}[${i}]`, o));
        return;
      }
      const fields: string[] = [];
      for (const o of objs) for (const f of Object.keys(o)) if (!fields.includes(f)) fields.push(f);
      push(`${key}`, `${objs.length} entries`);
      for (const f of fields) {
        const column = objs.map((o) => o[f]);
        const present = column.filter((c) => c !== undefined);
        visitColumn(`${key}[].${f}`, present);
      }
      return;
    }
    push(key, `${arr.length} items`);
  };

  /** A field read across the elements of an array of objects. */
  const visitColumn = (key: string, column: unknown[]): void => {
    if (column.length > 0 && column.every((c) => typeof c === 'number')) return push(key, summarizeNumbers(column as number[]));
    if (column.length > 0 && column.every((c) => typeof c === 'string' || typeof c === 'boolean')) {
      const distinct = [...new Set(column.map(String))];
      return push(key, distinct.length <= maxInline ? cut(distinct.join(', '), maxString) : `${distinct.length} distinct values`);
    }
    push(key, `${column.length} values`);
  };

  visit('', value);
  if (omitted > 0) rows.push({ key: '…', value: `${omitted} more entries not shown` });
  // a bare scalar at the top level gets a readable key
  for (const r of rows) if (r.key === '') r.key = 'value';
  return rows;
}
