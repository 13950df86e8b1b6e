import * as tf from '@tensorflow/tfjs-core';
import { Rng, countParams, disposeParams, flatLoss, flattenParams, gradientOf, hvp, hvpFiniteDifference, paramsToArray, sizeOf } from '@goldstone/core';
import type { LossName, ModelCreateContext, ModelInstance, ModelPlugin, OutputKind } from '@goldstone/plugin-api';
import type { Check, TestPluginOptions } from './check';
import { checkEstimateShape, checkIssuesShape, fail, parsedOptions } from './check-common';
import { expectNoLeaks } from './leaks';

const DEFAULT_LOSS: Record<OutputKind, LossName> = {
  regression: 'mse',
  classification: 'softmax-cross-entropy',
  binary: 'binary-cross-entropy',
};

/** Targets that suit the output kind: normals, one-hot rows, or 0/1. */
function targets(kind: OutputKind, batch: number, size: number, rng: Rng): tf.Tensor {
  const y = new Float32Array(batch * size);
  for (let r = 0; r < batch; r++) {
    if (kind === 'regression') for (let j = 0; j < size; j++) y[r * size + j] = rng.normal();
    else if (kind === 'classification') y[r * size + rng.int(size)] = 1;
    else for (let j = 0; j < size; j++) y[r * size + j] = rng.int(2);
  }
  return tf.tensor2d(y, [batch, size]);
}

function norm(t: tf.Tensor): number {
  return tf.tidy(() => tf.norm(t).dataSync()[0]);
}

export function modelChecks(plugin: ModelPlugin, opts: TestPluginOptions): Check[] {
  const seed = opts.seed ?? 1;
  const repeats = opts.repeats ?? 3;
  const batch = opts.batchSize ?? 6;
  const ctx: ModelCreateContext = {
    inputShape: opts.modelContext?.inputShape ?? [5],
    outputSize: opts.modelContext?.outputSize ?? 3,
    outputKind: opts.modelContext?.outputKind ?? 'regression',
  };
  const loss = opts.loss ?? DEFAULT_LOSS[ctx.outputKind];
  const create = (): ModelInstance => plugin.create(parsedOptions(plugin, opts) as never, ctx);
  const input = (rng: Rng): tf.Tensor =>
    opts.makeInput
      ? opts.makeInput(batch, rng)
      : tf.tensor(rng.normalArray(batch * sizeOf(ctx.inputShape)), [batch, ...ctx.inputShape], 'float32');

  /** Run `body` with a model, its seeded parameters, a batch and targets; dispose them after. */
  async function withSetup(body: (s: { model: ModelInstance; params: ReturnType<ModelInstance['init']>; x: tf.Tensor; y: tf.Tensor }) => Promise<void> | void) {
    const model = create();
    const rng = new Rng(seed);
    const params = model.init(rng.split('testkit:init'));
    const x = input(rng.split('testkit:x'));
    const y = targets(ctx.outputKind, batch, ctx.outputSize, rng.split('testkit:y'));
    try {
      await body({ model, params, x, y });
    } finally {
      disposeParams(params);
      tf.dispose([x, y]);
    }
  }

  return [
    {
      name: 'check (if declared) accepts the options it is created with, and estimate (if declared) counts the parameters create gives',
      async run() {
        const options = parsedOptions(plugin, opts);
        if (plugin.check) {
          const issues = checkIssuesShape(plugin.check(options as never, ctx));
          if (issues.length) fail(`check rejected options that create accepts: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
        }
        if (plugin.estimate) {
          const est = plugin.estimate(options as never, ctx);
          checkEstimateShape(est, options);
          const model = create();
          if (est.params !== undefined && est.params !== model.paramCount) fail(`estimate says ${est.params} parameters, create gives ${model.paramCount}`);
        }
      },
    },
    {
      name: 'paramCount equals countParams(specs) and init gives exactly the specs',
      async run() {
        const model = create();
        const names = model.specs.map((s) => s.name);
        if (new Set(names).size !== names.length) fail(`duplicate parameter names in specs: ${names.join(', ')}`);
        if (model.paramCount !== countParams(model.specs)) fail(`paramCount ${model.paramCount} ≠ countParams(specs) = ${countParams(model.specs)}`);
        const params = model.init(new Rng(seed));
        try {
          const keys = Object.keys(params).sort();
          if (JSON.stringify(keys) !== JSON.stringify([...names].sort())) fail(`init gave parameters [${keys}], specs name [${names}]`);
          for (const s of model.specs) {
            if (params[s.name].shape.join() !== s.shape.join()) fail(`parameter "${s.name}" has shape [${params[s.name].shape}], spec says [${s.shape}]`);
          }
          const values = paramsToArray(params, model.specs);
          if (!values.every(Number.isFinite)) fail('init gave non-finite parameters');
        } finally {
          disposeParams(params);
        }
      },
    },
    {
      name: 'init is deterministic per seed and differs across seeds',
      async run() {
        const model = create();
        const draw = (s: number): Float32Array => {
          const p = model.init(new Rng(s));
          const a = paramsToArray(p, model.specs);
          disposeParams(p);
          return a;
        };
        const a = draw(seed);
        const b = draw(seed);
        if (!a.every((v, i) => Object.is(v, b[i]))) fail(`two inits with seed ${seed} differ`);
        if (a.length > 0) {
          const c = draw(seed + 1);
          if (a.every((v, i) => v === c[i])) fail(`seeds ${seed} and ${seed + 1} gave the same parameters`);
        }
        await expectNoLeaks(() => disposeParams(model.init(new Rng(seed))), repeats);
      },
    },
    {
      name: `apply maps a batch to [B, outputSize], is pure and leaks no tensors`,
      async run() {
        await withSetup(async ({ model, params, x }) => {
          const before = paramsToArray(params, model.specs);
          const a = model.apply(params, x);
          const b = model.apply(params, x);
          const shape = a.shape.join();
          const av = a.dataSync();
          const bv = b.dataSync();
          const pure = av.every((v, i) => Object.is(v, bv[i]));
          const finite = av.every(Number.isFinite);
          tf.dispose([a, b]);
          if (shape !== [batch, ctx.outputSize].join()) fail(`apply gave shape [${shape}], expected [${batch}, ${ctx.outputSize}]`);
          if (!pure) fail('apply gave different outputs for the same params and inputs');
          if (!finite) fail('apply gave non-finite outputs');
          const after = paramsToArray(params, model.specs);
          if (!before.every((v, i) => Object.is(v, after[i]))) fail('apply changed its parameters');
          await expectNoLeaks(() => model.apply(params, x), repeats);
        });
      },
    },
    {
      name: `the ${loss} loss has a finite gradient and a Hessian-vector product that matches finite differences`,
      async run() {
        await withSetup(async ({ model, params, x, y }) => {
          const f = flatLoss(model, loss, x, y);
          const w = flattenParams(params, model.specs);
          const tol = opts.hvpTolerance ?? 0.05;
          const eps = opts.hvpEps ?? 1e-3;
          try {
            const g = gradientOf(f, w);
            const gv = g.dataSync();
            const finite = gv.every(Number.isFinite);
            g.dispose();
            if (!finite) fail('the gradient has non-finite entries');
            // Three random unit directions; the median error must be small (one may cross a kink).
            const errors: number[] = [];
            const vrng = new Rng(seed).split('testkit:hvp');
            for (let k = 0; k < 3; k++) {
              const v = tf.tidy(() => {
                const r = tf.tensor1d(vrng.normalArray(w.size));
                return tf.div(r, tf.norm(r)) as tf.Tensor1D;
              });
              const exact = hvp(f, w, v);
              const fd = hvpFiniteDifference(f, w, v, eps);
              const diff = tf.sub(exact, fd);
              const scale = Math.max(norm(fd), norm(exact), 1e-6);
              if (!exact.dataSync().every(Number.isFinite)) fail('the Hessian-vector product has non-finite entries');
              errors.push(norm(diff) / scale);
              tf.dispose([v, exact, fd, diff]);
            }
            errors.sort((a, b) => a - b);
            if (!(errors[1] <= tol)) {
              fail(
                `HVP and central differences (ε = ${eps}) disagree: median relative error ${errors[1].toExponential(2)} > ${tol} ` +
                  `(errors ${errors.map((e) => e.toExponential(2)).join(', ')}); ops that are wrong at second order in tfjs ` +
                  "(tf.tanh, tf.sigmoid, tf.exp, tf.softmax, tf.losses.*, tf.customGrad saving tensors) should come from @goldstone/core",
              );
            }
            await expectNoLeaks(() => {
              const v = tf.onesLike(w);
              const h = hvp(f, w, v);
              tf.dispose([v, h]);
            }, repeats);
          } finally {
            w.dispose();
          }
        });
      },
    },
  ];
}
