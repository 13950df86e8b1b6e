import { buildRegistry, type PluginEntry } from '@goldstone/core';
import { resolutionBases } from '../context';

export async function listCommand(opts: { json?: boolean; plugin?: string[] }): Promise<number> {
  const registry = await buildRegistry({
    allBuiltins: true,
    plugins: opts.plugin ?? [],
    bases: resolutionBases(),
    relativeTo: process.cwd(),
    where: '--plugin',
    onSkip: (pkg, reason) => process.stderr.write(`warning: skipping ${pkg}: ${reason}\n`),
  });
  const entries: PluginEntry[] = registry.list();
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(entries.map(({ kind, name, package: pkg, version }) => ({ kind, name, package: pkg, version })), null, 2)}\n`);
    return 0;
  }
  const rows = entries.map((e) => [e.kind, e.name, `${e.package}@${e.version}`, e.description ?? '']);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), ['kind', 'name', 'package'][i].length));
  const line = (r: string[]) => `${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2].padEnd(widths[2])}  ${r[3]}`.trimEnd();
  process.stdout.write(`${[line(['kind', 'name', 'package', 'description']), ...rows.map(line)].join('\n')}\n`);
  return 0;
}
