import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeStoredRun, buildRegistry, parseAssignments, parseExperiment, resolutionBases, startBackend } from '@goldstone/runner';
import { RunStore } from '@goldstone/run-store';
import { UsageError } from '@goldstone/plugin-api';
import type { BackendChoice } from '@goldstone/core';
import { writeRunReport } from '@goldstone/report';
import { cliEnvironment } from '../environment';
import { stderrProgress } from '../progress';
import { ANALYSES_DIR, RUN_FILE } from '@goldstone/run-store/format';

export interface AnalyzeFlags {
  analysis: string;
  set?: string[];
  json?: boolean;
  backend?: BackendChoice;
  plugin?: string[];
}

/**
 * Run one analysis on a finished run's last good checkpoint. `--set` keys may be written with or
 * without the analysis name in front: `--set hessian.method=exact` or `--set method=exact`.
 */
export async function analyzeCommand(runDir: string, flags: AnalyzeFlags): Promise<number> {
  const runFile = join(runDir, RUN_FILE);
  if (!existsSync(runFile)) throw new UsageError(`${runFile}: not found: RUN_DIR must be a goldstone run directory`, { file: runFile });
  const store = await RunStore.create(runDir, { resume: true });
  const run = (await store.readRun()) as Record<string, any>;
  const experiment = parseExperiment(run.config, { file: runFile });
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parseAssignments(flags.set))) {
    const key = k.startsWith(`${flags.analysis}.`) ? k.slice(flags.analysis.length + 1) : k;
    options[key] = v;
  }
  const env = cliEnvironment();
  const registry = await buildRegistry({
    builtins: env.builtins,
    needed: [
      { kind: 'task', name: experiment.task.name },
      { kind: 'model', name: experiment.model.name },
      { kind: 'analysis', name: flags.analysis },
    ],
    plugins: [...experiment.plugins, ...(flags.plugin ?? [])],
    bases: resolutionBases(env),
    relativeTo: process.cwd(),
    where: runFile,
  });
  const nested: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    // dotted keys address nested options
    const parts = k.split('.');
    let o: any = nested;
    for (const p of parts.slice(0, -1)) o = o[p] ??= {};
    o[parts[parts.length - 1]] = v;
  }
  const backend = await startBackend(flags.backend ?? experiment.backend);
  const progress = stderrProgress();
  const result = await analyzeStoredRun({ store, registry, analysis: flags.analysis, options: nested, backend, progress });
  await writeRunReport(runDir);
  if (flags.json) process.stdout.write(`${JSON.stringify({ ...(result.result as object), provenance: result.provenance }, null, 2)}\n`);
  else progress.log(`wrote ${join(runDir, ANALYSES_DIR, `${flags.analysis}.json`)}`);
  return 0;
}
