import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { analyzeStoredRun, buildRegistry, parseAssignments, parseExperiment, resolutionBases, setPath, startBackend } from '@goldstone/runner';
import { RunStore } from '@goldstone/run-store';
import { UsageError } from '@goldstone/plugin-api';
import type { BackendChoice } from '@goldstone/core';
import { writeRunReport } from '@goldstone/report';
import { cliEnvironment } from '../environment';
import { stderrProgress } from '../progress';
import { formatHeadline, headlineNumbers } from '../summary';
import { ANALYSES_DIR, RUN_FILE } from '@goldstone/run-store/format';

export interface AnalyzeFlags {
  analysis: string;
  id?: string;
  set?: string[];
  json?: boolean;
  backend?: BackendChoice;
  plugin?: string[];
  trustPlugins?: boolean;
  quiet?: boolean;
}

/** A plugin specifier as a comparable string: paths absolute (relative to the working directory), package names as given. */
const specifierKey = (spec: string) => (spec.startsWith('.') || isAbsolute(spec) ? resolve(spec) : spec);

/**
 * Run one analysis on a finished run's last good checkpoint, with the options the run recorded for
 * it (its entry in run.json's experiment), or the plugin's defaults when the run did not have it
 * (said on stderr). `--set` overrides them, key by dotted key, and may be written with or without
 * the analysis name in front: `--set hessian.method=exact` or `--set method=exact`.
 * The plugin modules a run's run.json lists run code when loaded, so they are loaded only with
 * `--trust-plugins` (or when given with `--plugin` too): a run directory from someone else cannot
 * run code by being analysed.
 */
export async function analyzeCommand(runDir: string, flags: AnalyzeFlags): Promise<number> {
  const runFile = join(runDir, RUN_FILE);
  if (!existsSync(runFile)) throw new UsageError(`${runFile}: not found: RUN_DIR must be a goldstone run directory`, { file: runFile });
  const store = await RunStore.create(runDir, { resume: true });
  const run = (await store.readRun()) as Record<string, any>;
  const experiment = parseExperiment(run.config, { file: runFile });
  // `--set` keys relative to the analysis' options, applied over the options the run recorded for it
  const set: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parseAssignments(flags.set))) {
    const key = k.startsWith(`${flags.analysis}.`) ? k.slice(flags.analysis.length + 1) : k;
    // dotted keys address nested options; setPath refuses __proto__, constructor and prototype (checked here, before anything is loaded)
    setPath({}, key, v);
    set[key] = v;
  }
  const given = new Set((flags.plugin ?? []).map(specifierKey));
  const untrusted = experiment.plugins.filter((p) => !given.has(specifierKey(p)));
  if (untrusted.length > 0 && !flags.trustPlugins) {
    throw new UsageError(
      `${runFile}: plugins: this run loads plugin modules, and loading one runs its code: ${untrusted.join(', ')}. ` +
        'Pass --trust-plugins to load them (only for a run you trust), or give the ones you trust with --plugin',
      { file: runFile, field: 'plugins' },
    );
  }
  const env = cliEnvironment();
  const registry = await buildRegistry({
    builtins: env.builtins,
    needed: [
      { kind: 'task', name: experiment.task.name },
      { kind: 'model', name: experiment.model.name },
      { kind: 'analysis', name: flags.analysis },
    ],
    plugins: [...new Set([...experiment.plugins, ...(flags.plugin ?? [])].map(specifierKey))],
    bases: resolutionBases(env),
    relativeTo: process.cwd(),
    where: runFile,
  });
  const backend = await startBackend(flags.backend ?? experiment.backend);
  const progress = stderrProgress({ quiet: flags.quiet });
  const id = flags.id ?? flags.analysis;
  const result = await analyzeStoredRun({ store, registry, analysis: flags.analysis, id, set, backend, progress });
  await writeRunReport(runDir);
  if (flags.json) process.stdout.write(`${JSON.stringify({ ...(result.result as object), provenance: result.provenance }, null, 2)}\n`);
  else {
    progress.log(`wrote ${join(runDir, ANALYSES_DIR, `${id}.json`)}`);
    const headline = headlineNumbers(result);
    if (headline.length) progress.log(`  ${id}: ${headline.map(formatHeadline).join('  ')}`);
  }
  return 0;
}
