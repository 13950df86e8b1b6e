import type { ModelInstance, ParamSpec, Params, TrainHooks } from '@goldstone/plugin-api';
import { paramsToArray, sizeOf } from '@goldstone/core';
import { trajectoryPca, type PcaMethod, type TrajectoryPca } from './pca';

/** One recorded snapshot of the parameter subset. */
export interface Snapshot {
  step: number;
  /** 0-based epoch the step belongs to. */
  epoch: number;
  values: Float32Array;
}

/**
 * Where a window sits: the snapshot steps fromStep … toStep (1-based step counts after the update;
 * `endTime`/`length` in learning time t = α·step when the window was placed that way), or the
 * trailing last `epochs` epochs of training (the end not known before training ends).
 */
export type WindowSpec = { kind: 'steps'; fromStep: number; toStep: number; endTime?: number; length?: number } | { kind: 'trailing'; epochs: number };

/** One window's record: its snapshots while it is in flight, then its PCA and means once closed. */
export interface WindowRecording {
  spec: WindowSpec;
  /** Snapshots of the subset while the window is open (emptied when it closes). */
  snapshots: Snapshot[];
  /** Snapshot steps and epochs recorded (first, last) and how many. */
  firstStep: number;
  lastStep: number;
  firstEpoch: number;
  lastEpoch: number;
  count: number;
  closed: boolean;
  /** Once closed: the PCA of the subset trajectory, its first and last snapshot. */
  pca: TrajectoryPca | null;
  first: Float32Array | null;
  last: Float32Array | null;
  /** Once closed: every parameter's mean over the window's snapshot steps, and its value at the last one. */
  mean: Float64Array | null;
  lastFull: Float32Array | null;
}

/** What the train hooks recorded for one model instance. */
export interface Recording {
  /** The parameter tensors recorded, in flattening order, and where they sit in the flat vector. */
  names: string[];
  offsets: number[];
  sizes: number[];
  /** Total size of the subset, and of all parameters. */
  size: number;
  total: number;
  every: number;
  windows: WindowRecording[];
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

/** The subset of a flat parameter vector (a new Float32Array). */
export function subsetOf(flat: ArrayLike<number>, rec: Pick<Recording, 'offsets' | 'sizes' | 'size'>): Float32Array {
  const out = new Float32Array(rec.size);
  let at = 0;
  rec.offsets.forEach((off, i) => {
    for (let k = 0; k < rec.sizes[i]; k++) out[at + k] = flat[off + k];
    at += rec.sizes[i];
  });
  return out;
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

/** Per-epoch running sums of every parameter (a trailing window drops whole epochs as it moves). */
interface EpochSum {
  epoch: number;
  sum: Float64Array;
  count: number;
}

function emptyWindow(spec: WindowSpec): WindowRecording {
  return { spec, snapshots: [], firstStep: 0, lastStep: 0, firstEpoch: 0, lastEpoch: 0, count: 0, closed: false, pca: null, first: null, last: null, mean: null, lastFull: null };
}

/**
 * Train hooks that record the subset every `every` steps inside each window, keyed by the model
 * instance so that the analysis's `run` finds them after training. Only the windows in flight hold
 * snapshots: when a window's last snapshot step has passed, its trajectory is reduced to its PCA
 * (the top `components` directions and the spectrum), its first and last snapshot, and the mean of
 * every parameter over its snapshot steps (accumulated as running sums while it was open), and its
 * snapshots are dropped. A trailing window (the last `epochs` epochs) closes when training ends.
 */
export function recordTrajectory(
  model: ModelInstance,
  opts: { params?: string[]; every: number; windows: WindowSpec[]; components: number; pcaMethod?: PcaMethod },
): TrainHooks {
  const located = locateSubset(model.specs, opts.params ?? defaultSubset(model.specs));
  const total = model.specs.reduce((a, s) => a + sizeOf(s.shape), 0);
  const rec: Recording = { ...located, total, every: opts.every, windows: [], steps: 0 };
  recordings.set(model, rec);
  let sums: Float64Array[] = [];
  let epochSums: EpochSum[][] = [];

  const close = (i: number) => {
    const w = rec.windows[i];
    if (w.closed) return;
    w.closed = true;
    if (w.count === 0) return;
    const mean = new Float64Array(total);
    if (w.spec.kind === 'trailing') {
      for (const b of epochSums[i]) for (let j = 0; j < total; j++) mean[j] += b.sum[j];
    } else mean.set(sums[i]);
    for (let j = 0; j < total; j++) mean[j] /= w.count;
    w.mean = mean;
    w.first = w.snapshots[0].values;
    w.last = w.snapshots[w.snapshots.length - 1].values;
    w.pca = w.snapshots.length >= 2 ? trajectoryPca(w.snapshots.map((s) => s.values), { components: Math.max(opts.components, 5), method: opts.pcaMethod }) : null;
    w.snapshots = [];
    sums[i] = new Float64Array(0);
    epochSums[i] = [];
  };

  return {
    onStart() {
      rec.windows = opts.windows.map(emptyWindow);
      rec.steps = 0;
      sums = opts.windows.map((s) => (s.kind === 'steps' ? new Float64Array(total) : new Float64Array(0)));
      epochSums = opts.windows.map(() => []);
    },
    onStep({ step, epoch, params }) {
      rec.steps++;
      if (step % rec.every !== 0) return;
      const open = rec.windows.map((w, i) => ({ w, i })).filter(({ w }) => !w.closed && (w.spec.kind === 'trailing' || (step >= w.spec.fromStep && step <= w.spec.toStep)));
      if (open.length === 0) return;
      const flat = paramsToArray(params, model.specs);
      const values = subsetOf(flat, rec);
      for (const { w, i } of open) {
        if (w.count === 0) {
          w.firstStep = step;
          w.firstEpoch = epoch;
        }
        w.count++;
        w.lastStep = step;
        w.lastEpoch = epoch;
        w.lastFull = flat;
        w.snapshots.push({ step, epoch, values });
        if (w.spec.kind === 'steps') {
          const s = sums[i];
          for (let j = 0; j < total; j++) s[j] += flat[j];
          if (step + rec.every > w.spec.toStep) close(i);
        } else {
          const blocks = epochSums[i];
          let b = blocks[blocks.length - 1];
          if (!b || b.epoch !== epoch) blocks.push((b = { epoch, sum: new Float64Array(total), count: 0 }));
          for (let j = 0; j < total; j++) b.sum[j] += flat[j];
          b.count++;
          // keep the last `epochs` epochs: drop older snapshots and epoch sums
          const oldest = epoch - w.spec.epochs + 1;
          let drop = 0;
          while (drop < w.snapshots.length && w.snapshots[drop].epoch < oldest) drop++;
          if (drop > 0) {
            w.snapshots.splice(0, drop);
            w.count = w.snapshots.length;
            w.firstStep = w.snapshots[0].step;
            w.firstEpoch = w.snapshots[0].epoch;
          }
          while (blocks.length && blocks[0].epoch < oldest) blocks.shift();
        }
      }
    },
    onEnd() {
      rec.windows.forEach((_, i) => close(i));
    },
  };
}
