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
export { labelAxes, axisIssues, symlogTicks, sqrtTicks } from './axes';
export { buildSweepReport, writeSweepReport, readSweep, sweepFigures, heatmapFigure, lineFigure, groupMetric, sweepMetrics, settingLabel } from './sweep-report';
export { curvesFigure, sweepCurveFigures, sweptAxes } from './sweep-report';
export { exactComparisons, finalMetrics, metricGrid, worstOod } from './headline-card';
export type { ExactComparison } from './headline-card';
export type { SweepData, SweepInfo, SweepPointInfo, SweepSummaryEntry, SweepReportOptions } from './sweep-report';
export { compareRuns, compareTables, buildCompareReport, compareCurveFigure, finalMetrics, flattenConfig, runLabels, bestOf, formatConfigValue, formatHeadlineValue, type RunComparison, type ComparedRun, type ComparisonRow, type MetricComparison, type HeadlineComparison, type AnalysisComparison, type Better, type CompareOptions, type CompareReportOptions, type CompareTable, type CompareTablesOptions, type HeadlineValue } from './compare-report';
