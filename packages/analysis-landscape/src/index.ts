// Public surface of @goldstone/analysis-landscape: re-exports only.
import { landscape } from './landscape';

export { landscape } from './landscape';
export { landscapeOptions, type LandscapeOptions, DIRECTION_KINDS, type DirectionKind } from './options';
export { analyzeLandscape, type Interpolation, type Line, type Plane, type Slice } from './analyze';
export { isBias, normalizeDirection, randomDirections, type Normalization, type NormalizeOptions } from './directions';
export { GridEvaluator, linspace, replicaLosses, type EvalData, type GridCost, type PointValues } from './grid';
export { hessianDirections, type HessianDirections } from './hessian-directions';
export { projectTrajectory, trajectoryPca, type TrajectoryPca } from './pca';
export { landscapeRecordingFor, recordLandscape, type LandscapeRecording } from './recorder';
export { contourLevels, contourSegments, landscapeFigures, type FigureInput, type Segment } from './figures';
export { interpolationBarrier } from './headline';

/** goldstone loads a module's `plugins` export. */
export const plugins = [landscape];
