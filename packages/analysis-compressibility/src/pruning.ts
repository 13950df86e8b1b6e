/** One compressible tensor: its name and where its values sit in the flat parameter vector. */
export interface Slot {
  name: string;
  offset: number;
  size: number;
  shape: number[];
}

/** Indices of `values[offset .. offset+size)` sorted by magnitude, smallest first (stable). */
function byMagnitude(values: Float32Array, slots: readonly Slot[]): Int32Array {
  const total = slots.reduce((s, t) => s + t.size, 0);
  const idx = new Int32Array(total);
  let k = 0;
  for (const s of slots) for (let i = 0; i < s.size; i++) idx[k++] = s.offset + i;
  return Int32Array.from(Array.from(idx).sort((a, b) => Math.abs(values[a]) - Math.abs(values[b]) || a - b));
}

/**
 * Magnitude pruning: a copy of the flat vector with the `round(sparsity·n)` smallest-magnitude
 * values among `slots` set to zero, counted over all slots at once (`global`) or within each slot
 * (`layer`). Values outside the slots are kept. Ties are broken by position, so exact zeros go
 * first and pruning a model whose weights are zero changes nothing.
 */
export function magnitudePrune(values: Float32Array, slots: readonly Slot[], sparsity: number, scope: 'global' | 'layer'): Float32Array {
  if (!(sparsity >= 0 && sparsity <= 1)) throw new RangeError(`magnitudePrune: sparsity must be in [0, 1], got ${sparsity}`);
  const out = Float32Array.from(values);
  const groups = scope === 'global' ? [slots] : slots.map((s) => [s]);
  for (const g of groups) {
    const order = byMagnitude(values, g);
    const k = Math.round(sparsity * order.length);
    for (let i = 0; i < k; i++) out[order[i]] = 0;
  }
  return out;
}

/** The fraction of values among `slots` that are exactly zero. */
export function sparsityOf(values: Float32Array, slots: readonly Slot[]): number {
  let zeros = 0;
  let n = 0;
  for (const s of slots) {
    for (let i = 0; i < s.size; i++) if (values[s.offset + i] === 0) zeros++;
    n += s.size;
  }
  return n === 0 ? 0 : zeros / n;
}
