import * as tf from '@tensorflow/tfjs-core';

/**
 * One optimiser update of every parameter in a single kernel call (cpu and wasm backends).
 *
 * The per-tensor path runs a chain of ~13 elementwise ops per parameter for Adam (3 for SGD), each
 * a separate dispatch (20–60 µs on wasm for a small tensor) plus a scalar upload per constant. This
 * kernel reads every parameter, gradient and state buffer once and writes the results in one pass
 * over host-visible memory (the cpu backend's arrays, the wasm heap), rounding to float32 after
 * every operation in the same order as the op chain. Every + − × ÷ √ on float32 values computed in
 * float64 and rounded once is the correctly rounded float32 result (53 ≥ 2·24 + 2), so the outputs
 * are bit-identical to the op chain on both backends.
 */

export const FUSED_UPDATE_KERNEL = 'GoldstoneFusedOptimizerUpdate';

/** Which update rule, with its float32 constants. */
export interface FusedRule {
  name: 'sgd' | 'adam' | 'adamw';
  /** sgd: heavy-ball momentum (0: none) and Nesterov. */
  momentum: number;
  nesterov: boolean;
  /** adam(w): β₁, 1 − β₁, β₂, 1 − β₂, √(1 − β₂ᵗ), eps. */
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  sqrtBias2: number;
  eps: number;
}

/** One parameter tensor of the update: its size per replica and its factors. */
export interface FusedSlot {
  /** Elements per replica (the whole tensor without replicas). */
  size: number;
  /** L2 weight decay added to the gradient (sgd, adam); 0 for none. */
  l2: number;
  /** Per replica: the factor of the step (sgd: lr; adam: lr / (1 − β₁ᵗ)). */
  stepFactor: readonly number[];
  /** Per replica (adamw with decay): p ← p·decay first; empty for none. */
  decay: readonly number[];
}

interface FusedAttrs {
  rule: FusedRule;
  slots: readonly FusedSlot[];
  /** Per slot: whether its state buffers (momentum, moments) are passed in (not on its first step). */
  hasState: readonly boolean[];
}

/** State buffers per parameter: sgd with momentum 1 (`buf`), adam(w) 2 (`m`, `v`), plain sgd 0. */
export function stateCount(rule: Pick<FusedRule, 'name' | 'momentum'>): number {
  return rule.name === 'sgd' ? (rule.momentum > 0 ? 1 : 0) : 2;
}

const f32 = Math.fround;

/** The update of one parameter, element by element, every result rounded to float32. */
function updateSlot(
  rule: FusedRule,
  slot: FusedSlot,
  replicas: number,
  p: Float32Array,
  g: Float32Array,
  state: (Float32Array | undefined)[],
  outP: Float32Array,
  outState: Float32Array[],
): void {
  const n = slot.size;
  // the op chain adds the term whenever the (float64) decay is > 0, even if it rounds to 0 in float32
  const l2On = slot.l2 > 0;
  const l2 = f32(slot.l2);
  if (rule.name === 'sgd') {
    const mom = f32(rule.momentum);
    const [buf] = state;
    const [outBuf] = outState;
    for (let r = 0; r < replicas; r++) {
      const lr = f32(slot.stepFactor[r]);
      for (let i = r * n, end = i + n; i < end; i++) {
        let d = l2On ? f32(g[i] + f32(p[i] * l2)) : g[i];
        if (outBuf) {
          const nb = buf ? f32(f32(buf[i] * mom) + d) : d;
          outBuf[i] = nb;
          d = rule.nesterov ? f32(d + f32(nb * mom)) : nb;
        }
        outP[i] = f32(p[i] - f32(d * lr));
      }
    }
    return;
  }
  const decoupled = rule.name === 'adamw';
  const [m, v] = state;
  const [outM, outV] = outState;
  const decayOn = decoupled && slot.decay.length > 0;
  for (let r = 0; r < replicas; r++) {
    const k: AdamConstants = {
      b1: f32(rule.beta1),
      c1: f32(rule.oneMinusBeta1),
      b2: f32(rule.beta2),
      c2: f32(rule.oneMinusBeta2),
      sb2: f32(rule.sqrtBias2),
      eps: f32(rule.eps),
      step: f32(slot.stepFactor[r]),
      l2: !decoupled && l2On ? l2 : 0,
      decay: decayOn ? f32(slot.decay[r]) : 1,
    };
    if (m && v) adamSteady(k, !decoupled && l2On, decayOn, p, g, m, v, outP, outM, outV, r * n, (r + 1) * n);
    else adamFirst(k, !decoupled && l2On, decayOn, p, g, outP, outM, outV, r * n, (r + 1) * n);
  }
}

interface AdamConstants {
  b1: number;
  c1: number;
  b2: number;
  c2: number;
  sb2: number;
  eps: number;
  step: number;
  l2: number;
  decay: number;
}

// Two monomorphic loops (no optional arrays inside), which V8 compiles to tight code.
function adamSteady(k: AdamConstants, l2On: boolean, decayOn: boolean, p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, outP: Float32Array, outM: Float32Array, outV: Float32Array, start: number, end: number): void {
  const { b1, c1, b2, c2, sb2, eps, step, l2, decay } = k;
  for (let i = start; i < end; i++) {
    const pi = p[i];
    const gg = l2On ? f32(g[i] + f32(pi * l2)) : g[i];
    const nm = f32(f32(m[i] * b1) + f32(gg * c1));
    const nv = f32(f32(v[i] * b2) + f32(f32(gg * gg) * c2));
    outM[i] = nm;
    outV[i] = nv;
    const base = decayOn ? f32(pi * decay) : pi;
    outP[i] = f32(base - f32(f32(nm / f32(f32(f32(Math.sqrt(nv)) / sb2) + eps)) * step));
  }
}

function adamFirst(k: AdamConstants, l2On: boolean, decayOn: boolean, p: Float32Array, g: Float32Array, outP: Float32Array, outM: Float32Array, outV: Float32Array, start: number, end: number): void {
  const { c1, c2, sb2, eps, step, l2, decay } = k;
  for (let i = start; i < end; i++) {
    const pi = p[i];
    const gg = l2On ? f32(g[i] + f32(pi * l2)) : g[i];
    const nm = f32(gg * c1);
    const nv = f32(f32(gg * gg) * c2);
    outM[i] = nm;
    outV[i] = nv;
    const base = decayOn ? f32(pi * decay) : pi;
    outP[i] = f32(base - f32(f32(nm / f32(f32(f32(Math.sqrt(nv)) / sb2) + eps)) * step));
  }
}

interface HostMemory {
  /** Allocate an output of `shape` (float32); its values are written later through `view`. */
  alloc(shape: number[]): tf.TensorInfo;
  /** A Float32Array over a tensor's storage (valid until the next allocation). */
  view(t: tf.TensorInfo): Float32Array;
  /** Outputs after writing (the cpu backend registers its arrays here). */
  finish(outs: tf.TensorInfo[]): tf.TensorInfo[];
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

interface CpuBackendLike {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.backend_util.BackendValues): tf.TensorInfo;
}

function wasmMemory(backend: WasmBackendLike): HostMemory {
  return {
    alloc: (shape) => backend.makeOutput(shape, 'float32'),
    view: (t) => backend.typedArrayFromHeap(t) as Float32Array,
    finish: (outs) => outs,
  };
}

function cpuMemory(backend: CpuBackendLike): HostMemory {
  const pending = new Map<tf.TensorInfo, Float32Array>();
  return {
    alloc: (shape) => {
      const info = { dataId: {}, shape, dtype: 'float32' as const };
      pending.set(info, new Float32Array(tf.util.sizeFromShape(shape)));
      return info;
    },
    view: (t) => pending.get(t) ?? (backend.readSync(t.dataId) as Float32Array),
    finish: (outs) => outs.map((o) => backend.makeTensorInfo(o.shape, 'float32', pending.get(o)!)),
  };
}

function kernelFunc(memory: (backend: unknown) => HostMemory): tf.KernelFunc {
  return (args) => {
    const { rule, slots, hasState } = args.attrs as unknown as FusedAttrs;
    const inputs = args.inputs as unknown as Record<string, tf.TensorInfo>;
    const mem = memory(args.backend);
    const k = stateCount(rule);
    const per = 1 + k;
    // every allocation first: growing the wasm heap detaches views taken before it
    const outs: tf.TensorInfo[] = [];
    for (let s = 0; s < slots.length; s++) {
      const shape = inputs[`p${s}`].shape;
      for (let j = 0; j < per; j++) outs.push(mem.alloc(shape));
    }
    for (let s = 0; s < slots.length; s++) {
      const p = inputs[`p${s}`];
      const replicas = tf.util.sizeFromShape(p.shape) / slots[s].size;
      const state = Array.from({ length: k }, (_, j) => (hasState[s] ? mem.view(inputs[`s${s}_${j}`]) : undefined));
      const outState = Array.from({ length: k }, (_, j) => mem.view(outs[s * per + 1 + j]));
      updateSlot(rule, slots[s], replicas, mem.view(p), mem.view(inputs[`g${s}`]), state, mem.view(outs[s * per]), outState);
    }
    return mem.finish(outs);
  };
}

const MEMORY: Record<string, (backend: unknown) => HostMemory> = {
  wasm: (b) => wasmMemory(b as WasmBackendLike),
  cpu: (b) => cpuMemory(b as CpuBackendLike),
};

/** Register the kernel for cpu and wasm (idempotent). */
function ensureRegistered(): void {
  for (const [backendName, memory] of Object.entries(MEMORY)) {
    if (tf.getKernel(FUSED_UPDATE_KERNEL, backendName)) continue;
    tf.registerKernel({ kernelName: FUSED_UPDATE_KERNEL, backendName, kernelFunc: kernelFunc(memory) });
  }
}

/** Whether the active backend runs the fused update (cpu and wasm do; others use the op chain). */
export function fusedUpdateAvailable(): boolean {
  return tf.getBackend() in MEMORY;
}

/**
 * The update of every parameter in one kernel call. `params[s]`, `grads[s]` are slot s's tensors,
 * `state[s]` its state buffers (`undefined` before its first step). Returns per slot the new
 * parameter and new state tensors; nothing is disposed.
 */
export function fusedUpdate(
  rule: FusedRule,
  slots: readonly FusedSlot[],
  params: readonly tf.Tensor[],
  grads: readonly tf.Tensor[],
  state: readonly (readonly tf.Tensor[] | undefined)[],
): { params: tf.Tensor[]; state: tf.Tensor[][] } {
  ensureRegistered();
  const k = stateCount(rule);
  const inputs: Record<string, tf.Tensor> = {};
  slots.forEach((_, s) => {
    inputs[`p${s}`] = params[s];
    inputs[`g${s}`] = grads[s];
    const st = state[s];
    if (st) for (let j = 0; j < k; j++) inputs[`s${s}_${j}`] = st[j];
  });
  const attrs: FusedAttrs = { rule, slots, hasState: slots.map((_, s) => state[s] !== undefined) };
  const out = tf.engine().runKernel(FUSED_UPDATE_KERNEL, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap);
  const flat = Array.isArray(out) ? out : [out];
  const per = 1 + k;
  return {
    params: slots.map((_, s) => flat[s * per]),
    state: slots.map((_, s) => flat.slice(s * per + 1, s * per + per)),
  };
}
