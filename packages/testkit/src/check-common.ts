import { API_VERSION, type OptionIssue, type Plugin, type SizeEstimate } from '@goldstone/plugin-api';
import type { Check, TestPluginOptions } from './check';
import { assertJson } from './json';

const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

interface SchemaLike {
  safeParse(value: unknown): { success: boolean; data?: unknown; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } };
}

function isSchema(s: unknown): s is SchemaLike {
  return typeof s === 'object' && s !== null && typeof (s as SchemaLike).safeParse === 'function';
}

export function fail(message: string): never {
  throw new Error(message);
}

/** Parse the plugin's options (from `opts.options` or `{}`), with a readable error. */
export function parsedOptions(plugin: Plugin, opts: TestPluginOptions): unknown {
  const raw = opts.options ?? {};
  if (!isSchema(plugin.options)) fail(`${plugin.name}: options is not a zod schema`);
  const r = plugin.options.safeParse(raw);
  if (!r.success) {
    const issues = r.error?.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
    fail(`${plugin.name}: options ${JSON.stringify(raw)} do not parse: ${issues}`);
  }
  return r.data;
}

/** An `estimate` hook's answer is well formed: finite sizes, and a `field` that is one of the options. */
export function checkEstimateShape(est: SizeEstimate, options: unknown): void {
  for (const k of ['bytes', 'heapBytes', 'largestArray', 'params'] as const) {
    const v = est[k];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) fail(`estimate: ${k} is ${v}, expected a finite number ≥ 0`);
  }
  if (est.heapBytes !== undefined && est.heapBytes > est.bytes) fail(`estimate: heapBytes ${est.heapBytes} is more than bytes ${est.bytes}`);
  const head = est.field?.split(/[.[]/)[0];
  if (head && !(typeof options === 'object' && options !== null && head in options)) fail(`estimate: field "${est.field}" is not one of the options (${Object.keys(options ?? {}).join(', ')})`);
}

/** A `check` hook's answer is well formed: nothing, or issues with a field (a string) and a message. */
export function checkIssuesShape(issues: OptionIssue[] | void): OptionIssue[] {
  if (issues === undefined) return [];
  if (!Array.isArray(issues)) fail(`check returned ${typeof issues}, expected an array of issues or nothing`);
  for (const i of issues) if (typeof i?.field !== 'string' || typeof i?.message !== 'string' || !i.message) fail(`check returned a malformed issue ${JSON.stringify(i)}`);
  return issues;
}

/** Checks every plugin passes, whatever its kind. */
export function commonChecks(plugin: Plugin, opts: TestPluginOptions): Check[] {
  const checks: Check[] = [
    {
      name: 'declares kind, a kebab-case name and the current API version',
      async run() {
        if (!['task', 'model', 'analysis'].includes(plugin.kind)) fail(`unknown kind "${String(plugin.kind)}"`);
        if (typeof plugin.name !== 'string' || !KEBAB.test(plugin.name)) {
          fail(`name "${String(plugin.name)}" is not kebab-case (lowercase letters, digits, single dashes)`);
        }
        if (plugin.apiVersion !== API_VERSION) fail(`apiVersion is ${plugin.apiVersion}, expected ${API_VERSION}`);
        if (plugin.description !== undefined && typeof plugin.description !== 'string') fail('description must be a string');
      },
    },
    {
      name: 'options schema parses its defaults (to the same JSON every time)',
      async run() {
        const a = parsedOptions(plugin, opts);
        const b = parsedOptions(plugin, opts);
        assertJson(a, '$options');
        if (JSON.stringify(a) !== JSON.stringify(b)) fail('parsing the same options twice gave different results');
      },
    },
    {
      name: 'options schema rejects a value that is not an object',
      async run() {
        if (!isSchema(plugin.options)) fail('options is not a zod schema');
        for (const bad of [42, 'options', null]) {
          if (plugin.options.safeParse(bad).success) fail(`options schema accepted ${JSON.stringify(bad)}`);
        }
      },
    },
  ];
  const bad = opts.badOptions;
  if (bad) {
    checks.push({
      name: `options schema rejects ${JSON.stringify(bad)}, naming the field`,
      async run() {
        if (!isSchema(plugin.options)) fail('options is not a zod schema');
        const r = plugin.options.safeParse({ ...(opts.options ?? {}), ...bad });
        if (r.success) fail(`options schema accepted ${JSON.stringify(bad)}`);
        const keys = Object.keys(bad);
        const issues = r.error?.issues ?? [];
        if (issues.length === 0) fail('rejected, but with no zod issues');
        const named = issues.some(
          (i) => (i.path.length > 0 && keys.includes(String(i.path[0]))) || keys.some((k) => i.message.includes(k)),
        );
        if (!named) {
          fail(`the error does not name ${keys.join(' or ')}: ${issues.map((i) => `[${i.path.join('.')}] ${i.message}`).join('; ')}`);
        }
      },
    });
  }
  return checks;
}
