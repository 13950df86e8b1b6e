import { API_VERSION, type AnalysisPlugin, type ModelPlugin, type Plugin, type PluginKind, type TaskPlugin } from './plugin';
import { didYouMean, UsageError } from './errors';

/**
 * Which package provides each built-in plugin, by kind and short name. The application (the CLI)
 * owns the one map and hands it to the registry as data, so that a missing plugin's error names the
 * package to install.
 */
export type BuiltinPlugins = Readonly<Record<PluginKind, Readonly<Record<string, string>>>>;

/** No built-ins: a registry of exactly what was added. */
export const NO_BUILTINS: BuiltinPlugins = { task: {}, model: {}, analysis: {} };

/** Where a registered plugin came from. */
export interface PluginSource {
  package: string;
  version: string;
}

export interface PluginEntry {
  kind: PluginKind;
  name: string;
  package: string;
  version: string;
  description?: string;
}

export function isPlugin(value: unknown): value is Plugin {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    (v.kind === 'task' || v.kind === 'model' || v.kind === 'analysis') &&
    typeof v.name === 'string' &&
    typeof v.apiVersion === 'number' &&
    typeof v.options === 'object' &&
    v.options !== null
  );
}

type ByKind = { task: TaskPlugin; model: ModelPlugin; analysis: AnalysisPlugin };

/** A registry of plugins, built from data. Importing a package registers nothing by itself. */
export class Registry {
  private readonly entries = new Map<string, { plugin: Plugin; source: PluginSource }>();

  /** `builtins`: the packages that provide plugins by short name, named in "unknown plugin" errors. */
  constructor(readonly builtins: BuiltinPlugins = NO_BUILTINS) {}

  add(plugin: Plugin, source: PluginSource): void {
    if (!isPlugin(plugin)) throw new UsageError(`${source.package} exports something that is not a goldstone plugin`);
    if (plugin.apiVersion !== API_VERSION) {
      throw new UsageError(
        `plugin ${plugin.kind} "${plugin.name}" from ${source.package} was written for plugin API ${plugin.apiVersion}; this goldstone speaks API ${API_VERSION}`,
      );
    }
    const key = `${plugin.kind}:${plugin.name}`;
    const existing = this.entries.get(key);
    if (existing) {
      if (existing.plugin === plugin) return;
      throw new UsageError(
        `duplicate ${plugin.kind} plugin name "${plugin.name}": provided by ${existing.source.package} and by ${source.package}`,
      );
    }
    this.entries.set(key, { plugin, source });
  }

  has(kind: PluginKind, name: string): boolean {
    return this.entries.has(`${kind}:${name}`);
  }

  get<K extends PluginKind>(kind: K, name: string): ByKind[K] {
    const entry = this.entries.get(`${kind}:${name}`);
    if (!entry) {
      const pkg = this.builtinPackage(kind, name);
      const known = [...new Set([...this.names(kind), ...Object.keys(this.builtins[kind])])].sort();
      if (pkg) throw new UsageError(`unknown ${kind} plugin "${name}": install ${pkg}`);
      const near = didYouMean(name, known);
      const list = `known ${kind} plugins: ${known.length ? known.join(', ') : '(none)'}; a third-party plugin must be listed under "plugins:"`;
      throw new UsageError(near ? `unknown ${kind} plugin "${name}"${near} (${list})` : `unknown ${kind} plugin "${name}": ${list}`);
    }
    return entry.plugin as ByKind[K];
  }

  /** The package that provides a built-in short name, if the map has one (own entries only: `constructor` is not a plugin). */
  builtinPackage(kind: PluginKind, name: string): string | undefined {
    const map = this.builtins[kind];
    return Object.hasOwn(map, name) && typeof map[name] === 'string' ? map[name] : undefined;
  }

  source(kind: PluginKind, name: string): PluginSource | undefined {
    return this.entries.get(`${kind}:${name}`)?.source;
  }

  names(kind: PluginKind): string[] {
    return [...this.entries.values()].filter((e) => e.plugin.kind === kind).map((e) => e.plugin.name).sort();
  }

  list(): PluginEntry[] {
    const order: PluginKind[] = ['task', 'model', 'analysis'];
    return [...this.entries.values()]
      .map(({ plugin, source }) => ({
        kind: plugin.kind,
        name: plugin.name,
        package: source.package,
        version: source.version,
        ...(plugin.description ? { description: plugin.description } : {}),
      }))
      .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.name.localeCompare(b.name));
  }
}

/** The plugins a module exports: its `plugins` array, its default export, or any named plugin exports. */
export function pluginsOf(mod: Record<string, unknown>): Plugin[] {
  const found = new Set<Plugin>();
  const consider = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(consider);
    else if (isPlugin(value)) found.add(value);
  };
  if (mod.plugins !== undefined) consider(mod.plugins);
  if (mod.default !== undefined) {
    const d = mod.default as Record<string, unknown> | undefined;
    consider(d);
    if (d && typeof d === 'object' && !isPlugin(d) && 'plugins' in d) consider(d.plugins);
  }
  if (found.size === 0) for (const value of Object.values(mod)) consider(value);
  return [...found];
}
