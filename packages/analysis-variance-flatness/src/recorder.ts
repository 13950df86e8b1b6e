import type { ModelInstance, ParamSpec, Params, TrainHooks } from '@goldstone/plugin-api';
import { sizeOf } from '@goldstone/core';

/** One recorded snapshot of the parameter subset. */
export interface Snapshot {
  step: number;
  /** 0-based epoch the step belongs to. */
  epoch: number;
  values: Float32Array;
}

/** What the train hooks recorded for one model instance. */
export interface Recording {
  /** The parameter tensors recorded, in flattening order, and where they sit in the flat vector. */
  names: string[];
  offsets: number[];
  sizes: number[];
  /** Total size of the subset. */
  size: number;
  every: number;
  windowEpochs: number;
  /** Snapshots of the last `windowEpochs` epochs seen, oldest first. */
  snapshots: Snapshot[];
  /** Steps seen in total. */
  steps: number;
}

/**
 * The parameters recorded by default: the weight matrices strictly between the first and the last
 * (for an MLP with two hidden layers, the weights between them: 50 × 50 = 2500 numbers in the
 * published setting); if the model has fewer than three weight matrices, every parameter.
 */
export function defaultSubset(specs: readonly ParamSpec[]): string[] {
  const matrices = specs.filter((s) => s.shape.length >= 2);
  if (matrices.length >= 3) return matrices.slice(1, -1).map((s) => s.name);
  return specs.map((s) => s.name);
}

/** Names → positions in the model's flat parameter vector. Errors list the model's parameters. */
export function locateSubset(specs: readonly ParamSpec[], names: readonly string[]): Pick<Recording, 'names' | 'offsets' | 'sizes' | 'size'> {
  const offsets: number[] = [];
  const sizes: number[] = [];
  const byName = new Map<string, { offset: number; size: number }>();
  let offset = 0;
  for (const s of specs) {
    byName.set(s.name, { offset, size: sizeOf(s.shape) });
    offset += sizeOf(s.shape);
  }
  const ordered = specs.map((s) => s.name).filter((n) => names.includes(n));
  for (const n of names) {
    if (!byName.has(n)) throw new Error(`variance-flatness: the model has no parameter "${n}" (it has: ${specs.map((s) => s.name).join(', ')})`);
  }
  if (ordered.length === 0) throw new Error('variance-flatness: the parameter subset is empty');
  for (const n of ordered) {
    offsets.push(byName.get(n)!.offset);
    sizes.push(byName.get(n)!.size);
  }
  return { names: ordered, offsets, sizes, size: sizes.reduce((a, b) => a + b, 0) };
}

const recordings = new WeakMap<ModelInstance, Recording>();

/** The trajectory recorded while `model` trained, if any. */
export function recordingFor(model: ModelInstance): Recording | undefined {
  return recordings.get(model);
}

/** Host copy of the subset of `params` (a new Float32Array). */
export function copySubset(params: Params, rec: Pick<Recording, 'names' | 'sizes' | 'size'>): Float32Array {
  const out = new Float32Array(rec.size);
  let at = 0;
  rec.names.forEach((n, i) => {
    const t = params[n];
    if (!t) throw new Error(`variance-flatness: missing parameter "${n}" during training`);
    out.set(t.dataSync() as Float32Array, at);
    at += rec.sizes[i];
  });
  return out;
}

/**
 * Train hooks that record the subset every `every` steps, keeping the snapshots of the last
 * `windowEpochs` epochs (older ones are dropped as training goes on), keyed by the model instance
 * so that the analysis's `run` finds them after training.
 */
export function recordTrajectory(model: ModelInstance, opts: { params?: string[]; every: number; windowEpochs: number }): TrainHooks {
  const located = locateSubset(model.specs, opts.params ?? defaultSubset(model.specs));
  const rec: Recording = { ...located, every: opts.every, windowEpochs: opts.windowEpochs, snapshots: [], steps: 0 };
  recordings.set(model, rec);
  return {
    onStart() {
      rec.snapshots = [];
      rec.steps = 0;
    },
    onStep({ step, epoch, params }) {
      rec.steps++;
      if (step % rec.every !== 0) return;
      rec.snapshots.push({ step, epoch, values: copySubset(params, rec) });
      const oldest = epoch - rec.windowEpochs + 1;
      let drop = 0;
      while (drop < rec.snapshots.length && rec.snapshots[drop].epoch < oldest) drop++;
      if (drop > 0) rec.snapshots.splice(0, drop);
    },
  };
}
