/** log₂ of the binomial coefficient C(n, k), as a sum (exact up to rounding for any n). */
export function log2Binomial(n: number, k: number): number {
  if (!(Number.isInteger(n) && Number.isInteger(k) && k >= 0 && k <= n)) throw new RangeError(`log2Binomial: need integers 0 ≤ k ≤ n, got n=${n}, k=${k}`);
  const m = Math.min(k, n - k);
  let s = 0;
  for (let i = 1; i <= m; i++) s += Math.log2((n - m + i) / i);
  return s;
}

/** What the description-length estimate counts for one tensor. */
export interface TensorCode {
  name: string;
  size: number;
  nonzero: number;
  /** Bits per stored non-zero value (32 for tensors stored as float32). */
  bits: number;
}

/**
 * A two-part code length of the parameters, in bits: per tensor, the positions of its non-zero
 * values (log₂ C(n, nnz), or nothing when all are non-zero), nnz values at `bits` each, and a
 * 32-bit quantisation step when quantised (bits < 32).
 */
export function descriptionLength(tensors: readonly TensorCode[]): { bits: number; perTensor: { name: string; bits: number }[] } {
  const perTensor = tensors.map((t) => {
    const positions = t.nonzero === t.size ? 0 : log2Binomial(t.size, t.nonzero);
    const step = t.bits < 32 ? 32 : 0;
    return { name: t.name, bits: positions + t.nonzero * t.bits + step };
  });
  return { bits: perTensor.reduce((s, t) => s + t.bits, 0), perTensor };
}
