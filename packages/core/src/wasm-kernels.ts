import * as tf from '@tensorflow/tfjs-core';

/**
 * Kernel fixes for the tfjs wasm backend (tfjs 4.22), registered through the public kernel registry.
 *
 * 1. `BatchMatMul` and `_FusedMatMul` with a transpose flag are 10–25× slower on wasm than without
 *    (XNNPACK is used only when neither flag is set, and every matMul gradient sets one). The
 *    replacements transpose the flagged operands explicitly with the wasm `Transpose` kernel and
 *    then call the original kernel with both flags cleared. Results are bit-identical.
 * 2. wasm has no `UnsortedSegmentSum` kernel, so `tf.unsortedSegmentSum` and the gradient of
 *    `tf.gather` throw. The replacement sums on the host in float64, in index order, and rounds
 *    once to float32, which is what the cpu backend computes.
 * 3. wasm's `Identity` (every `tf.clone`, and every tensor the gradient tape saves for the
 *    backward pass) copies the buffer; the replacement shares it by reference count, as the cpu
 *    backend's `Identity` and wasm's own `Reshape` do (tensors are immutable).
 * 4. wasm's `Sum` over leading axes (the bias gradient of every dense layer: a sum over the batch)
 *    transposes its input first so that it can reduce the innermost axis. The replacement adds
 *    the rows in place, in the same order with float32 accumulators: bit-identical.
 */

/** Names of the fixes `installWasmKernels` registers, as recorded in run provenance. */
export const WASM_FIXES = [
  'wasm:BatchMatMul explicit transpose',
  'wasm:_FusedMatMul explicit transpose',
  'wasm:UnsortedSegmentSum',
  'wasm:Identity shares data',
  'wasm:Sum over leading axes without transpose',
] as const;

export type WasmFix = (typeof WASM_FIXES)[number];

const BACKEND = 'wasm';
/** Marks our replacement configs, so a second copy of this module (source and dist) sees them. */
const MARK = Symbol.for('goldstone.wasmKernelFix');
/** The stock configs we replaced, kept on the global object for `uninstallWasmKernels`. */
const ORIGINALS = Symbol.for('goldstone.wasmKernelOriginals');

type KernelConfig = tf.KernelConfig;
type KernelFunc = tf.KernelFunc;
type TensorInfo = tf.TensorInfo;

interface WasmBackendLike {
  disposeData(dataId: object): boolean;
  incRef(dataId: object): void;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): TensorInfo;
}

function originals(): Map<string, KernelConfig> {
  const g = globalThis as unknown as Record<symbol, Map<string, KernelConfig> | undefined>;
  let m = g[ORIGINALS];
  if (!m) {
    m = new Map();
    g[ORIGINALS] = m;
  }
  return m;
}

function isOurs(config: KernelConfig | undefined): boolean {
  return !!config && (config.kernelFunc as unknown as Record<symbol, unknown>)[MARK] === true;
}

function mark(fn: KernelFunc): KernelFunc {
  (fn as unknown as Record<symbol, unknown>)[MARK] = true;
  return fn;
}

/** Swap the last two axes of `x` with the backend's own Transpose kernel (a new TensorInfo). */
function transposeLast2(x: TensorInfo, backend: unknown, transpose: KernelFunc): TensorInfo {
  const rank = x.shape.length;
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return transpose({ inputs: { x }, backend: backend as tf.KernelBackend, attrs: { perm } }) as TensorInfo;
}

/** A matMul kernel that transposes flagged operands explicitly, then calls `original` unflagged. */
function explicitTranspose(original: KernelConfig): KernelConfig {
  const kernelFunc = mark((args) => {
    const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return original.kernelFunc(args);
    const transpose = tf.getKernel('Transpose', BACKEND)?.kernelFunc;
    if (!transpose) return original.kernelFunc(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const inputs = args.inputs as unknown as { a: TensorInfo; b: TensorInfo } & Record<string, TensorInfo>;
    const temps: TensorInfo[] = [];
    let { a, b } = inputs;
    if (attrs.transposeA) temps.push((a = transposeLast2(a, backend, transpose)));
    if (attrs.transposeB) temps.push((b = transposeLast2(b, backend, transpose)));
    try {
      return original.kernelFunc({
        ...args,
        inputs: { ...inputs, a, b },
        attrs: { ...(args.attrs as object), transposeA: false, transposeB: false } as unknown as tf.NamedAttrMap,
      });
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  });
  return { ...original, kernelFunc };
}

/** `UnsortedSegmentSum` for wasm: float64 host accumulation in index order, one rounding at the end. */
function unsortedSegmentSumConfig(): KernelConfig {
  const kernelFunc = mark((args) => {
    const backend = args.backend as unknown as WasmBackendLike;
    const { x, segmentIds } = args.inputs as unknown as { x: TensorInfo; segmentIds: TensorInfo };
    const { numSegments } = args.attrs as unknown as { numSegments: number };
    if (x.dtype !== 'float32' && x.dtype !== 'int32') {
      throw new Error(`UnsortedSegmentSum on wasm supports float32 and int32, got ${x.dtype}`);
    }
    if (segmentIds.shape.length !== 1 || segmentIds.shape[0] !== x.shape[0]) {
      throw new Error(
        `UnsortedSegmentSum on wasm needs 1-D segment ids of length x.shape[0] (${x.shape[0]}), got shape [${segmentIds.shape}]`,
      );
    }
    const rows = x.shape[0];
    const inner = rows === 0 ? 0 : tf.util.sizeFromShape(x.shape) / rows;
    const xs = backend.typedArrayFromHeap(x);
    const ids = backend.typedArrayFromHeap(segmentIds);
    const acc = new Float64Array(numSegments * inner);
    for (let r = 0; r < rows; r++) {
      const s = ids[r];
      if (s < 0 || s >= numSegments) continue; // out-of-range ids are dropped, as in TensorFlow
      const src = r * inner;
      const dst = s * inner;
      for (let j = 0; j < inner; j++) acc[dst + j] += xs[src + j];
    }
    const out = x.dtype === 'float32' ? Float32Array.from(acc) : Int32Array.from(acc);
    return backend.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype, undefined, out);
  });
  return { kernelName: 'UnsortedSegmentSum', backendName: BACKEND, kernelFunc };
}

/** `Identity` that shares the input's buffer (reference counted) instead of copying it. */
function identityConfig(original: KernelConfig): KernelConfig {
  const kernelFunc = mark((args) => {
    const { x } = args.inputs as unknown as { x: TensorInfo };
    if (x.dtype === 'string') return original.kernelFunc(args);
    (args.backend as unknown as WasmBackendLike).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  });
  return { ...original, kernelFunc };
}

/**
 * `Sum` of float32 over leading axes (`[0, …, k−1]` in that order, not all): rows added in place, in row
 * order, into float32 accumulators, which is what the stock kernel computes after transposing.
 * Anything else goes to the stock kernel.
 */
function sumConfig(original: KernelConfig): KernelConfig {
  const kernelFunc = mark((args) => {
    const { x } = args.inputs as unknown as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    // in the order given: the stock kernel's transpose puts the reduced axes in that order
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading || tf.util.sizeFromShape(x.shape) === 0) return original.kernelFunc(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
    const outShape = keepDims ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : x.shape.slice(axes.length);
    const out = backend.makeOutput(outShape, 'float32');
    const xs = backend.typedArrayFromHeap(x) as Float32Array; // after the allocation (heap growth detaches views)
    const acc = backend.typedArrayFromHeap(out) as Float32Array;
    const inner = acc.length;
    acc.fill(0);
    // each store rounds to float32, like the stock kernel's float accumulator
    for (let r = 0, o = 0; r < rows; r++, o += inner) for (let j = 0; j < inner; j++) acc[j] += xs[o + j];
    return out;
  });
  return { ...original, kernelFunc };
}

function replace(kernelName: string, make: (original: KernelConfig | undefined) => KernelConfig): void {
  const current = tf.getKernel(kernelName, BACKEND);
  if (isOurs(current)) return;
  if (current) {
    originals().set(kernelName, current);
    tf.unregisterKernel(kernelName, BACKEND);
  }
  tf.registerKernel(make(current));
}

/**
 * Register the wasm kernel fixes (idempotent). Call after `@tensorflow/tfjs-backend-wasm` has been
 * imported (it registers the stock kernels on import); safe before or after `tf.setBackend('wasm')`.
 * Returns the names of the fixes now active.
 */
export function installWasmKernels(): WasmFix[] {
  const active: WasmFix[] = [];
  for (const name of ['BatchMatMul', '_FusedMatMul'] as const) {
    const stock = tf.getKernel(name, BACKEND);
    if (!stock) continue;
    replace(name, (original) => explicitTranspose(original as KernelConfig));
    active.push(`wasm:${name} explicit transpose` as WasmFix);
  }
  const seg = tf.getKernel('UnsortedSegmentSum', BACKEND);
  if (!seg || isOurs(seg)) {
    replace('UnsortedSegmentSum', () => unsortedSegmentSumConfig());
    active.push('wasm:UnsortedSegmentSum');
  }
  if (tf.getKernel('Identity', BACKEND)) {
    replace('Identity', (original) => identityConfig(original as KernelConfig));
    active.push('wasm:Identity shares data');
  }
  if (tf.getKernel('Sum', BACKEND)) {
    replace('Sum', (original) => sumConfig(original as KernelConfig));
    active.push('wasm:Sum over leading axes without transpose');
  }
  return active;
}

/** The wasm fixes currently registered (empty when none are, or wasm is not loaded). */
export function activeWasmKernels(): WasmFix[] {
  const out: WasmFix[] = [];
  if (isOurs(tf.getKernel('BatchMatMul', BACKEND))) out.push('wasm:BatchMatMul explicit transpose');
  if (isOurs(tf.getKernel('_FusedMatMul', BACKEND))) out.push('wasm:_FusedMatMul explicit transpose');
  if (isOurs(tf.getKernel('UnsortedSegmentSum', BACKEND))) out.push('wasm:UnsortedSegmentSum');
  if (isOurs(tf.getKernel('Identity', BACKEND))) out.push('wasm:Identity shares data');
  if (isOurs(tf.getKernel('Sum', BACKEND))) out.push('wasm:Sum over leading axes without transpose');
  return out;
}

/**
 * Restore the stock wasm kernels (for comparisons and benchmarks of the unfixed backend).
 * Our `UnsortedSegmentSum` is removed, since wasm ships none.
 */
export function uninstallWasmKernels(): void {
  const saved = originals();
  for (const name of ['BatchMatMul', '_FusedMatMul', 'UnsortedSegmentSum', 'Identity', 'Sum']) {
    const current = tf.getKernel(name, BACKEND);
    if (!isOurs(current)) continue;
    tf.unregisterKernel(name, BACKEND);
    const original = saved.get(name);
    if (original) tf.registerKernel(original);
    saved.delete(name);
  }
}
