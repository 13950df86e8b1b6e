/** Kolmogorov's asymptotic survival function Q(λ) = 2 Σ (−1)^{k−1} exp(−2k²λ²). */
function kolmogorovQ(lambda: number): number {
  if (lambda < 0.2) return 1;
  let s = 0;
  for (let k = 1; k <= 100; k++) s += 2 * (k % 2 ? 1 : -1) * Math.exp(-2 * k * k * lambda * lambda);
  return Math.min(1, Math.max(0, s));
}

/** One-sample KS test of `values` against U(lo, hi): the p-value. */
export function ksUniform(values: ArrayLike<number>, lo: number, hi: number): number {
  const v = Float64Array.from(values).sort();
  const n = v.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = (v[i] - lo) / (hi - lo);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  const sn = Math.sqrt(n);
  return kolmogorovQ((sn + 0.12 + 0.11 / sn) * d);
}

/** Two-sample KS test: the p-value. */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const t = Math.min(x[i], y[j]);
    while (i < x.length && x[i] <= t) i++;
    while (j < y.length && y[j] <= t) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  const ne = Math.sqrt((x.length * y.length) / (x.length + y.length));
  return kolmogorovQ((ne + 0.12 + 0.11 / ne) * d);
}
