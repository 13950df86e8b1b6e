import { z } from 'zod';

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
};

const SAFE = 9007199254740991;

/** A short human reading of a JSON-schema type: `integer ≥ 1`, `relu | tanh`, `number[]`, `object`. */
function describeType(s: JsonSchema | undefined): string {
  if (!s) return 'any';
  if (s.enum) return s.enum.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return [...new Set(alts.map(describeType))].join(' | ');
  const type = Array.isArray(s.type) ? s.type.join(' | ') : (s.type ?? 'any');
  if (type === 'array') {
    const item = describeType(s.items);
    return /[ |]/.test(item) ? `(${item})[]` : `${item}[]`;
  }
  if (type === 'object' && s.properties) return `{ ${Object.keys(s.properties).join(', ')} }`;
  const bounds: string[] = [];
  if (s.minimum !== undefined && s.minimum > -SAFE) bounds.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) bounds.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined && s.maximum < SAFE) bounds.push(`≤ ${s.maximum}`);
  if (s.exclusiveMaximum !== undefined) bounds.push(`< ${s.exclusiveMaximum}`);
  return bounds.length ? `${type} ${bounds.join(', ')}` : type;
}

export interface OptionRow {
  option: string;
  type: string;
  default: string;
  description: string;
}

/** The JSON schema of a plugin's options (what they accept as input). */
export function optionsJsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

/** One row per top-level option of a plugin's schema: name, type, default, description. */
export function optionRows(schema: z.ZodType): OptionRow[] {
  const json = optionsJsonSchema(schema);
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    option: name,
    type: describeType(s),
    default: s.default !== undefined ? JSON.stringify(s.default) : required.has(name) ? '(required)' : '—',
    description: s.description ?? '',
  }));
}

/** A plain-text table with aligned columns. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
