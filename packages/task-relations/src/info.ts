/** Exact counting for the information threshold b = log₂(n!/|Aut G|) (docs/geneft-graphs.md). */

/** n! exactly. */
export function factorial(n: number): bigint {
  let f = 1n;
  for (let i = 2n; i <= BigInt(n); i++) f *= i;
  return f;
}

/** log₂ of a positive BigInt to double precision (the top 53 bits and the bit length). */
export function log2Big(x: bigint): number {
  if (x <= 0n) throw new RangeError(`log2Big: expected a positive integer, got ${x}`);
  const bits = x.toString(2).length;
  if (bits <= 53) return Math.log2(Number(x));
  const shift = bits - 53;
  return shift + Math.log2(Number(x >> BigInt(shift)));
}

/** Sizes of the residue classes of 0…n−1 mod k. */
export function classSizes(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, r) => Math.floor(n / k) + (r < n % k ? 1 : 0)).filter((s) => s > 0);
}

/**
 * |Aut| of a disjoint union of cliques with these sizes: ∏ₛ (s!)^{mₛ} · mₛ!, where mₛ classes have
 * size s (within-class permutations, then permutations of equal-size classes).
 */
export function cliqueUnionAut(sizes: readonly number[]): bigint {
  const mult = new Map<number, number>();
  for (const s of sizes) mult.set(s, (mult.get(s) ?? 0) + 1);
  let aut = 1n;
  for (const [s, m] of mult) aut *= factorial(s) ** BigInt(m) * factorial(m);
  return aut;
}

/** b = log₂(n!/|Aut|) in bits. */
export function informationBits(n: number, aut: bigint): number {
  return log2Big(factorial(n)) - log2Big(aut);
}

/** Shannon entropy in bits of a distribution given by counts. */
export function entropyBits(counts: Iterable<number>): number {
  const c = [...counts].filter((v) => v > 0);
  const total = c.reduce((a, b) => a + b, 0);
  return -c.reduce((h, v) => h + (v / total) * Math.log2(v / total), 0);
}
