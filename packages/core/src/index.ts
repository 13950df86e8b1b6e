// Public surface of @goldstone/core: re-exports only.
export * from './plugin';
export * from './errors';
export * from './rng';
export * from './params';
export * from './data';
export * from './backend';
export * from './activations';
export * from './losses';
export * from './hvp';
export * from './linear-operator';
export * from './lanczos';
export * from './power-iteration';
export * from './trace-estimators';
export * from './spectral-density';
export * from './dense-hessian';
export * from './spectrum-metrics';
export * from './optim';
export * from './schedule';
export * from './trainer';
export * from './checkpoint';
export * from './store';
export * from './registry';
export * from './experiment';
export * from './runner';
export * from './sweep';
// The schema library plugins write their options with: one copy, shared with core's validation.
export { z } from 'zod';
