import * as tf from '@tensorflow/tfjs-core';
import { backendInfo, createAnalysisContext, disposeParams, parameterFingerprint } from '@goldstone/core';
import { headlineIssues, messageOf, silentProgress, UsageError, type Params, type AnalysisPlugin, type AnalysisResult, type Json, type ModelInstance, type Progress, type TaskInstance, type OptimizerStateEntry, type Registry, type TrainHooks, type TrainedObjective, type Rng } from '@goldstone/plugin-api';
import { experimentToJson, parseOrThrow, setPath } from './experiment';
import { resolveExperiment, type ResolvedExperiment } from './resolve';
import type { RunStore } from '@goldstone/run-store';
import { createSymmetryPenalty, train, trainedObjective, type OptimizerConfig, type TrainOptions, type TrainResult } from '@goldstone/trainer';
import { loadResumePoint, resumeConflicts, specMismatches } from './resume';
import { checkAnalysisOptions, prepareExperiment, type PreparedExperiment } from './preflight';
import { CHECKPOINTS_DIR, RUN_FILE } from '@goldstone/run-store/format';
import type { ParametersUsed } from './parameters';
import { gitProvenance } from './git-provenance';


/** Build the task and the model of a resolved experiment (deterministic in the experiment's seed), checked. */
export async function instantiate(resolved: ResolvedExperiment): Promise<PreparedExperiment> {
  return prepareExperiment(resolved);
}

/** Run one analysis and store its result as `analyses/<id>.json` (id: the plugin's name unless given). */
export async function runAnalysis(opts: {
  /** The result id (default: the plugin's name). */
  id?: string;
  plugin: AnalysisPlugin;
  options: unknown;
  task: TaskInstance;
  model: ModelInstance;
  params: Params;
  seed: number;
  backend: string;
  store?: RunStore;
  progress?: Progress;
  previous?: Record<string, AnalysisResult>;
  /** The objective that was trained (default: the data loss alone). */
  objective?: TrainedObjective;
  /** Which parameters these are (stamped, with their fingerprint, as `provenance.parameters`). */
  parameters?: ParametersUsed;
  /** Where the options came from (stamped as `provenance.optionSources`). */
  optionSources?: OptionSources;
}): Promise<AnalysisResult> {
  const ctx = createAnalysisContext({ ...opts, analysis: opts.id ?? opts.plugin.name });
  const before = tf.memory().numTensors;
  const result = await opts.plugin.run(ctx, opts.options);
  const leaked = tf.memory().numTensors - before;
  if (leaked > 0) ctx.progress.log(`warning: analysis "${opts.plugin.name}" left ${leaked} tensor(s) undisposed`);
  const stored: AnalysisResult = JSON.parse(JSON.stringify(result));
  // a headline that breaks the contract is a plugin bug: the result is kept (it may have cost an
  // hour), without the headline, and the problems are named
  if (stored.headline !== undefined) {
    const issues = headlineIssues(stored.headline);
    if (issues.length) {
      ctx.progress.log(`warning: analysis "${opts.plugin.name}" declared a headline that breaks the contract, so it is not stored: ${issues.slice(0, 3).join('; ')}${issues.length > 3 ? ` (and ${issues.length - 3} more)` : ''}`);
      delete stored.headline;
    }
  }
  // what the numbers were measured at: an analysis that reuses an earlier result compares this
  stored.provenance.parameters = { ...(opts.parameters ?? { source: 'given' }), fingerprint: parameterFingerprint(opts.params, opts.model.specs) };
  if (opts.optionSources) stored.provenance.optionSources = opts.optionSources as unknown as Json;
  if (opts.store) await opts.store.writeAnalysis(opts.id ?? opts.plugin.name, stored);
  return stored;
}

/** The objective an experiment trains (data loss + symmetry penalty + weight decay), for analyses. */
export function experimentObjective(resolved: ResolvedExperiment, task: TaskInstance, model: ModelInstance, rng: Rng): TrainedObjective {
  const t = resolved.experiment.train;
  return trainedObjective({
    model,
    task,
    optimizer: t.optimizer,
    weightDecay: t.weightDecay,
    groupWeightDecay: t.groups ? Object.fromEntries(Object.entries(t.groups).map(([g, v]) => [g, v.weightDecay])) : undefined,
    symmetryPenalty: t.symmetryPenalty,
    epochs: t.epochs,
    rng: rng.split('objective'),
  });
}

/** The experiment as run: every plugin's options with their defaults filled in. */
export function resolvedConfig(resolved: ResolvedExperiment): Json {
  const exp = experimentToJson(resolved.experiment) as Record<string, any>;
  exp.task.options = resolved.task.options;
  exp.model.options = resolved.model.options;
  exp.analyses = resolved.analyses.map((a, i) => ({ ...exp.analyses[i], id: a.id, options: a.options }));
  return JSON.parse(JSON.stringify(exp)) as Json;
}

export interface RunOutcome {
  status: 'completed' | 'diverged' | 'failed';
  message?: string;
  final: Record<string, number>;
  analyses: Record<string, AnalysisResult>;
}

/**
 * Train the experiment's model on its task, writing metrics and checkpoints to the store, then run
 * its analyses. A diverged run keeps its last good checkpoint and is marked `diverged`; an analysis
 * that throws marks the run `failed`. Either way the outcome is returned (the CLI exits 1).
 */
export async function runExperiment(opts: {
  /** The experiment, prepared (built and checked) by `prepareExperiment`: how the CLI calls it, so that every check passes before the run directory is touched. */
  prepared?: PreparedExperiment;
  /** Or only resolved: it is prepared here (after the caller has created the store). */
  resolved?: ResolvedExperiment;
  store: RunStore;
  backend: string;
  packages?: Record<string, string>;
  progress?: Progress;
  skipAnalyses?: boolean;
  /**
   * Continue from the store's last good checkpoint (parameters, optimiser state, epoch), checked
   * against the experiment first: a checkpoint that cannot be read or does not fit is a UsageError,
   * raised before anything is written.
   */
  resume?: boolean;
  /**
   * What trains the model (default: `train` from @goldstone/trainer). `runExperimentGroup` passes
   * one that trains every run of a vectorised group at once and hands each run its own result.
   */
  train?: (options: TrainOptions) => Promise<TrainResult>;
  /**
   * Where to look for the git work tree whose commit and dirty flag run.json records as `git`
   * (default: the experiment file's directory, else the working directory). Outside a work tree,
   * or without git, the field is left out.
   */
  gitDir?: string;
}): Promise<RunOutcome> {
  const { store } = opts;
  if (!opts.prepared && !opts.resolved) throw new TypeError('runExperiment: pass prepared or resolved');
  const prepared = opts.prepared ?? (await prepareExperiment(opts.resolved!));
  const { resolved, task, model, rng } = prepared;
  const exp = resolved.experiment;
  const progress = opts.progress ?? silentProgress;
  const t = exp.train;
  const groups = prepared.groups;
  const optimizer: OptimizerConfig = {
    name: t.optimizer,
    lr: t.lr,
    momentum: t.momentum,
    nesterov: t.nesterov,
    beta1: t.beta1,
    beta2: t.beta2,
    eps: t.eps,
    weightDecay: t.weightDecay,
  };
  // Read and check everything a resume needs before the first write.
  const previousRun = opts.resume ? await store.readRun() : {};
  const config = resolvedConfig(resolved);
  const batchesPerEpoch = Math.ceil(task.splits.train.n / t.batchSize);
  if (opts.resume && previousRun.config !== undefined) {
    const hooked = opts.skipAnalyses ? [] : resolved.analyses.filter((a) => a.plugin.trainHooks).map((a) => a.id);
    const conflicts = resumeConflicts(previousRun.config, config, hooked);
    if (conflicts.length > 0) {
      throw new UsageError(
        // the first difference on the error line itself, the others below it
        `--resume: cannot resume ${store.dir}: the experiment differs from the run (${store.path(RUN_FILE)} config) in what it trains: ${conflicts[0]}` +
          `${conflicts.length > 1 ? `\n  and: ${conflicts.slice(1).join('\n  and: ')}` : ''}\n` +
          'only labels, the backend, plugin locations, train.epochs (without a cosine schedule), how often rows and checkpoints are written, and analyses without train hooks may change; start a new run (another --out) to change the rest',
        { file: store.path(RUN_FILE), field: 'config' },
      );
    }
  }
  const checkpoint = opts.resume
    ? await loadResumePoint(store, { model, modelName: exp.model.name, epochs: t.epochs, optimizer, groups: groups ?? [], batchesPerEpoch })
    : undefined;
  if (opts.resume) {
    progress.log(
      checkpoint
        ? `resuming ${store.dir} from checkpoint ${checkpoint.tag} (epoch ${checkpoint.epoch})`
        : `resuming ${store.dir}: no checkpoint was saved yet, so training starts from epoch 0`,
    );
    // Every check has passed: clear what a crash left, then drop the rows logged after the checkpoint.
    try {
      const cleaned = await store.cleanupTemporaries();
      if (cleaned.length > 0) progress.log(`removed what interrupted writes left: ${cleaned.join(', ')}`);
      const epoch = checkpoint?.epoch ?? 0;
      const step = checkpoint?.step ?? 0;
      const dropped = await store.truncateMetrics((row) =>
        row.kind === 'epoch' ? typeof row.epoch !== 'number' || row.epoch <= epoch : typeof row.step !== 'number' || row.step <= step,
      );
      if (dropped > 0) progress.log(`dropped ${dropped} metrics row(s) logged after the checkpoint (they are computed again)`);
    } catch (err) {
      if (checkpoint) disposeParams(checkpoint.params);
      throw err;
    }
  }
  const now = new Date().toISOString();
  const git = gitProvenance(opts.gitDir ?? prepared.file ?? process.cwd());
  await store.updateRun({
    name: exp.name ?? null,
    status: 'running',
    error: null,
    config,
    seed: exp.seed,
    backend: opts.backend,
    backendInfo: backendInfo() as unknown as Json,
    packages: opts.packages ?? {},
    model: { paramCount: model.paramCount, ...(model.info ?? {}) },
    task: { inputShape: task.inputShape, outputSize: task.outputSize, outputKind: task.outputKind, loss: task.loss, ...(task.info ?? {}) },
    ...(git ? { git: { ...git } } : {}),
    createdAt: (previousRun.createdAt as string | undefined) ?? now,
    ...(opts.resume ? { resumedAt: now } : {}),
  } as Record<string, Json>);

  const hooks: TrainHooks[] = [];
  if (!opts.skipAnalyses) {
    for (const a of resolved.analyses) {
      if (a.plugin.trainHooks) hooks.push(a.plugin.trainHooks(a.options, { model, task, rng: rng.split(`hooks:${a.id}`), train: { epochs: t.epochs, batchSize: t.batchSize, optimizer: t.optimizer, lr: t.lr } }));
    }
  }

  let params0: Params;
  let startEpoch = 0;
  let optimizerState: OptimizerStateEntry[] | undefined;
  if (checkpoint) {
    params0 = checkpoint.params;
    startEpoch = checkpoint.epoch;
    optimizerState = checkpoint.optimizerState;
  } else {
    params0 = model.init(rng.split('init'));
    // The initial parameters are the first good checkpoint: a run that diverges in its first epoch
    // keeps one (`last` points here until a later checkpoint exists).
    try {
      await store.saveCheckpoint('init', params0, model.specs, { epoch: 0, step: 0 });
    } catch (err) {
      disposeParams(params0);
      throw err;
    }
  }
  const symmetryPenalty = t.symmetryPenalty
    ? createSymmetryPenalty({
        model,
        task,
        config: t.symmetryPenalty,
        rng: rng.split('symmetry-penalty'),
        epochs: t.epochs,
        batchesPerEpoch,
        startEpoch,
      })
    : undefined;
  const trained = await (opts.train ?? train)({
    model,
    task,
    params: params0,
    startEpoch,
    optimizerState,
    rng: rng.split('train'),
    config: {
      optimizer,
      schedule: t.schedule,
      epochs: t.epochs,
      batchSize: t.batchSize,
      groups: groups ? Object.fromEntries(groups.map((g) => [g.name, { lr: g.lr, weightDecay: g.weightDecay }])) : undefined,
      evalEvery: t.evalEvery,
      logEvery: t.logEvery,
      checkpointEvery: t.checkpointEvery,
    },
    hooks: symmetryPenalty ? [...hooks, symmetryPenalty.hooks] : hooks,
    penalty: symmetryPenalty?.penalty,
    progress,
    onMetrics: (row) => store.appendMetrics(row),
    onCheckpoint: (params, info, state) => store.saveCheckpoint('last', params, model.specs, { ...info }, { optimizerState: state }),
  });

  try {
    if (trained.status === 'diverged') {
      const message = trained.message ?? 'training diverged (non-finite loss)';
      await store.updateRun({ status: 'diverged', error: message, finishedAt: new Date().toISOString(), summary: trained.final });
      return { status: 'diverged', message, final: trained.final, analyses: {} };
    }

    const analyses: Record<string, AnalysisResult> = {};
    const objective = experimentObjective(resolved, task, model, rng);
    if (!opts.skipAnalyses) {
      for (const a of resolved.analyses) {
        progress.log(`analysis ${a.id}…`);
        try {
          analyses[a.id] = await runAnalysis({
            id: a.id,
            plugin: a.plugin,
            options: a.options,
            task,
            model,
            params: trained.params,
            seed: exp.seed,
            backend: opts.backend,
            store,
            progress,
            previous: analyses,
            objective,
            parameters: { source: 'trained', epoch: trained.epochs, step: trained.steps },
          });
        } catch (err) {
          const message = `analysis "${a.id}" failed: ${messageOf(err)}`;
          await store.updateRun({ status: 'failed', error: message, finishedAt: new Date().toISOString(), summary: trained.final });
          return { status: 'failed', message, final: trained.final, analyses };
        }
      }
    }
    await store.updateRun({ status: 'completed', finishedAt: new Date().toISOString(), summary: trained.final });
    return { status: 'completed', final: trained.final, analyses };
  } finally {
    disposeParams(trained.params);
  }
}

/** Where the options of `analyzeStoredRun` came from (`provenance.optionSources`). */
export interface OptionSources {
  /** The entry of the run's experiment whose recorded options were the base (`run.json: config.analyses[1] (id "hessian")`), or null: the plugin's defaults. */
  recorded: string | null;
  /** Top-level options as the run recorded them (all of it, or, for one `--set` in part as `a.b`, the rest of it). */
  fromRun: string[];
  /** The `--set` paths (dotted, relative to the analysis' options), which win. */
  set: string[];
  /** Top-level options the plugin's defaults filled in (neither recorded nor set). */
  defaults: string[];
}

/**
 * The options an analysis of a stored run starts from: those the run recorded for it (its entry in
 * run.json's `config.analyses` whose id is `id`, else the one whose id is the analysis' name, else
 * the first of that name), with `set` applied on top, dotted key by dotted key (so `--set a.b=1`
 * changes only `a.b`); the plugin's defaults when the run's experiment did not have the analysis.
 */
export function storedAnalysisOptions(
  analyses: readonly { name: string; id?: string; options?: unknown }[],
  analysis: string,
  id: string,
  set: Record<string, unknown>,
  runFile: string,
): { options: Record<string, unknown>; sources: Omit<OptionSources, 'defaults'> } {
  const entries = analyses.map((a, i) => ({ a, i })).filter((e) => e.a.name === analysis);
  const chosen = entries.find((e) => (e.a.id ?? e.a.name) === id) ?? entries.find((e) => (e.a.id ?? e.a.name) === analysis) ?? entries[0];
  const recorded = chosen && isPlainObject(chosen.a.options) ? (JSON.parse(JSON.stringify(chosen.a.options)) as Record<string, unknown>) : {};
  const recordedKeys = Object.keys(recorded);
  const options = recorded;
  for (const [key, value] of Object.entries(set)) setPath(options, key, value, `--set ${key}`);
  const setKeys = Object.keys(set);
  return {
    options,
    sources: {
      recorded: chosen ? `${runFile}: config.analyses[${chosen.i}] (id ${JSON.stringify(chosen.a.id ?? chosen.a.name)})` : null,
      // an option set whole (`--set topK=3`) is no longer the run's; one set in part (`--set a.b=1`) still is, in part
      fromRun: recordedKeys.filter((k) => !setKeys.includes(k)),
      set: setKeys,
    },
  };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Rebuild a finished run's task, model and last good parameters, and run one analysis on them,
 * storing its result as `analyses/<id>.json` (id: the analysis' name unless given). The options
 * are those the run recorded for the analysis with `set` on top (`storedAnalysisOptions`); the
 * result's provenance says which came from where (`optionSources`) and which parameters were used
 * (`parameters`: the checkpoint, its epoch and step, and their fingerprint).
 */
export async function analyzeStoredRun(opts: {
  store: RunStore;
  registry: Registry;
  analysis: string;
  /** The result id (default: the analysis' name); letters, digits, ".", "_" and "-". */
  id?: string;
  /** `--set` overrides: dotted paths relative to the analysis' options (`maxExamples`, `a.b`), applied over the recorded options. */
  set?: Record<string, unknown>;
  backend: string;
  progress?: Progress;
}): Promise<AnalysisResult> {
  const run = (await opts.store.readRun()) as Record<string, any>;
  if (!run?.config) throw new UsageError(`${opts.store.path(RUN_FILE)}: no "config" field: is this a goldstone run directory?`);
  const { parseExperiment } = await import('./experiment');
  const exp = parseExperiment(run.config, { file: opts.store.path(RUN_FILE) });
  const resolved = resolveExperiment({ ...exp, analyses: [] }, opts.registry, opts.store.path(RUN_FILE));
  const plugin = (() => {
    try {
      return opts.registry.get('analysis', opts.analysis);
    } catch (err) {
      throw new UsageError(`--analysis: ${messageOf(err)}`, { field: 'analysis' });
    }
  })();
  if (plugin.trainHooks) {
    throw new UsageError(
      `--analysis ${opts.analysis}: this analysis records what it needs while the model trains (it has train hooks), so it cannot run on a finished run; list it under analyses: in the experiment and run it again`,
      { field: 'analysis' },
    );
  }
  const id = opts.id ?? opts.analysis;
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/.test(id) || id.endsWith('.json')) {
    throw new UsageError(`--id ${id}: expected a result id of letters, digits, ".", "_" and "-" (not ending in .json)`, { field: 'id' });
  }
  const base = storedAnalysisOptions(exp.analyses, opts.analysis, id, opts.set ?? {}, RUN_FILE);
  // problems are named at `--set` (`--set: hessian.split: …`), where a user changes them
  const options = parseOrThrow(plugin.options, base.options, { file: '--set', prefix: [opts.analysis] });
  const parsedKeys = isPlainObject(options) ? Object.keys(options) : [];
  const given = new Set([...base.sources.fromRun, ...base.sources.set.map((k) => k.split(/[.[]/)[0])]);
  const optionSources: OptionSources = { ...base.sources, defaults: parsedKeys.filter((k) => !given.has(k)) };
  opts.progress?.log(
    base.sources.recorded
      ? `${opts.analysis}: options as the run recorded them (${base.sources.recorded})${base.sources.set.length ? `, with --set ${base.sources.set.join(', ')}` : ''}`
      : `${opts.analysis}: not in the run's experiment: options are the plugin's defaults${base.sources.set.length ? `, with --set ${base.sources.set.join(', ')}` : ''}`,
  );
  const { task, model, rng } = await instantiate(resolved);
  checkAnalysisOptions(plugin, options, { task, model, train: exp.train }, { source: '--set', prefix: opts.analysis });
  let loaded;
  try {
    loaded = await opts.store.loadCheckpoint('last');
  } catch (err) {
    // a run directory without a readable checkpoint is bad input, as for --resume
    throw new UsageError(`${opts.store.path(CHECKPOINTS_DIR)}: no checkpoint to analyse (${messageOf(err)})`, { file: opts.store.path(CHECKPOINTS_DIR) });
  }
  try {
    const previous = await opts.store.readAnalyses();
    const mismatches = specMismatches(loaded.specs, model.specs);
    if (mismatches.length > 0) {
      throw new UsageError(`${opts.store.path(CHECKPOINTS_DIR)}: the last checkpoint does not fit the model "${exp.model.name}" run.json's config builds: ${mismatches.join('; ')}`, { file: opts.store.path(RUN_FILE) });
    }
    // every check has passed: clear what interrupted writes left before writing the result
    const cleaned = await opts.store.cleanupTemporaries();
    if (cleaned.length > 0) opts.progress?.log(`removed what interrupted writes left: ${cleaned.join(', ')}`);
    return await runAnalysis({
      id,
      plugin,
      options,
      task,
      model,
      params: loaded.params,
      seed: exp.seed,
      backend: opts.backend,
      store: opts.store,
      progress: opts.progress,
      previous,
      objective: experimentObjective(resolved, task, model, rng),
      parameters: { source: 'checkpoint last', ...checkpointPosition(loaded.meta) },
      optionSources,
    });
  } finally {
    disposeParams(loaded.params);
  }
}

/** The epoch and step a checkpoint's meta records (those that are numbers). */
function checkpointPosition(meta: Json): { epoch?: number; step?: number } {
  const m = isPlainObject(meta) ? meta : {};
  return {
    ...(typeof m.epoch === 'number' ? { epoch: m.epoch } : {}),
    ...(typeof m.step === 'number' ? { step: m.step } : {}),
  };
}
