import { constants as bufferConstants } from 'node:buffer';
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { sizeOf } from '@goldstone/core';
import { formatBytes, UsageError, type ModelInstance, type TaskInstance } from '@goldstone/plugin-api';

/** The share of the machine's memory one run may use unless `GOLDSTONE_MEMORY_LIMIT` says otherwise. */
export const MEMORY_FRACTION = 0.5;

/** The most a WebAssembly backend's heap can grow to (32-bit addresses: 65,535 pages of 64 KiB). */
export const WASM_HEAP_MAX = 4294901760;

/** The environment variable that sets the memory one run may use (`16GB`, `512MiB`, a number of bytes). */
export const MEMORY_LIMIT_ENV = 'GOLDSTONE_MEMORY_LIMIT';

/** How much memory a run may use, and the engine's hard limits. */
export interface MemoryBudget {
  /** Bytes one run may use in all (host arrays and tensors). */
  total: number;
  /** How `total` reads in a message: `this machine's limit of 11.8 GiB (half of 23.5 GiB)` or `GOLDSTONE_MEMORY_LIMIT (4 GiB)`. */
  totalLabel: string;
  /** Bytes the tensor backend can hold (a wasm heap is at most 4 GiB; otherwise `total`). */
  tensors: number;
  tensorsLabel: string;
  /** Bytes of plain JavaScript objects the engine's heap can still hold (its limit, `--max-old-space-size`, less what is in use). */
  heap: number;
  /** Elements of the largest typed array the engine allocates. */
  maxArray: number;
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 2 ** 10,
  m: 1e6,
  mb: 1e6,
  mib: 2 ** 20,
  g: 1e9,
  gb: 1e9,
  gib: 2 ** 30,
  t: 1e12,
  tb: 1e12,
  tib: 2 ** 40,
  p: 1e15,
  pb: 1e15,
  pib: 2 ** 50,
};

/** Read a size such as `16GB`, `512 MiB`, `2e9` (bytes); `undefined` when it is not one. */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = UNITS[m[2].toLowerCase()];
  const n = Number(m[1]) * (unit ?? NaN);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * The memory budget of one run: `GOLDSTONE_MEMORY_LIMIT` if set, else {@link MEMORY_FRACTION} of
 * the machine's memory; tensors on the wasm backend at most its 4 GiB heap; typed arrays at most
 * the engine's length limit; plain objects at most the engine's heap.
 */
export function memoryBudget(opts: { backend?: string; env?: Record<string, string | undefined> } = {}): MemoryBudget {
  const env = opts.env ?? process.env;
  const machine = totalmem();
  const raw = env[MEMORY_LIMIT_ENV];
  let total: number;
  let totalLabel: string;
  if (raw !== undefined && raw.trim() !== '') {
    const parsed = parseByteSize(raw);
    if (parsed === undefined) {
      throw new UsageError(`${MEMORY_LIMIT_ENV}: expected a size such as 8GB, 512MiB or a number of bytes, got "${raw}"`, { field: MEMORY_LIMIT_ENV });
    }
    total = parsed;
    totalLabel = `the limit of ${formatBytes(total)} set by ${MEMORY_LIMIT_ENV}`;
  } else {
    total = Math.floor(machine * MEMORY_FRACTION);
    totalLabel = `this machine's limit of ${formatBytes(total)} (half of its ${formatBytes(machine)}; set ${MEMORY_LIMIT_ENV} to change it)`;
  }
  const wasm = opts.backend === 'wasm';
  return {
    total,
    totalLabel,
    tensors: wasm ? Math.min(total, WASM_HEAP_MAX) : total,
    tensorsLabel: wasm && WASM_HEAP_MAX < total ? `the wasm backend's limit of ${formatBytes(WASM_HEAP_MAX)} of tensors` : totalLabel,
    heap: heapFree(),
    maxArray: bufferConstants.MAX_LENGTH,
  };
}

/** Bytes the engine's heap can still grow by. */
function heapFree(): number {
  const h = getHeapStatistics();
  return h.heap_size_limit - h.used_heap_size;
}

/** Bytes of a task's data as created (its splits' host arrays). */
export function taskDataBytes(task: TaskInstance): number {
  let bytes = 0;
  for (const s of Object.values(task.splits)) bytes += s.x.byteLength + s.y.byteLength;
  return bytes;
}

/** The training settings the memory estimate depends on. */
export interface TrainingShape {
  batchSize: number;
  optimizer: string;
  momentum?: number;
}

/** Float32 copies of the parameters kept per optimiser: parameters and gradients, plus its state. */
export function parameterCopies(train: TrainingShape): number {
  const state = train.optimizer === 'adam' || train.optimizer === 'adamw' ? 2 : (train.momentum ?? 0) > 0 ? 1 : 0;
  return 2 + state;
}

/** Examples per forward pass when the trainer evaluates a split. */
const EVAL_BATCH = 1024;

/**
 * Tensor bytes training a model takes, roughly: the parameters, their gradients and the
 * optimiser's state (float32 each), activations of a batch (the widths of the model's weight
 * matrices per example, kept for the backward pass, and their gradients; a batch is at most the
 * train split), and a split's
 * predictions and targets when it is evaluated.
 */
export function trainingBytes(
  model: Pick<ModelInstance, 'specs' | 'paramCount'>,
  task: Pick<TaskInstance, 'inputShape' | 'outputSize' | 'splits'>,
  train: TrainingShape,
  /** Values one example produces in a forward pass, when the model's estimate says (default: the widths of its weight matrices). */
  perExample?: number,
) {
  const params = 4 * model.paramCount * parameterCopies(train);
  let width = sizeOf(task.inputShape);
  if (perExample !== undefined) width += perExample;
  else for (const s of model.specs) if (s.shape.length >= 2) width += s.shape[s.shape.length - 1];
  const largestSplit = Math.max(0, ...Object.values(task.splits).map((s) => s.n));
  const batch = Math.min(train.batchSize, task.splits.train.n);
  const activations = 4 * width * Math.max(2 * batch, Math.min(EVAL_BATCH, largestSplit)) + 4 * 2 * largestSplit * task.outputSize;
  return { bytes: params + activations, params, activations };
}
