/**
 * A plain object (what a JSON object parses to): not null, not an array. Use it to check parsed
 * JSON or YAML before reading its fields.
 */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
