import { join } from 'node:path';
import { readRun, REPORT_FILE, writeFileAtomic } from '@goldstone/run-store/format';
import { buildRunReport, type RunReportOptions } from './run-report';

/** Read the run in `dir`, build its report and write `dir/report.html` atomically; returns the path written. */
export async function writeRunReport(dir: string, options: RunReportOptions = {}): Promise<string> {
  const data = await readRun(dir);
  const html = await buildRunReport(data, options);
  const path = join(dir, REPORT_FILE);
  await writeFileAtomic(path, html);
  return path;
}
