import * as tf from '@tensorflow/tfjs-core';
import { sizeOf } from '@goldstone/core';
import type { OptimizerStateEntry, Params, ParamSpec } from '@goldstone/plugin-api';
import { fusedUpdate, fusedUpdateAvailable, type FusedRule, type FusedSlot } from './fused-update';

export type OptimizerName = 'sgd' | 'adam' | 'adamw';

export interface OptimizerConfig {
  name: OptimizerName;
  /** Base learning rate (multiplied by the schedule's factor at each step). */
  lr: number;
  /** Heavy-ball momentum for `sgd` (default 0, plain SGD). */
  momentum?: number;
  /** Nesterov momentum for `sgd` (needs `momentum > 0`; default false). */
  nesterov?: boolean;
  /** Adam's first-moment decay (default 0.9). */
  beta1?: number;
  /** Adam's second-moment decay (default 0.999). */
  beta2?: number;
  /** Adam's denominator guard (default 1e-8). */
  eps?: number;
  /**
   * Weight decay (default 0). For `sgd` and `adam` an L2 term `weightDecay·p` added to the gradient;
   * for `adamw` decoupled: `p ← p·(1 − lr·weightDecay)` before the Adam update.
   */
  weightDecay?: number;
}

/** A named set of parameters with its own base learning rate and/or weight decay. */
export interface ParamGroup {
  name: string;
  /** Parameter names (as in the model's specs). A parameter may belong to at most one group. */
  params: string[];
  /** Absolute base learning rate of the group (replaces `config.lr`; still scaled by the schedule). */
  lr?: number;
  /** Weight decay of the group (replaces `config.weightDecay`). */
  weightDecay?: number;
}


export interface Optimizer {
  /** The configuration with every default filled in. */
  readonly config: Readonly<Required<OptimizerConfig>>;
  /** Number of updates taken so far (restored by `setState`). */
  readonly steps: number;
  /**
   * One update. Returns *new* parameter tensors, disposes the tensors of `params` and every
   * intermediate; `grads` stay owned by the caller. `lrScale` multiplies every group's base lr.
   */
  step(params: Params, grads: Params, lrScale?: number): Params;
  /** Base learning rate of a parameter (its group's, or `config.lr`). */
  lrOf(param: string): number;
  /** Host copies of the optimiser's state (moments, momentum buffers, step count). */
  getState(): OptimizerStateEntry[];
  /** Restore state from `getState()` output (validated against the parameter specs). */
  setState(state: readonly OptimizerStateEntry[]): void;
  /** Free the state tensors. */
  dispose(): void;
}

interface Slot {
  spec: ParamSpec;
  lr: number;
  /** Per-replica base learning rates (replicas only, for parameters without a group lr). */
  replicaLr?: readonly number[];
  weightDecay: number;
}

/**
 * Optimising R independent replicas of the parameters at once (vectorised seeds): every
 * parameter, gradient and state tensor carries a leading replica axis (`[R, ...spec.shape]`), and
 * replica r takes exactly the update a lone optimiser would give it.
 */
export interface ReplicaOptions {
  /** Number of replicas R (≥ 1). */
  replicas: number;
  /** Each replica's base learning rate (length R), instead of `config.lr` (a group's own lr still wins). */
  lr?: readonly number[];
}

/** How the update is computed (results are bit-identical either way). */
export interface OptimizerImplOptions {
  /**
   * Update the small parameter tensors in one fused kernel call on the cpu and wasm backends
   * (default true); false runs the per-tensor chain of tfjs ops for all (always used on other
   * backends).
   */
  fused?: boolean;
  /**
   * Largest tensor (elements, replicas included) the fused kernel updates; larger ones take the op
   * chain, whose vectorised wasm kernels beat the kernel's scalar loop once a tensor's arithmetic
   * outweighs the ops' dispatch. Default 4096 (adam, adamw, sgd with momentum), 2048 (plain sgd).
   */
  fusedMaxElements?: number;
}

const STEP_KEY = 'step';

function fillDefaults(config: OptimizerConfig): Required<OptimizerConfig> {
  const c: Required<OptimizerConfig> = {
    name: config.name,
    lr: config.lr,
    momentum: config.momentum ?? 0,
    nesterov: config.nesterov ?? false,
    beta1: config.beta1 ?? 0.9,
    beta2: config.beta2 ?? 0.999,
    eps: config.eps ?? 1e-8,
    weightDecay: config.weightDecay ?? 0,
  };
  if (!['sgd', 'adam', 'adamw'].includes(c.name)) {
    throw new Error(`optimizer.name: expected 'sgd', 'adam' or 'adamw', got ${JSON.stringify(c.name)}`);
  }
  if (!(Number.isFinite(c.lr) && c.lr >= 0)) throw new RangeError(`optimizer.lr: expected a number ≥ 0, got ${c.lr}`);
  if (!(c.momentum >= 0 && c.momentum < 1)) throw new RangeError(`optimizer.momentum: expected [0, 1), got ${c.momentum}`);
  if (c.nesterov && c.momentum === 0) throw new RangeError('optimizer.nesterov: needs momentum > 0');
  if (!(c.beta1 >= 0 && c.beta1 < 1)) throw new RangeError(`optimizer.beta1: expected [0, 1), got ${c.beta1}`);
  if (!(c.beta2 >= 0 && c.beta2 < 1)) throw new RangeError(`optimizer.beta2: expected [0, 1), got ${c.beta2}`);
  if (!(c.eps > 0)) throw new RangeError(`optimizer.eps: expected > 0, got ${c.eps}`);
  if (!(c.weightDecay >= 0)) throw new RangeError(`optimizer.weightDecay: expected ≥ 0, got ${c.weightDecay}`);
  return c;
}

function buildSlots(c: Required<OptimizerConfig>, specs: readonly ParamSpec[], groups: readonly ParamGroup[]): Slot[] {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const owner = new Map<string, ParamGroup>();
  for (const g of groups) {
    if (g.lr !== undefined && !(Number.isFinite(g.lr) && g.lr >= 0)) {
      throw new RangeError(`optimizer group "${g.name}": lr must be a number ≥ 0, got ${g.lr}`);
    }
    if (g.weightDecay !== undefined && !(g.weightDecay >= 0)) {
      throw new RangeError(`optimizer group "${g.name}": weightDecay must be ≥ 0, got ${g.weightDecay}`);
    }
    for (const p of g.params) {
      if (!byName.has(p)) throw new Error(`optimizer group "${g.name}": unknown parameter "${p}"`);
      const prev = owner.get(p);
      if (prev) throw new Error(`optimizer: parameter "${p}" is in groups "${prev.name}" and "${g.name}"`);
      owner.set(p, g);
    }
  }
  return specs.map((spec) => {
    const g = owner.get(spec.name);
    return { spec, lr: g?.lr ?? c.lr, weightDecay: g?.weightDecay ?? c.weightDecay };
  });
}

/**
 * An optimiser over parameters laid out as `specs`, optionally with per-group learning rates and
 * weight decay. Update rules follow PyTorch's `SGD` (dampening 0), `Adam` and `AdamW` exactly.
 */
export function createOptimizer(
  config: OptimizerConfig,
  specs: readonly ParamSpec[],
  groups: readonly ParamGroup[] = [],
  replicaOptions?: ReplicaOptions,
  implOptions: OptimizerImplOptions = {},
): Optimizer {
  const c = fillDefaults(config);
  const fused = implOptions.fused ?? true;
  const fusedMax = implOptions.fusedMaxElements ?? (config.name === 'sgd' && !(config.momentum && config.momentum > 0) ? 2048 : 4096);
  const R = replicaOptions?.replicas;
  if (R !== undefined && !(Number.isInteger(R) && R >= 1)) throw new RangeError(`optimizer: replicas must be an integer ≥ 1, got ${R}`);
  const replicaLr = replicaOptions?.lr;
  if (replicaLr) {
    if (R === undefined || replicaLr.length !== R) throw new RangeError(`optimizer: expected one lr per replica (${R ?? 'no replicas'}), got ${replicaLr.length}`);
    for (const x of replicaLr) if (!(Number.isFinite(x) && x >= 0)) throw new RangeError(`optimizer: a replica's lr must be a number ≥ 0, got ${x}`);
  }
  /** A parameter's tensor shape: its spec's, with the replica axis in front when there are replicas. */
  const shapeOf = (spec: ParamSpec): number[] => (R === undefined ? [...spec.shape] : [R, ...spec.shape]);
  const groupLr = new Set(groups.filter((g) => g.lr !== undefined).flatMap((g) => g.params));
  const slots = buildSlots(c, specs, groups).map((s) => (replicaLr && !groupLr.has(s.spec.name) ? { ...s, replicaLr } : s));
  const slotOf = new Map(slots.map((s) => [s.spec.name, s]));
  // state tensors, created lazily on the first step
  const buf = new Map<string, tf.Tensor>(); // sgd momentum buffer
  const m = new Map<string, tf.Tensor>(); // adam first moment
  const v = new Map<string, tf.Tensor>(); // adam second moment
  let t = 0;
  let disposed = false;

  const stateMaps = (): [string, Map<string, tf.Tensor>][] =>
    c.name === 'sgd' ? (c.momentum > 0 ? [['buf', buf]] : []) : [['m', m], ['v', v]];

  const replace = (map: Map<string, tf.Tensor>, key: string, value: tf.Tensor): void => {
    map.get(key)?.dispose();
    map.set(key, tf.keep(value));
  };

  function step(params: Params, grads: Params, lrScale = 1): Params {
    if (disposed) throw new Error('optimizer: step() after dispose()');
    if (!Number.isFinite(lrScale)) throw new RangeError(`optimizer: lrScale must be finite, got ${lrScale}`);
    for (const name of Object.keys(params)) {
      if (!slotOf.has(name)) throw new Error(`optimizer: parameter "${name}" is not in the specs`);
    }
    for (const s of slots) {
      const p = params[s.spec.name];
      const g = grads[s.spec.name];
      if (!p) throw new Error(`optimizer: missing parameter "${s.spec.name}"`);
      if (!g) throw new Error(`optimizer: missing gradient for "${s.spec.name}"`);
      if (p.size !== sizeOf(shapeOf(s.spec)) || g.size !== p.size) {
        throw new Error(`optimizer: "${s.spec.name}" has ${p.size} values and its gradient ${g.size}; expected shape [${shapeOf(s.spec)}]`);
      }
    }
    t += 1;
    const b1t = 1 - Math.pow(c.beta1, t);
    const b2t = 1 - Math.pow(c.beta2, t);
    const small = fused && fusedUpdateAvailable() ? slots.filter((s) => sizeOf(shapeOf(s.spec)) <= fusedMax && stateUniform(s)) : [];
    const large = small.length === 0 ? slots : slots.filter((s) => !small.includes(s));
    const fromFused = small.length > 0 ? fusedStep(small, params, grads, lrScale, b1t, b2t) : {};
    const fromChain = perTensorStep(large, params, grads, lrScale, b1t, b2t);
    const out: Params = {};
    for (const s of slots) out[s.spec.name] = fromFused[s.spec.name] ?? fromChain[s.spec.name];
    for (const s of slots) params[s.spec.name].dispose();
    return out;
  }

  /** Whether all of a slot's state buffers exist, or none does (the fused kernel takes either). */
  function stateUniform(s: Slot): boolean {
    const has = stateMaps().map(([, map]) => map.has(s.spec.name));
    return has.every((h) => h === has[0]);
  }

  function fusedStep(fusedSlotsOf: readonly Slot[], params: Params, grads: Params, lrScale: number, b1t: number, b2t: number): Params {
    const decoupled = c.name === 'adamw';
    const rule: FusedRule = {
      name: c.name,
      momentum: c.momentum,
      nesterov: c.nesterov,
      beta1: c.beta1,
      oneMinusBeta1: 1 - c.beta1,
      beta2: c.beta2,
      oneMinusBeta2: 1 - c.beta2,
      sqrtBias2: Math.sqrt(b2t),
      eps: c.eps,
    };
    // the factors in float64 on the host, exactly as the op chain computes its scalars
    const fusedSlots: FusedSlot[] = fusedSlotsOf.map((s) => {
      // one base lr per replica (a group's own lr is every replica's)
      const lrs = (s.replicaLr ?? new Array<number>(R ?? 1).fill(s.lr)).map((b) => b * lrScale);
      const wd = s.weightDecay;
      return {
        size: sizeOf(s.spec.shape),
        l2: decoupled ? 0 : wd,
        stepFactor: c.name === 'sgd' ? lrs : lrs.map((lr) => lr / b1t),
        decay: decoupled && wd > 0 ? lrs.map((lr) => 1 - lr * wd) : [],
      };
    });
    const maps = stateMaps().map(([, map]) => map);
    const names = fusedSlotsOf.map((s) => s.spec.name);
    const r = fusedUpdate(
      rule,
      fusedSlots,
      names.map((n) => params[n]),
      names.map((n) => grads[n]),
      names.map((n) => (maps.length > 0 && maps[0].has(n) ? maps.map((map) => map.get(n)!) : undefined)),
    );
    const out: Params = {};
    names.forEach((n, i) => {
      out[n] = r.params[i];
      maps.forEach((map, j) => replace(map, n, r.state[i][j]));
    });
    return out;
  }

  /** The reference path: a chain of tfjs ops per parameter tensor. */
  function perTensorStep(chainSlots: readonly Slot[], params: Params, grads: Params, lrScale: number, b1t: number, b2t: number): Params {
    const out: Params = {};
    for (const s of chainSlots) {
      const name = s.spec.name;
      const p = params[name];
      const g = grads[name];
      const wd = s.weightDecay;
      out[name] = tf.tidy(() => {
        // A replica's factors are computed on the host in float64, exactly as a lone optimiser's scalars.
        const perReplica = (f: (lr: number) => number): tf.Tensor | number =>
          s.replicaLr ? tf.tensor(s.replicaLr.map(f), [s.replicaLr.length, ...s.spec.shape.map(() => 1)], 'float32') : f(s.lr);
        const lr = (base: number): number => base * lrScale;
        if (c.name === 'sgd') {
          let d: tf.Tensor = wd > 0 ? tf.add(g, tf.mul(p, wd)) : g;
          if (c.momentum > 0) {
            const prev = buf.get(name);
            const nb = prev ? tf.add(tf.mul(prev, c.momentum), d) : tf.clone(d);
            replace(buf, name, nb);
            d = c.nesterov ? tf.add(d, tf.mul(nb, c.momentum)) : nb;
          }
          return tf.sub(p, tf.mul(d, perReplica(lr)));
        }
        const decoupled = c.name === 'adamw';
        const gg = !decoupled && wd > 0 ? tf.add(g, tf.mul(p, wd)) : g;
        const pm = m.get(name);
        const pv = v.get(name);
        const nm = pm ? tf.add(tf.mul(pm, c.beta1), tf.mul(gg, 1 - c.beta1)) : tf.mul(gg, 1 - c.beta1);
        const g2 = tf.square(gg);
        const nv = pv ? tf.add(tf.mul(pv, c.beta2), tf.mul(g2, 1 - c.beta2)) : tf.mul(g2, 1 - c.beta2);
        replace(m, name, nm);
        replace(v, name, nv);
        const base = decoupled && wd > 0 ? tf.mul(p, perReplica((b) => 1 - lr(b) * wd)) : p;
        // p − lr·m̂/(√v̂ + eps), with m̂ = m/b1t and v̂ = v/b2t (PyTorch's order of operations)
        const denom = tf.add(tf.div(tf.sqrt(nv), Math.sqrt(b2t)), c.eps);
        return tf.sub(base, tf.mul(tf.div(nm, denom), perReplica((b) => lr(b) / b1t)));
      });
    }
    return out;
  }

  function getState(): OptimizerStateEntry[] {
    const entries: OptimizerStateEntry[] = [{ name: STEP_KEY, values: Float32Array.of(t), shape: [] }];
    for (const [prefix, map] of stateMaps()) {
      for (const s of slots) {
        const x = map.get(s.spec.name);
        const values = x ? Float32Array.from(x.dataSync() as Float32Array) : new Float32Array(sizeOf(shapeOf(s.spec)));
        entries.push({ name: `${prefix}/${s.spec.name}`, values, shape: shapeOf(s.spec) });
      }
    }
    return entries;
  }

  function setState(state: readonly OptimizerStateEntry[]): void {
    const byName = new Map(state.map((e) => [e.name, e]));
    const stepEntry = byName.get(STEP_KEY);
    if (!stepEntry || stepEntry.values.length !== 1) throw new Error('optimizer.setState: missing "step" entry');
    const fresh: [Map<string, tf.Tensor>, string, tf.Tensor][] = [];
    try {
      for (const [prefix, map] of stateMaps()) {
        for (const s of slots) {
          const key = `${prefix}/${s.spec.name}`;
          const e = byName.get(key);
          if (!e) throw new Error(`optimizer.setState: missing entry "${key}" (state of a different optimiser?)`);
          if (e.values.length !== sizeOf(shapeOf(s.spec))) {
            throw new Error(`optimizer.setState: "${key}" has ${e.values.length} values, expected shape [${shapeOf(s.spec)}]`);
          }
          fresh.push([map, s.spec.name, tf.tensor(e.values, shapeOf(s.spec), 'float32')]);
        }
      }
    } catch (err) {
      for (const [, , x] of fresh) x.dispose();
      throw err;
    }
    for (const map of [buf, m, v]) {
      for (const x of map.values()) x.dispose();
      map.clear();
    }
    for (const [map, key, x] of fresh) map.set(key, x);
    t = stepEntry.values[0];
  }

  function dispose(): void {
    for (const map of [buf, m, v]) {
      for (const x of map.values()) x.dispose();
      map.clear();
    }
    disposed = true;
  }

  return {
    config: c,
    get steps() {
      return t;
    },
    step,
    lrOf(param: string) {
      const s = slotOf.get(param);
      if (!s) throw new Error(`optimizer: unknown parameter "${param}"`);
      return s.lr;
    },
    getState,
    setState,
    dispose,
  };
}
