import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, it } from 'vitest';
import type { AnalysisPlugin, ModelPlugin, Plugin, TaskPlugin } from '@goldstone/plugin-api';
import type { Check, TestPluginOptions } from './check';
import { commonChecks } from './check-common';
import { taskChecks } from './check-task';
import { modelChecks } from './check-model';
import { analysisChecks } from './check-analysis';

/** The conformance checks of a plugin, as plain functions that throw on failure. */
export function conformanceChecks(plugin: Plugin, opts: TestPluginOptions = {}): Check[] {
  const common = commonChecks(plugin, opts);
  switch (plugin.kind) {
    case 'task':
      return [...common, ...taskChecks(plugin as TaskPlugin, opts)];
    case 'model':
      return [...common, ...modelChecks(plugin as ModelPlugin, opts)];
    case 'analysis':
      return [...common, ...analysisChecks(plugin as AnalysisPlugin, opts)];
    default:
      return common;
  }
}

/**
 * Registers a vitest `describe` block with one `it` per conformance check of `plugin`. Call it at
 * the top level of a test file. The checks run on `opts.backend` (default `cpu`).
 */
export function testPlugin(plugin: Plugin, opts: TestPluginOptions = {}): void {
  const title = opts.title ?? `${plugin?.kind ?? 'plugin'} ${plugin?.name ?? '(unnamed)'} conforms`;
  describe(title, () => {
    beforeAll(async () => {
      const backend = opts.backend ?? 'cpu';
      if (tf.getBackend() !== backend && !(await tf.setBackend(backend))) {
        throw new Error(`could not set the tfjs backend "${backend}" (import its package first)`);
      }
    });
    for (const check of conformanceChecks(plugin, opts)) it(check.name, () => check.run());
  });
}
