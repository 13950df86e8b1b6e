import type { HeadlineNumber } from './headline';
import type * as tf from '@tensorflow/tfjs-core';
import type { z } from 'zod';
import type { Json, LossName, Params, ParamSpec, Rng, Split, TrainStatus } from './types';

/** Version of the plugin contract. A plugin declares the version it was written against. */
export const API_VERSION = 1 as const;

export type PluginKind = 'task' | 'model' | 'analysis';

/** Where long work reports progress. The CLI renders a bar on stderr; tests pass a silent one. */
export interface Progress {
  /** Start (or restart) a unit of work of `total` steps. */
  start(label: string, total: number): void;
  /** Advance by `n` steps (default 1), optionally with values to show beside the bar. */
  tick(n?: number, info?: Record<string, number | string>): void;
  /** Finish the current unit of work. */
  stop(): void;
  /** A line of log text (to stderr in the CLI). */
  log(message: string): void;
}

interface PluginBase<K extends PluginKind, S extends z.ZodType> {
  kind: K;
  /** Short name, unique in a registry (kebab-case): `mlp`, `clt`, `hessian`. */
  name: string;
  /** The contract version the plugin was written against (`API_VERSION`). */
  apiVersion: number;
  /** One line shown by `goldstone list` and `--help`. */
  description?: string;
  /** Schema of the plugin's options. Validated before anything runs; defaults come from it. */
  options: S;
}

// ---------------------------------------------------------------------------------------------
// Preflight: checks a host runs before anything is built, written or deleted (all optional)

/**
 * What building a task or a model from given options would take, estimated without building it
 * (returned by the optional `estimate` hooks). The host compares it with the machine's memory and
 * the engine's array limits and refuses an impossible size with a message naming `field`.
 */
export interface SizeEstimate {
  /** Bytes `create` would allocate (host arrays and tensors), roughly: within a factor of two. */
  bytes: number;
  /** Of `bytes`, those in plain JavaScript objects (arrays of numbers, strings, sets): the engine's heap is smaller than the machine. */
  heapBytes?: number;
  /** Elements of the largest single typed array `create` would allocate (an engine caps one array at about 2³²). */
  largestArray?: number;
  /** Models: the number of parameters the model would have, from which the host estimates the memory training takes. */
  params?: number;
  /**
   * Models: values one example produces in a forward pass (the outputs of every layer), when the
   * widths of the weight matrices undercount them (a graph network's layers act on every node).
   */
  activations?: number;
  /** The option that sets the size, as a path inside the plugin's options (`trainSize`, `hidden`), named in messages. */
  field?: string;
  /** What is that big, for messages (`2 splits of 1000000 examples × 17 values`). */
  what?: string;
}

/** A problem with a plugin's options found by a `check` hook: `field` is a path inside the options (`split`, `params[1]`). */
export interface OptionIssue {
  field: string;
  /** What was expected and what was found, listing what exists (`the task has no split "ood" (it has: train, test)`). */
  message: string;
}

/** The training settings of the experiment, as far as checks need them. */
export interface TrainPlan {
  epochs: number;
  batchSize: number;
  optimizer: string;
  /** The base learning rate (`train.lr`), where the experiment sets one. */
  lr?: number;
}

/** What an analysis' `check` hook sees: the built task and model (no parameters yet), the training settings, the memory limit. */
export interface AnalysisCheckContext {
  task: TaskInstance;
  model: ModelInstance;
  train: TrainPlan;
  /** Bytes the host allows one run to use (the machine's share, or the user's limit). */
  memoryLimit: number;
}

// ---------------------------------------------------------------------------------------------
// Tasks

export type OutputKind = 'classification' | 'binary' | 'regression';

/** A graph on `nodes` nodes as directed edge lists (an undirected edge appears in both directions). */
export interface GraphData {
  nodes: number;
  senders: Int32Array;
  receivers: Int32Array;
  /** What the graph is (`lattice-1d`, `complete`, `edges`, …), for records. */
  kind: string;
  /** Side length of a square lattice, where that applies. */
  side?: number;
}

/** A group acting on inputs, declared by a task (used by soft-symmetry penalties and robustness). */
export interface InputSymmetry {
  name: string;
  /** Apply a random group element to a batch of inputs (a new tensor). */
  sample(x: tf.Tensor, rng: Rng): tf.Tensor;
  /** The infinitesimal generator applied to inputs, G·x, where one exists. */
  generator?(x: tf.Tensor): tf.Tensor;
}

/**
 * A perturbation of inputs that only the task knows how to make (adding soft particles to a jet),
 * offered to analyses such as robustness by name.
 */
export interface InputPerturbation {
  /** Short name, unique among the task's perturbations (kebab-case): `soft-particles`. */
  name: string;
  /** One line: what the perturbation does and what `strength` means. */
  description?: string;
  /** The largest `strength` that makes sense (a fraction, a count), for default sweeps. */
  maxStrength?: number;
  /**
   * A perturbed copy of a batch of inputs at `strength` ≥ 0 (0: unchanged), as a new tensor; it
   * keeps the task's input conventions (padding stays padding unless the perturbation fills it).
   */
  apply(x: tf.Tensor, strength: number, rng: Rng): tf.Tensor;
}

export interface TaskInstance {
  /** Shape of one input example (without the batch dimension). */
  inputShape: number[];
  /** Width of the model's output. */
  outputSize: number;
  outputKind: OutputKind;
  /** Loss the trainer minimises (second-order safe, from core's losses). */
  loss: LossName;
  /** `train` and `test` always; further named out-of-distribution splits optional. */
  splits: { train: Split; test: Split } & Record<string, Split>;
  /** Metrics of predictions against targets, as plain numbers (loss included by the trainer). */
  metrics(pred: tf.Tensor, y: tf.Tensor): Record<string, number>;
  /** Exact or approximate input symmetries the task knows of. */
  symmetries?: InputSymmetry[];
  /** Anything the task wants recorded in run.json (e.g. generator settings, exact answers). */
  info?: Record<string, Json>;
  /** The graph the inputs live on, where the task has one (graph networks use it). */
  graph?: GraphData;
  /**
   * Where inputs are padding, for tasks with padded inputs (sets of particles): a new tensor of
   * x's shape, 1 where a value is real and 0 where it is padding. Perturbations (noise, attacks,
   * smearing) multiply their change by it, so that they never turn padding into particles.
   */
  inputMask?(x: tf.Tensor): tf.Tensor;
  /** Perturbations of inputs only the task knows how to make (robustness runs them by name). */
  perturbations?: InputPerturbation[];
}

export interface TaskCreateContext {
  rng: Rng;
}

export interface TaskPlugin<S extends z.ZodType = z.ZodType> extends PluginBase<'task', S> {
  create(options: z.output<S>, ctx: TaskCreateContext): TaskInstance | Promise<TaskInstance>;
  /**
   * Optional: what `create` would allocate with these options, computed from the options alone
   * (cheap, no data drawn). Called before `create`, so that an impossible size is an error naming
   * the field instead of an out-of-memory crash.
   */
  estimate?(options: z.output<S>): SizeEstimate;
}

// ---------------------------------------------------------------------------------------------
// Models

/**
 * The parameter-space direction that realises a linear map G of the inputs (an input symmetry's
 * generator): v with f(θ + εv, x) = f(θ, x + εGx) + O(ε²) for every x, or why the model has none.
 */
export type GeneratorDirection =
  | {
      /** The direction in flat-parameter space (length paramCount; not normalised). */
      direction: Float32Array;
      /** The parameters it moves, e.g. `layer0.weight` (the first layer, acted on by G). */
      params: string[];
    }
  | { unsupported: string };

/** A continuous parameter symmetry the model knows of, as tangent directions at given params. */
export interface ParamSymmetry {
  name: string;
  /** Tangent directions in flat-parameter space (each of length paramCount). */
  directions: tf.Tensor1D[];
}

export interface ModelInstance {
  /** The parameter layout, in flattening order. */
  specs: ParamSpec[];
  /** Total number of scalar parameters. */
  paramCount: number;
  /** Fresh parameters drawn from the model's initialisation. */
  init(rng: Rng): Params;
  /** The model as a pure function of its parameters: batch of inputs → batch of outputs. */
  apply(params: Params, x: tf.Tensor): tf.Tensor;
  /** Parameter groups (name → parameter names) for per-group learning rates and weight decay. */
  groups?: Record<string, string[]>;
  /** Known continuous parameter symmetries at `params`. */
  symmetries?(params: Params): ParamSymmetry[];
  /** Anything the model wants recorded (e.g. its parameter-count formula). */
  info?: Record<string, Json>;
  /**
   * For a model whose first layer is linear in the inputs: the direction in parameter space that
   * realises the linear input map `generator` at `params` (rotating the inputs = transforming the
   * first-layer weights). `generator` is the D×D matrix of G on one flattened example, row-major
   * ((Gx)ᵢ = Σⱼ G[i·D + j]·xⱼ, D = the product of inputShape). Models that cannot realise G (their
   * first layer is not linear in the inputs, or G does not act on elements alike) say why.
   */
  generatorDirection?(params: Params, generator: Float32Array): GeneratorDirection;
  /**
   * Optional: the model on R independent parameter replicas at once (vectorised seeds, block
   * curvature products). Every parameter carries a leading replica axis (`[R, ...spec.shape]`) and
   * `x` is `[R, B, ...inputShape]` (replica r sees `x[r]`); returns `[R, B, ...outputShape]`, equal to
   * `apply(params[r], x[r])` for each r to float32 round-off. Differentiable like `apply`.
   */
  applyReplicas?(params: Params, x: tf.Tensor): tf.Tensor;
  /**
   * Optional: a faster `apply` for first-order parameter gradients only (training steps), e.g.
   * with fused kernels whose custom gradients are wrong at second order and do not reach `x`.
   * Equal to `apply` to float32 round-off. Curvature and input-gradient code must use `apply`.
   */
  applyFirstOrder?(params: Params, x: tf.Tensor): tf.Tensor;
  /**
   * Optional: curvature-matrix products for a block of k vectors in one pass (analytic
   * R-operator rules for the layers the model owns). `vectors` is `[k, paramCount]` (one flat
   * direction per row, in `specs` order); returns `[k, paramCount]`, row j the Hessian (`kind:
   * 'hessian'`) or Gauss–Newton matrix (`'ggn'`) of the mean `loss` over (x, y) at `params` times
   * row j, equal to the double-backprop product to float32 round-off. Returns null when it has
   * no rule for this configuration (the caller then uses double backprop).
   */
  curvatureProducts?(request: CurvatureProductRequest): tf.Tensor2D | null;
}

/** What `ModelInstance.curvatureProducts` is asked for. */
export interface CurvatureProductRequest {
  params: Params;
  x: tf.Tensor;
  y: tf.Tensor;
  loss: LossName;
  kind: 'hessian' | 'ggn';
  /** `[k, paramCount]`: one flat direction per row. */
  vectors: tf.Tensor2D;
}

export interface ModelCreateContext {
  inputShape: number[];
  outputSize: number;
  outputKind: OutputKind;
  /** The task's graph, when it declares one. */
  graph?: GraphData;
}

export interface ModelPlugin<S extends z.ZodType = z.ZodType> extends PluginBase<'model', S> {
  create(options: z.output<S>, ctx: ModelCreateContext): ModelInstance;
  /**
   * Optional: rules between the options and the task's shapes (`block` divides the input sites,
   * the graph has as many nodes as the inputs). Called before `estimate` and `create`; return the
   * problems found (none: an empty array or nothing). Rules between options alone belong in the
   * schema (a `superRefine` with a path).
   */
  check?(options: z.output<S>, ctx: ModelCreateContext): OptionIssue[] | void;
  /**
   * Optional: the parameters the model would have and what `create` itself would allocate (a
   * graph's edge lists), from the options and the task's shapes. Called before `create`; the
   * host estimates training memory from `params`. Assumes `check` found nothing.
   */
  estimate?(options: z.output<S>, ctx: ModelCreateContext): SizeEstimate;
}

// ---------------------------------------------------------------------------------------------
// Training hooks

/**
 * Callbacks into training. The `params` they receive are owned by the trainer and are disposed by
 * the next step: a hook must copy (`cloneParams`, `paramsToArray`) whatever it keeps.
 * `step` counts the updates done so far (1 after the first); `epoch` in `onStep` is the 0-based
 * epoch the step belongs to, in `onEpochEnd` the number of epochs completed.
 */
export interface TrainHooks {
  onStart?(info: { params: Params; model: ModelInstance; task: TaskInstance }): void | Promise<void>;
  onStep?(info: { step: number; epoch: number; params: Params; loss: number }): void | Promise<void>;
  onEpochEnd?(info: { epoch: number; step: number; params: Params; metrics: Record<string, number> }): void | Promise<void>;
  onEnd?(info: { params: Params; status: TrainStatus }): void | Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Analyses

/**
 * What an analysis may see of the run directory it runs in: the run's record, its logged metrics
 * and checkpoints, earlier analysis results, and files of its own. The run store implements it.
 */
export interface AnalysisStore {
  /** The run directory (absolute). */
  readonly dir: string;
  /** An absolute path inside the run directory (refuses paths that leave it). */
  path(...rel: string[]): string;
  /** run.json as written so far. */
  readRun(): Promise<Record<string, Json>>;
  /** metrics.jsonl rows in order. */
  readMetrics(): Promise<Record<string, Json>[]>;
  /** Checkpoint tags in training order (`init`, `epoch-…`, `last`). */
  listCheckpoints(): Promise<string[]>;
  /** Analysis results already stored (file name without `.json` → result). */
  readAnalyses(): Promise<Record<string, AnalysisResult>>;
  /** Write a JSON or text file of the analysis' own inside the run directory, atomically. */
  writeJson(rel: string, value: unknown): Promise<void>;
  writeText(rel: string, text: string): Promise<void>;
}

/** A figure: a Vega-Lite spec (inline data) with a name and a title. */
export interface Figure {
  name: string;
  title: string;
  spec: Record<string, unknown>;
}

/** Where a number came from. Every analysis result carries one. */
export interface Provenance {
  analysis: string;
  version?: string;
  seed: number;
  backend: string;
  /** Estimators and their settings, Hessian-vector products used, standard errors, … */
  [key: string]: Json | undefined;
}

export interface AnalysisResult {
  result: Json;
  /**
   * The numbers to read first, each with its error bar (see HeadlineNumber), in the order they
   * matter: at most ~6. Shown by the end-of-run summary, `goldstone compare` and the report's
   * headline card. A headline that breaks the contract (`headlineIssues`) is dropped by the
   * runner with a warning, and the testkit fails on it.
   */
  headline?: HeadlineNumber[];
  figures?: Figure[];
  provenance: Provenance;
}

/**
 * The objective that was trained: the data loss plus what training added to it (a symmetry
 * penalty at its final λ, weight decay as (wd/2)‖θ‖²). Deterministic in (params, x, y): a sampled
 * penalty draws the same group elements on every call, so curvature of it is well defined.
 */
export interface TrainedObjective {
  /** Data loss + penalty + weight decay, mean over the examples given; differentiable to second order. */
  total(params: Params, x: tf.Tensor, y: tf.Tensor): tf.Scalar;
  /** Whether `total` adds anything to the data loss. */
  penalised: boolean;
  /** The terms of `total` and their settings, for provenance (`{ data: 'mse', symmetryPenalty: {…} }`). */
  terms: Record<string, Json>;
}

export interface AnalysisContext {
  task: TaskInstance;
  model: ModelInstance;
  /** The trained parameters (owned by the caller: do not dispose). */
  params: Params;
  /** Mean loss of the model on a split (or on given tensors), as a scalar tensor; differentiable. */
  loss(params: Params, x: tf.Tensor, y: tf.Tensor): tf.Scalar;
  /** The full objective that was trained (equal to `loss` when training added nothing to it). */
  objective: TrainedObjective;
  rng: Rng;
  seed: number;
  backend: string;
  /** The run directory the analysis runs in, where there is one (`goldstone run`, `analyze`). */
  store?: AnalysisStore;
  progress: Progress;
  /** Results of analyses that ran before this one in the same run (name → result). */
  previous: Record<string, AnalysisResult>;
}

export interface SummaryInput {
  /** The run's identity (e.g. its directory name) and the sweep settings that made it. */
  run: string;
  settings: Record<string, Json>;
  /** The part of a sweep with `parts` the run belongs to (its name), when the sweep has parts. */
  part?: string;
  result: AnalysisResult;
}

/**
 * A claim a summary tested, with its verdict: a summary's `result.claims` rows, which the sweep
 * report states first. `x` and `y` name what was compared, `expect` what would reproduce it,
 * `reason` the numbers behind the verdict.
 */
export interface SummaryClaim {
  claim: string;
  x?: string;
  y?: string;
  expect?: string;
  verdict: 'reproduced' | 'partly' | 'not reproduced' | 'contradicted' | 'not measured';
  reason: string;
}

export interface AnalysisPlugin<S extends z.ZodType = z.ZodType> extends PluginBase<'analysis', S> {
  run(ctx: AnalysisContext, options: z.output<S>): Promise<AnalysisResult>;
  /** Hooks into training (e.g. record a trajectory), set up before training starts. */
  trainHooks?(options: z.output<S>, ctx: { model: ModelInstance; task: TaskInstance; rng: Rng; train?: TrainPlan }): TrainHooks;
  /** A summary over many runs' results (a fit across seeds, a phase diagram, a correlation table). */
  summarize?(results: SummaryInput[], options: z.output<S>): { result: Json; figures?: Figure[] };
  /**
   * Optional: check the options against the experiment before training starts (parameter and
   * split names, a window longer than the training, a dense matrix too big for memory), so that a
   * mistake is reported before anything is written instead of after training. Return the
   * problems found (none: an empty array or nothing).
   */
  check?(options: z.output<S>, ctx: AnalysisCheckContext): OptionIssue[] | void;
}

export type Plugin = TaskPlugin<any> | ModelPlugin<any> | AnalysisPlugin<any>;

// ---------------------------------------------------------------------------------------------
// Identity helpers: they only fix the types, so a plugin is a plain object.

export function defineTask<S extends z.ZodType>(plugin: Omit<TaskPlugin<S>, 'kind'> & { kind?: 'task' }): TaskPlugin<S> {
  return { ...plugin, kind: 'task' };
}

export function defineModel<S extends z.ZodType>(plugin: Omit<ModelPlugin<S>, 'kind'> & { kind?: 'model' }): ModelPlugin<S> {
  return { ...plugin, kind: 'model' };
}

export function defineAnalysis<S extends z.ZodType>(
  plugin: Omit<AnalysisPlugin<S>, 'kind'> & { kind?: 'analysis' },
): AnalysisPlugin<S> {
  return { ...plugin, kind: 'analysis' };
}
