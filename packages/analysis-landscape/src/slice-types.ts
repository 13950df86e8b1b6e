import type { Json } from '@goldstone/plugin-api';
import type { PointValues } from './grid';
import type { DirectionKind } from './options';

/** A 1-D slice: the loss along one direction. */
export interface Line {
  axis: number;
  t: number[];
  loss: number[];
  accuracy: number[] | null;
}

/** A 2-D slice: `loss[i][j]` at (a[j], b[i]). */
export interface Plane {
  a: number[];
  b: number[];
  loss: number[][];
  accuracy: number[][] | null;
}

/** One direction set's slices. */
export interface Slice {
  kind: DirectionKind;
  /** Half-width of each axis. */
  ranges: number[];
  /** Norms of the directions and the cosine between the first two. */
  norms: number[];
  cosine: number | null;
  lines: Line[];
  plane: Plane | null;
  /** The recorded trajectory projected onto the directions (pca), with the steps of its snapshots. */
  trajectory: { steps: number[]; coords: number[][]; inPlane: number } | null;
  /** What the directions are: eigenvalues, explained variance, normalisation. */
  info: Record<string, Json>;
}

/** One interpolation between two parameter sets. */
export interface Interpolation {
  from: string;
  to: string;
  alpha: number[];
  /** ‖θ_B − θ_A‖. */
  distance: number;
  train: PointValues;
  test: PointValues;
}
