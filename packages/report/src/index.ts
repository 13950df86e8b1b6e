// Public surface of @goldstone/report: named re-exports only. Reads the run-store format (never tfjs).
export { renderSvg, defaultTheme } from './render-svg';
export type { RenderOptions, VegaLiteSpec } from './render-svg';
export { buildRunReport } from './run-report';
export type { RunReportOptions } from './run-report';
export { writeRunReport } from './write-report';
export { trainingCurveFigures } from './training-curves';
export type { ReportFigure, TrainingCurveOptions } from './training-curves';
export { flattenScalars } from './flatten';
export type { ScalarRow, FlattenOptions } from './flatten';
export { escapeHtml } from './html';
export { buildSweepReport, writeSweepReport, readSweep, sweepFigures, heatmapFigure, lineFigure, groupMetric, sweepMetrics, settingLabel } from './sweep-report';
export type { SweepData, SweepInfo, SweepPointInfo, SweepSummaryEntry, SweepReportOptions } from './sweep-report';
export { writeInteractiveSweepReport } from './write-report';
export type { WriteReportOptions } from './write-report';
export { interactiveSpec, interactiveVegaSpec, interactivePage, readBundles, INTERACTIVE_REPORT_FILE, INTERACTIVE_SWEEP_REPORT_FILE } from './interactive';
export type { ReportMode, Interactions, Bundles } from './interactive';
export type { FigureOptions } from './figure-html';
