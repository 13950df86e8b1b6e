/**
 * The k-statistics k₁..k₄ of a sample: the unique unbiased estimators of the cumulants κ₁..κ₄
 * (Fisher). Computed in float64 from central moments, so large means do not cost precision.
 * Needs at least 4 values.
 */
export function sampleCumulants(values: ArrayLike<number>): [number, number, number, number] {
  const n = values.length;
  if (n < 4) throw new RangeError(`sampleCumulants needs at least 4 values, got ${n}`);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  const k2 = (n / (n - 1)) * m2;
  const k3 = ((n * n) / ((n - 1) * (n - 2))) * m3;
  const k4 = ((n * n) * ((n + 1) * m4 - 3 * (n - 1) * m2 * m2)) / ((n - 1) * (n - 2) * (n - 3));
  return [mean, k2, k3, k4];
}

/**
 * Cumulants after `steps` applications of the block-sum map x′ = (1/√b) Σ_{block} x:
 * κₙ′ = b^(steps·(1 − n/2)) κₙ. Exact for i.i.d. inputs with κ₁ = 0 (κ₁ itself scales by
 * b^(steps/2), which is why the task standardises every distribution to zero mean).
 */
export function coarseGrainCumulants(kappa: readonly number[], block: number, steps = 1): number[] {
  if (!(block >= 1)) throw new RangeError(`block must be ≥ 1, got ${block}`);
  return kappa.map((k, i) => {
    const order = i + 1;
    return k * Math.pow(block, steps * (1 - order / 2));
  });
}
