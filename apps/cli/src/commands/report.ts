import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '@goldstone/plugin-api';
import { readBundles, writeInteractiveSweepReport, writeRunReport, writeSweepReport } from '@goldstone/report';
import { RUN_FILE } from '@goldstone/run-store/format';

export interface ReportFlags {
  /** Also write the interactive report (report.interactive.html / sweep-report.interactive.html). */
  interactive?: boolean;
}

/**
 * (Re)write the report of a run directory (report.html) or of a sweep directory (sweep-report.html);
 * with --interactive also the interactive one beside it. Everything is checked before anything is written.
 */
export async function reportCommand(dir: string, flags: ReportFlags = {}): Promise<number> {
  const runFile = join(dir, RUN_FILE);
  const sweepFile = join(dir, 'sweep.json');
  const isRun = existsSync(runFile);
  if (!isRun && !existsSync(sweepFile)) {
    throw new UsageError(`${dir}: DIR: expected a goldstone run directory (with ${RUN_FILE}) or sweep directory (with sweep.json), found neither`, { file: runFile });
  }
  if (flags.interactive) readBundles(); // vega and vega-embed's browser bundles: a UsageError when missing
  const written = isRun ? [await writeRunReport(dir)] : [await writeSweepReport(dir)];
  if (flags.interactive) written.push(isRun ? await writeRunReport(dir, { mode: 'interactive' }) : await writeInteractiveSweepReport(dir));
  for (const path of written) process.stderr.write(`wrote ${path}\n`);
  return 0;
}
