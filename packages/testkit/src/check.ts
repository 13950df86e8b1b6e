import type { LossName, ModelInstance, Params, TaskInstance, ModelCreateContext, Rng, AnalysisResult } from '@goldstone/plugin-api';
import type * as tf from '@tensorflow/tfjs-core';

/** One conformance check: `testPlugin` registers each as an `it`. Throws on failure. */
export interface Check {
  name: string;
  run(): Promise<void>;
}

/** Options of {@link testPlugin} and {@link conformanceChecks}. */
export interface TestPluginOptions {
  /** Title of the `describe` block (default `<kind> <name> conforms`). */
  title?: string;
  /** Raw options to validate and use (default `{}`: the schema's defaults). */
  options?: Record<string, unknown>;
  /** Options the schema must reject, naming at least one of their keys in the error (e.g. `{ hidden: 'wide' }`). */
  badOptions?: Record<string, unknown>;
  /** Seed for everything the checks draw (default 1). */
  seed?: number;
  /** tfjs backend the checks run on (default `cpu`; the backend package must be imported). */
  backend?: string;
  /** How many repeated calls the leak checks make (default 3). */
  repeats?: number;

  // models
  /** What the model is created for (default: inputShape [5], outputSize 3, regression). */
  modelContext?: Partial<ModelCreateContext>;
  /** Batch size of the model checks (default 6). */
  batchSize?: number;
  /** A batch of inputs the model accepts (default: standard normals of shape [B, ...inputShape]). */
  makeInput?: (batchSize: number, rng: Rng) => tf.Tensor;
  /** Loss of the gradient and HVP checks (default by output kind: mse, softmax- or binary-cross-entropy). */
  loss?: LossName;
  /** Largest median relative error between the HVP and finite differences (default 0.05). */
  hvpTolerance?: number;
  /** Finite-difference step along a unit direction (default 1e-3). */
  hvpEps?: number;

  // analyses
  /**
   * What the analysis runs on. Default: `toyRegressionTask` (seeded), `toyMlp` (tanh, 8 hidden)
   * with parameters briefly fitted by gradient descent. Any part can be replaced.
   */
  context?: {
    task?: TaskInstance;
    model?: ModelInstance;
    /** Owned by the caller; the checks do not dispose them. */
    params?: Params;
    previous?: Record<string, AnalysisResult>;
  };
}
