/** Timing summary of one case on one backend, in milliseconds. */
export interface Summary {
  median_ms: number;
  p10_ms: number;
  p90_ms: number;
  min_ms: number;
  reps: number;
}

/** Nearest-rank quantile of sorted values (the same rule as torch_bench.py). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantile of no samples');
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no samples');
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  return { median_ms: median(s), p10_ms: quantile(s, 0.1), p90_ms: quantile(s, 0.9), min_ms: s[0], reps: s.length };
}

/** Run `fn` `warmup` times untimed, then `reps` times timed; wall-clock milliseconds per call. */
export function timeIt(fn: () => void, warmup: number, reps: number): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** Ours over PyTorch's median (> 1: we are slower), rounded to 2 decimals; null when either is missing. */
export function ratio(ours: number | undefined, peer: number | undefined): number | null {
  if (ours === undefined || peer === undefined || !(peer > 0)) return null;
  return Math.round((ours / peer) * 100) / 100;
}
