import * as fs from 'node:fs';
import { API_VERSION, defineAnalysis } from '@goldstone/plugin-api';
import { analyzeLandscape } from './analyze';
import { landscapeIssues, landscapeOptions } from './options';
import { recordLandscape } from './recorder';

/**
 * The `landscape` analysis: 1-D and 2-D slices of the loss around the trained parameters along
 * filter-normalised random directions, the top Hessian eigenvectors or the top PCs of the training
 * trajectory, and linear interpolations between parameter sets, evaluated in batches.
 */
export const landscape = defineAnalysis({
  name: 'landscape',
  apiVersion: API_VERSION,
  description: 'Loss landscape: slices along filter-normalised random directions, Hessian eigenvectors and trajectory PCs; interpolations (init → trained, mode connectivity).',
  options: landscapeOptions,
  check: (options, ctx) => landscapeIssues(options, ctx, (p) => fs.existsSync(p)),
  trainHooks: (options, { model }) => recordLandscape(model, { every: options.every, trajectory: options.directions.includes('pca') && options.trajectory !== 'checkpoints' }),
  run: analyzeLandscape,
});
