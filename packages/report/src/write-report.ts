import { join } from 'node:path';
import { readRun, REPORT_FILE, writeFileAtomic } from '@goldstone/run-store/format';
import { INTERACTIVE_REPORT_FILE, INTERACTIVE_SWEEP_REPORT_FILE, interactivePage, readBundles, type ReportMode } from './interactive';
import { buildRunReport, type RunReportOptions } from './run-report';
import { buildSweepReport, readSweep, type SweepReportOptions } from './sweep-report';

export interface WriteReportOptions {
  /** `static` (default): report.html, no scripts. `interactive`: report.interactive.html, figures drawn by vega-embed. */
  mode?: ReportMode;
}

/** The options with figures in `mode`, threaded through `render` (what every figure is drawn with). */
function withMode<T extends { render?: object }>(options: T, mode: ReportMode): T {
  return mode === 'static' ? options : { ...options, render: { ...options.render, mode } };
}

/**
 * Read the run in `dir`, build its report and write it atomically: `dir/report.html`, or with
 * `mode: 'interactive'` `dir/report.interactive.html`; returns the path written.
 */
export async function writeRunReport(dir: string, options: RunReportOptions & WriteReportOptions = {}): Promise<string> {
  const mode = options.mode ?? 'static';
  const scripts = mode === 'interactive' ? readBundles() : undefined; // a missing bundle stops us before anything is read
  const data = await readRun(dir);
  const html = await buildRunReport(data, withMode(options, mode));
  const path = join(dir, scripts ? INTERACTIVE_REPORT_FILE : REPORT_FILE);
  await writeFileAtomic(path, scripts ? interactivePage(html, scripts) : html);
  return path;
}

/** Read the sweep in `dir` and write its interactive report, `dir/sweep-report.interactive.html`; returns the path. */
export async function writeInteractiveSweepReport(dir: string, options: SweepReportOptions = {}): Promise<string> {
  const scripts = readBundles();
  const html = await buildSweepReport(await readSweep(dir), withMode(options, 'interactive'));
  const path = join(dir, INTERACTIVE_SWEEP_REPORT_FILE);
  await writeFileAtomic(path, interactivePage(html, scripts));
  return path;
}
