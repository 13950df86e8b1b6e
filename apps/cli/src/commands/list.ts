import { buildRegistry, resolutionBases } from '@goldstone/runner';
import { UsageError, type PluginEntry, type PluginKind } from '@goldstone/plugin-api';
import { cliEnvironment } from '../environment';
import { optionRows, optionsJsonSchema, textTable } from '../options-table';

/**
 * `goldstone list` prints the installed plugins; `goldstone list NAME` prints one plugin's options,
 * rendered from its schema (with `--json`, the schema itself as JSON Schema).
 */
export async function listCommand(name: string | undefined, opts: { json?: boolean; plugin?: string[] }): Promise<number> {
  const env = cliEnvironment();
  const registry = await buildRegistry({
    builtins: env.builtins,
    allBuiltins: true,
    plugins: opts.plugin ?? [],
    bases: resolutionBases(env),
    relativeTo: process.cwd(),
    where: '--plugin',
    onSkip: (pkg, reason) => process.stderr.write(`warning: skipping ${pkg}: ${reason}\n`),
  });
  const entries: PluginEntry[] = registry.list();
  if (name !== undefined) {
    const matches = entries.filter((e) => e.name === name);
    if (matches.length === 0) {
      throw new UsageError(`no installed plugin is named "${name}"; installed: ${entries.map((e) => e.name).join(', ') || 'none'}`);
    }
    const out: string[] = [];
    const json: unknown[] = [];
    for (const e of matches) {
      const plugin = registry.get(e.kind as PluginKind, e.name);
      if (opts.json) {
        json.push({ kind: e.kind, name: e.name, package: e.package, version: e.version, options: optionsJsonSchema(plugin.options) });
        continue;
      }
      const rows = optionRows(plugin.options).map((r) => [r.option, r.type, r.default, r.description]);
      out.push(
        `${e.kind} ${e.name} (${e.package}@${e.version})${e.description ? `\n${e.description}` : ''}\n\n` +
          (rows.length ? textTable(['option', 'type', 'default', 'description'], rows) : '(no options)'),
      );
    }
    process.stdout.write(opts.json ? `${JSON.stringify(json.length === 1 ? json[0] : json, null, 2)}\n` : `${out.join('\n\n')}\n`);
    return 0;
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(entries.map(({ kind, name: n, package: pkg, version }) => ({ kind, name: n, package: pkg, version })), null, 2)}\n`);
    return 0;
  }
  const rows = entries.map((e) => [e.kind, e.name, `${e.package}@${e.version}`, e.description ?? '']);
  process.stdout.write(`${textTable(['kind', 'name', 'package', 'description'], rows)}\n`);
  return 0;
}
