import { builtinModules } from 'node:module';
import { UsageError, type PluginKind } from '@goldstone/plugin-api';

/** The names a new plugin package is written with. */
export interface PluginNames {
  kind: PluginKind;
  /** The npm package name (`goldstone-analysis-grad-curvature`, `@lab/oscillator`). */
  packageName: string;
  /** The plugin's short name, as experiments write it (`grad-curvature`). */
  plugin: string;
  /** The exported constant (`gradCurvatureAnalysis`). */
  identifier: string;
}

/** A plugin's short name: lowercase letters and digits, single dashes (what the testkit checks). */
const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * Why `name` cannot be published as a new npm package, or undefined when it can: the rules of
 * npm's registry for new names (at most 214 characters, lowercase, URL-safe characters only, no
 * leading dot or underscore, not a Node built-in module; `@scope/name` for a scoped package).
 */
export function npmNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > 214) return `it has ${name.length} characters (at most 214)`;
  if (name !== name.trim()) return 'it has leading or trailing spaces';
  if (name !== name.toLowerCase()) return 'it has capital letters';
  const m = /^(?:@([^/]+)\/)?([^/]+)$/.exec(name);
  if (!m) return name.startsWith('@') ? 'a scoped name is @scope/name' : 'it has a slash (a scoped name is @scope/name)';
  for (const part of [m[1], m[2]]) {
    if (part === undefined) continue;
    if (/^[._]/.test(part)) return `"${part}" starts with "${part[0]}"`;
    if (!/^[a-z0-9-][a-z0-9._-]*$/.test(part)) return `"${part}" has characters other than a-z, 0-9, ".", "_" and "-"`;
  }
  if (!m[1] && (builtinModules.includes(name) || ['node_modules', 'favicon.ico'].includes(name))) return `"${name}" is a reserved name`;
  return undefined;
}

/** camelCase of a kebab-case name: `grad-curvature` → `gradCurvature`. */
function camel(kebab: string): string {
  return kebab.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The names of a new plugin package from its npm name: the short name drops a scope and a
 * `goldstone-` and `<kind>-` prefix (`goldstone-analysis-grad-curvature` → `grad-curvature`);
 * the export is its camelCase with the kind (`gradCurvatureAnalysis`). A UsageError naming NAME
 * when it is not a valid npm name.
 */
export function pluginNames(packageName: string, kind: PluginKind): PluginNames {
  const problem = npmNameProblem(packageName);
  if (problem) {
    throw new UsageError(`create plugin: NAME: expected an npm package name (lowercase, a-z 0-9 . _ -, optionally @scope/name), found ${JSON.stringify(packageName)}: ${problem}`, {
      field: 'NAME',
    });
  }
  const bare = packageName.replace(/^@[^/]+\//, '');
  let plugin = bare.replace(/[._]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  for (const prefix of ['goldstone-', `${kind}-`]) if (plugin.startsWith(prefix) && plugin.length > prefix.length) plugin = plugin.slice(prefix.length);
  if (!KEBAB.test(plugin)) {
    throw new UsageError(`create plugin: NAME: expected a name that gives a kebab-case plugin name (letters and digits, single dashes), found ${JSON.stringify(packageName)} (→ "${plugin}")`, {
      field: 'NAME',
    });
  }
  const base = camel(plugin);
  const Kind = kind[0].toUpperCase() + kind.slice(1);
  const identifier = /^[0-9]/.test(base) ? `${kind}${base[0].toUpperCase()}${base.slice(1)}` : `${base}${Kind}`;
  return { kind, packageName, plugin, identifier };
}
