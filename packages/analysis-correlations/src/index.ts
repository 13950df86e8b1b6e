// Public surface of @goldstone/analysis-correlations: re-exports only.
import { correlations } from './correlations';

export { correlations, measureRun, performanceOutcomes } from './correlations';
export { correlationsOptions, DEFAULT_COMPLEXITY, trendOptions, type CorrelationsOptions, type TrendOptions } from './options';
export { parsePath, resolvePath, settingOf, type PathStep, type Resolved } from './paths';
export { bootstrapSpearman, completePairs, meanSd, spearman, type BootstrapOptions, type CorrelationEstimate } from './stats';
export { cellText, heatMap, rowOf, summarizeCorrelations, trendFigure, type CorrelationRow, type TableRow, type TrendPoint } from './summary';

/** goldstone loads a module's `plugins` export. */
export const plugins = [correlations];
